"""2D person keypoints for a raw photo: BlazePose-full, detector then landmarks.

``PoseDetector.detect`` finds the strongest person (optionally inside a user box),
``PoseDetector.detect_all`` every person; each is cropped as a rotated square around
their body, the landmark model runs on it, and the 33 landmarks, the COCO-17 subset,
the world landmarks and the person mask are mapped back to full-image pixels.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.detect.activations import sigmoid
from engine.detect.keypoints import BLAZEPOSE_NAMES, BLAZEPOSE_TO_COCO17
from engine.detect.landmarker import Landmarker, LandmarkResult
from engine.detect.people import PhotoDetections, distinct_people, merge_candidates
from engine.detect.person_finder import ROI_SCALE, PersonCandidate, PersonFinder
from engine.detect.views import detector_views
from engine.detect.weights import find_model_files
from engine.errors import NoPersonError, ShapeError
from engine.image_io import load_image

log = logging.getLogger(__name__)

LEFT_EYE, RIGHT_EYE, MOUTH_LEFT, MOUTH_RIGHT = (
    BLAZEPOSE_NAMES.index(n) for n in ("left_eye", "right_eye", "mouth_left", "mouth_right")
)

MIN_DETECTION_SCORE = 0.5
MIN_POSE_SCORE = 0.5
# People whose box's longer side is under this many pixels are skipped by detect_all:
# the landmark model reads them from a handful of pixels and guesses.
MIN_PERSON_SIZE = 48.0
# Landmarks at least this visible span the person box; the padding stands in for the
# hair, hands and feet that reach past the outermost landmarks.
BOX_MIN_CONFIDENCE = 0.5
BOX_PADDING = 0.1
CROWN_FROM_EYES = 1.6
# With a user box, at least this share of the confident landmarks must fall inside it;
# otherwise the detector fired on a patch of background and the landmark crop drifted
# onto someone outside the box.
MIN_SHARE_IN_BOX = 0.25
# Under these a landmark is a missing keypoint (confidence 0): the model guesses where a
# hidden or out-of-crop point would be, and a guess must not weigh like a seen point.
# Presence runs low even for seen limbs near the crop's edge (the astronaut's elbow in
# plain view: 0.25), so its bar is as low as visibility's.
MIN_KEYPOINT_VISIBILITY = 0.2
MIN_KEYPOINT_PRESENCE = 0.2


@dataclass(frozen=True, eq=False)
class PersonDetection:
    """One person found in an image (arrays are read-only).

    keypoints: (17, 3) float32, COCO-17 order (``COCO17_NAMES``): x, y in full-image
        pixels, confidence in [0, 1]: the landmark's visibility, or 0 where it lies
        outside the image or its visibility or presence is under 0.2 (a missing
        keypoint).
    box: x0, y0, x1, y1 in full-image pixels around the confident landmarks and the
        estimated top of the head, padded by 10 % of its size on each side and
        clipped to the image.
    mask: (H, W) float32 in [0, 1], person probability over the full image.
    landmarks: (33, 4) float32, BlazePose order: x, y (px), z (px, same scale as x,
        depth relative to the hips, negative towards the camera), confidence in [0, 1]
        as the keypoints'.
    score: the person detector's confidence in [0, 1].
    world_landmarks: (33, 3) float32 metres, BlazePose order, origin at the hip
        midpoint, camera axes (x right, y down, z away).
    landmark_visibility: (33,) float32 in [0, 1], the model's probability that each
        landmark is visible (not occluded), sigmoid of its logit.
    landmark_presence: (33,) float32 in [0, 1], the model's probability that each
        landmark is inside the crop, sigmoid of its logit.
    """

    keypoints: np.ndarray
    box: tuple[float, float, float, float]
    mask: np.ndarray
    landmarks: np.ndarray
    score: float
    world_landmarks: np.ndarray
    landmark_visibility: np.ndarray
    landmark_presence: np.ndarray


def _check_image(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ShapeError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise ShapeError(f"image must be (H, W, 3) RGB, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ShapeError(f"image must be uint8, got {image.dtype}")
    return np.ascontiguousarray(image)


def _check_box(box: Sequence[float] | np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The integer pixel region of a user box, clipped to the image."""
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ShapeError(f"box must be four numbers x0, y0, x1, y1, got {box!r}") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ShapeError(f"box has non-finite values: {box!r}")
    ix0, iy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    ix1, iy1 = min(width, math.ceil(x1)), min(height, math.ceil(y1))
    if ix1 - ix0 < 2 or iy1 - iy0 < 2:
        raise ShapeError(
            f"box {box!r} is empty or outside the {width}x{height} image"
        )
    return ix0, iy0, ix1, iy1


def _check_thresholds(min_size: object, min_score: object) -> tuple[float, float]:
    try:
        size, score = float(min_size), float(min_score)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ShapeError(f"min_size and min_score must be numbers, got {min_size!r}, {min_score!r}") from None
    if not (math.isfinite(size) and size >= 0):
        raise ShapeError(f"min_size must be a number of pixels >= 0, got {min_size!r}")
    if not 0 <= score <= 1:
        raise ShapeError(f"min_score must be in [0, 1], got {min_score!r}")
    return size, score


def _crown(landmarks: np.ndarray) -> np.ndarray | None:
    """Estimated top of the head, (2,) pixels, or None when the face is not seen.

    BlazePose has no point above the eyes; the crown lies about 1.6 eye-to-mouth
    distances beyond the eyes (the eyes sit half-way up the head), along the face's own
    up direction, so the box does not cut the head off.
    """
    face = landmarks[[LEFT_EYE, RIGHT_EYE, MOUTH_LEFT, MOUTH_RIGHT]]
    if face[:, 3].min() < BOX_MIN_CONFIDENCE:
        return None
    eyes, mouth = face[:2, :2].mean(axis=0), face[2:, :2].mean(axis=0)
    return eyes + CROWN_FROM_EYES * (eyes - mouth)


def person_box(
    landmarks: np.ndarray, width: int, height: int, presence: np.ndarray | None = None
) -> tuple[float, float, float, float]:
    """Padded box around the person's landmarks and the crown, clipped to the image.

    The landmarks that count are the confident ones and, with ``presence``, those the
    model places in its crop though hidden (behind another person, say), so the box
    covers the body's likely extent in the image and not only what is seen.

    Args:
        landmarks: (33, 4) x, y (px), z, confidence in [0, 1].
        presence: (33,) in [0, 1], or None.
    """
    counted = landmarks[:, 3] >= BOX_MIN_CONFIDENCE
    if presence is not None:
        counted |= presence >= BOX_MIN_CONFIDENCE
    pts = landmarks[counted, :2]
    if len(pts) < 2:
        pts = landmarks[:, :2]
    crown = _crown(landmarks)
    if crown is not None:
        pts = np.vstack([pts, crown])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = (hi - lo) * BOX_PADDING
    lo = np.clip(lo - pad, 0, [width, height])
    hi = np.clip(hi + pad, 0, [width, height])
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _share_in_region(landmarks: np.ndarray, region: tuple[int, int, int, int]) -> float:
    """Share of the confident landmarks (33, 4: x, y, z, visibility) inside a region
    grown by the box padding on each side."""
    x0, y0, x1, y1 = region
    mx, my = (x1 - x0) * BOX_PADDING, (y1 - y0) * BOX_PADDING
    pts = landmarks[landmarks[:, 3] >= BOX_MIN_CONFIDENCE, :2]
    if len(pts) == 0:
        return 0.0
    inside_x = (pts[:, 0] >= x0 - mx) & (pts[:, 0] <= x1 + mx)
    inside_y = (pts[:, 1] >= y0 - my) & (pts[:, 1] <= y1 + my)
    inside = inside_x & inside_y
    return float(inside.mean())


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float32)
    a.setflags(write=False)
    return a


class PoseDetector:
    """BlazePose-full on two TFLite interpreters, built once and reused across calls.

    Calls are serialised by a lock, so one instance can be shared between threads.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        num_threads: int = 2,
        min_size: float = MIN_PERSON_SIZE,
        min_score: float = MIN_DETECTION_SCORE,
    ) -> None:
        """
        Args:
            model_dir: folder holding ``pose_detection.tflite`` and
                ``pose_landmark_full.tflite``; None uses the installed mediapipe wheel.
            num_threads: CPU threads each interpreter may use.
            min_size, min_score: :meth:`detect_all`'s thresholds when a call gives none
                (so code that only passes a detector along gets the user's choice).

        Raises:
            DetectorError: the weights are missing (the message names the pip command).
            ShapeError: a threshold is invalid.
        """
        self.min_size, self.min_score = _check_thresholds(min_size, min_score)
        files = find_model_files(model_dir)
        self.finder = PersonFinder(files.detector, num_threads, MIN_DETECTION_SCORE)
        self.landmarker = Landmarker(files.landmarks, num_threads)
        self._lock = threading.Lock()
        log.debug("pose detector loaded from %s and %s", files.detector, files.landmarks)

    def detect(
        self, image: np.ndarray, box: tuple[float, float, float, float] | None = None
    ) -> PersonDetection:
        """Keypoints, box and mask of the most confident person.

        Args:
            image: (H, W, 3) uint8 RGB.
            box: x0, y0, x1, y1 in pixels; only this region is searched for the person
                (to pick one in a group photo). Landmarks may still reach outside it.

        Raises:
            ShapeError: ``image`` is not (H, W, 3) uint8, or ``box`` is malformed or
                outside the image.
            NoPersonError: nobody was found.
        """
        image = _check_image(image)
        h, w = image.shape[:2]
        region = _check_box(box, w, h) if box is not None else None
        with self._lock:
            candidate = self.finder.find(image, region)
            if candidate is None:
                where = f"box {box!r}" if box is not None else "the image"
                raise NoPersonError(f"no person found in {where}")
            result = self.landmarker.run(image, candidate.square)
        if result.pose_score < MIN_POSE_SCORE:
            raise NoPersonError(
                f"no person confirmed in the crop (pose score {result.pose_score:.2f})"
            )
        detection = self._assemble(candidate, result, w, h)
        if region is not None and _share_in_region(detection.landmarks, region) < MIN_SHARE_IN_BOX:
            raise NoPersonError(f"no person found in box {box!r} (the pose found lies outside it)")
        return detection

    def detect_all(
        self,
        image: np.ndarray,
        min_size: float | None = None,
        min_score: float | None = None,
    ) -> PhotoDetections:
        """Every person in the image, largest box first.

        The detector runs on the whole image and on overlapping tiles of wide or large
        photos (``engine.detect.views``); repeated detections are merged, the landmark
        model runs on each person's rotated square, and crops that drifted onto a body
        already found are dropped. People cut by the frame or by another person stay:
        their hidden landmarks have confidence 0.

        Args:
            image: (H, W, 3) uint8 RGB.
            min_size: people whose box's longer side is under this (px) are counted in
                ``too_small`` and skipped (None: the detector's own, 48 by default).
            min_score: the detector's confidence a person needs, in [0, 1] (None: the
                detector's own, 0.5 by default).

        Raises:
            ShapeError: ``image`` is not (H, W, 3) uint8, or a threshold is invalid.
            NoPersonError: nobody of at least ``min_size`` was found (the message
                counts the smaller people skipped).
        """
        image = _check_image(image)
        min_size, min_score = _check_thresholds(
            self.min_size if min_size is None else min_size,
            self.min_score if min_score is None else min_score,
        )
        h, w = image.shape[:2]
        found: list[PersonDetection] = []
        too_small = 0
        with self._lock:
            candidates = [
                c for view in detector_views(w, h) for c in self.finder.find_all(image, view, min_score)
            ]
            for candidate in merge_candidates(candidates):
                if candidate.square.size / ROI_SCALE < min_size:
                    too_small += 1
                    continue
                result = self.landmarker.run(image, candidate.square)
                if result.pose_score >= MIN_POSE_SCORE:
                    found.append(self._assemble(candidate, result, w, h))
        persons = []
        for d in distinct_people(found):
            x0, y0, x1, y1 = d.box
            if min(x1 - x0, y1 - y0) <= 0 or max(x1 - x0, y1 - y0) < min_size:
                too_small += 1
            else:
                persons.append(d)
        if not persons:
            skipped = f" ({too_small} smaller than {min_size:g} px skipped)" if too_small else ""
            raise NoPersonError(f"no person found in the image{skipped}")
        return PhotoDetections(tuple(persons), too_small)

    @staticmethod
    def _assemble(
        candidate: PersonCandidate, result: LandmarkResult, width: int, height: int
    ) -> PersonDetection:
        landmarks = result.landmarks.copy()
        visibility = sigmoid(landmarks[:, 3])
        presence = sigmoid(result.presence)
        x, y = landmarks[:, 0], landmarks[:, 1]
        seen = (
            (x >= 0) & (x < width) & (y >= 0) & (y < height)
            & (visibility >= MIN_KEYPOINT_VISIBILITY) & (presence >= MIN_KEYPOINT_PRESENCE)
        )
        landmarks[:, 3] = np.where(seen, visibility, 0.0)
        keypoints = landmarks[list(BLAZEPOSE_TO_COCO17)][:, [0, 1, 3]]
        return PersonDetection(
            keypoints=_frozen(keypoints),
            box=person_box(landmarks, width, height, presence),
            mask=_frozen(result.mask),
            landmarks=_frozen(landmarks),
            score=candidate.score,
            world_landmarks=_frozen(result.world),
            landmark_visibility=_frozen(visibility),
            landmark_presence=_frozen(presence),
        )


def detect_all_file(
    path: str | Path,
    detector: PoseDetector | None = None,
    min_size: float | None = None,
    min_score: float | None = None,
) -> PhotoDetections:
    """Load an image file and detect every person in it (see
    :meth:`PoseDetector.detect_all`); errors name the file."""
    image = load_image(path)
    detector = detector or PoseDetector()
    try:
        return detector.detect_all(image, min_size, min_score)
    except (NoPersonError, ShapeError) as err:
        raise type(err)(f"{path}: {err}") from None


def detect_file(
    path: str | Path,
    box: tuple[float, float, float, float] | None = None,
    detector: PoseDetector | None = None,
) -> PersonDetection:
    """Load an image file and detect the person in it.

    Args:
        path: any image OpenCV reads.
        box: optional x0, y0, x1, y1 search region in pixels.
        detector: a loaded detector to reuse; a new one is built when None.

    Raises:
        ImageError: the file is missing or not an image.
        NoPersonError, ShapeError: as :meth:`PoseDetector.detect`, naming the file.
        DetectorError: the weights are missing.
    """
    image = load_image(path)
    detector = detector or PoseDetector()
    try:
        return detector.detect(image, box)
    except (NoPersonError, ShapeError) as err:
        raise type(err)(f"{path}: {err}") from None
