"""BlazePose person keypoints on real photos (scikit-image's astronaut and others)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from engine.detect import (
    BLAZEPOSE_TO_COCO17,
    COCO17_NAMES,
    PersonDetection,
    PoseDetector,
    detect_file,
)
from engine.detect.weights import find_model_files
from engine.errors import DetectorError, ImageError, NoPersonError, ShapeError
from engine.image_io import save_image

K = {name: i for i, name in enumerate(COCO17_NAMES)}


@pytest.fixture(scope="module")
def detector() -> PoseDetector:
    return PoseDetector()


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()  # 512 x 512, a woman facing the camera, cut at the waist


@pytest.fixture(scope="module")
def found(detector: PoseDetector, astronaut: np.ndarray) -> PersonDetection:
    return detector.detect(astronaut)


def test_astronaut_face_and_shoulders(found: PersonDetection) -> None:
    kp = found.keypoints
    assert kp.shape == (17, 3) and kp.dtype == np.float32
    nose = kp[K["nose"]]
    # Her face spans about x 165-290, y 55-175; the nose tip sits near (222, 128).
    assert 180 < nose[0] < 270 and 90 < nose[1] < 170
    for name in ("nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder"):
        assert kp[K[name], 2] > 0.9, name
    assert kp[K["left_eye"], 1] < nose[1] and kp[K["right_eye"], 1] < nose[1]
    # She faces the camera, so her left side is on the image's right.
    assert kp[K["left_eye"], 0] > kp[K["right_eye"], 0]
    assert kp[K["left_shoulder"], 0] > kp[K["right_shoulder"], 0] + 120
    for side in ("left", "right"):
        shoulder, elbow, wrist = (kp[K[f"{side}_{j}"]] for j in ("shoulder", "elbow", "wrist"))
        assert shoulder[1] > nose[1] + 60
        assert elbow[1] > shoulder[1] + 50
        assert wrist[1] > elbow[1]
    # Her legs are out of the picture: the detector must not be sure of them.
    for name in ("left_knee", "right_knee", "left_ankle", "right_ankle"):
        assert kp[K[name], 2] < 0.2, name
    assert 0.5 <= found.score <= 1.0


def test_astronaut_box_and_landmarks(found: PersonDetection) -> None:
    x0, y0, x1, y1 = found.box
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
    for name in ("nose", "left_shoulder", "right_shoulder"):
        x, y, _ = found.keypoints[K[name]]
        assert x0 < x < x1 and y0 < y < y1, name
    assert y0 < 40  # the top of her head (hair from y 20) is not cut off
    assert x1 - x0 < 330  # but the box does not swallow the flag and the shuttle
    assert found.landmarks.shape == (33, 4)
    np.testing.assert_array_equal(
        found.keypoints, found.landmarks[list(BLAZEPOSE_TO_COCO17)][:, [0, 1, 3]]
    )
    assert not found.keypoints.flags.writeable


def test_astronaut_mask(found: PersonDetection) -> None:
    m = found.mask
    assert m.shape == (512, 512) and m.dtype == np.float32
    assert m.min() >= 0 and m.max() <= 1
    assert m[100:150, 200:250].mean() > 0.9  # her face
    assert m[0:40, 0:60].mean() < 0.1  # the flag, top left
    assert m[50:250, 380:480].mean() < 0.1  # the shuttle model
    assert m[380:500, 300:480].mean() < 0.2  # the helmet she holds is not her


def test_detection_follows_rotation(detector: PoseDetector, astronaut: np.ndarray, found) -> None:
    turned = detector.detect(np.ascontiguousarray(np.rot90(astronaut)))
    x, y = turned.keypoints[:, 0], turned.keypoints[:, 1]
    back = np.stack([512 - y, x], axis=1)  # undo the quarter turn
    face = [K[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
    err = np.linalg.norm(back[face] - found.keypoints[face, :2], axis=1)
    assert err.max() < 15


def test_box_picks_the_person(detector: PoseDetector, astronaut: np.ndarray) -> None:
    pair = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)  # 512 x 1024, two people
    left = detector.detect(pair, box=(0, 0, 512, 512))
    right = detector.detect(pair, box=(512, 0, 1024, 512))
    assert left.keypoints[K["nose"], 0] < 512 < right.keypoints[K["nose"], 0]
    # The mirrored copy's nose is where the mirror puts the original's.
    assert abs((1024 - right.keypoints[K["nose"], 0]) - left.keypoints[K["nose"], 0]) < 15
    assert right.mask.shape == (512, 1024)
    assert right.mask[100:150, 200:250].mean() < 0.1 < right.mask[100:150, 774:824].mean()
    with pytest.raises(NoPersonError, match="box"):
        detector.detect(pair, box=(380, 0, 512, 150))  # only the shuttle model


@pytest.mark.parametrize(
    "image",
    [
        np.full((300, 400, 3), 128, np.uint8),
        data.coffee(),
        np.stack([data.brick()] * 3, axis=-1),
        data.chelsea(),
    ],
    ids=["grey", "coffee", "brick", "cat"],
)
def test_no_person(detector: PoseDetector, image: np.ndarray) -> None:
    with pytest.raises(NoPersonError):
        detector.detect(image)


def test_missing_weights_name_the_install(tmp_path) -> None:
    with pytest.raises(DetectorError, match=r"pip install --no-deps mediapipe==0\.10\.14"):
        PoseDetector(model_dir=tmp_path)


def test_corrupt_weights_name_the_file(tmp_path) -> None:
    files = find_model_files()
    (tmp_path / files.detector.name).write_bytes(b"not a model")
    (tmp_path / files.landmarks.name).symlink_to(files.landmarks)
    with pytest.raises(DetectorError, match="pose_detection.tflite"):
        PoseDetector(model_dir=tmp_path)


def test_model_dir_with_the_files(detector: PoseDetector, astronaut, found, tmp_path) -> None:
    files = find_model_files()
    (tmp_path / files.detector.name).symlink_to(files.detector)
    (tmp_path / files.landmarks.name).symlink_to(files.landmarks)
    again = PoseDetector(model_dir=tmp_path, num_threads=1).detect(astronaut)
    np.testing.assert_allclose(again.keypoints, found.keypoints, atol=1e-3)


def test_detect_file(detector: PoseDetector, astronaut, found, tmp_path) -> None:
    path = tmp_path / "astronaut.png"
    save_image(path, astronaut)
    from_file = detect_file(path, detector=detector)
    np.testing.assert_allclose(from_file.keypoints, found.keypoints, atol=1e-3)

    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    with pytest.raises(ImageError, match="notes.png"):
        detect_file(notes, detector=detector)
    grey = tmp_path / "grey.png"
    save_image(grey, np.full((64, 64, 3), 90, np.uint8))
    with pytest.raises(NoPersonError, match="grey.png"):
        detect_file(grey, detector=detector)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((64, 64), np.uint8),
        np.zeros((64, 64, 4), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        [[0, 0, 0]],
    ],
    ids=["grey-2d", "rgba", "float", "list"],
)
def test_bad_image_array(detector: PoseDetector, image) -> None:
    with pytest.raises(ShapeError):
        detector.detect(image)


@pytest.mark.parametrize(
    "box", [(600, 0, 700, 100), (10, 10, 10, 50), (0, 0, float("nan"), 100), (0, 0, 100)]
)
def test_bad_box(detector: PoseDetector, astronaut, box) -> None:
    with pytest.raises(ShapeError):
        detector.detect(astronaut, box=box)


def test_astronaut_world_landmarks(found: PersonDetection) -> None:
    w = found.world_landmarks
    assert w.shape == (33, 3) and w.dtype == np.float32 and not w.flags.writeable
    hips = w[[23, 24]].mean(axis=0)
    assert np.abs(hips).max() < 0.05  # origin at the hip midpoint
    nose, l_sh, r_sh = w[0], w[11], w[12]
    assert -0.8 < nose[1] < -0.4  # the head is up (y down), about half a metre above the hips
    assert 0.25 < np.linalg.norm(l_sh - r_sh) < 0.5  # shoulder width in metres
    assert l_sh[0] > r_sh[0]  # she faces the camera: her left on the image's right
    vis, pres = found.landmark_visibility, found.landmark_presence
    assert vis.shape == pres.shape == (33,)
    assert vis[0] > 0.9 and pres[0] > 0.9 and vis[27] < 0.2  # face seen, ankles not


def test_world_landmarks_follow_rotation(detector: PoseDetector, astronaut, found) -> None:
    turned = detector.detect(np.ascontiguousarray(np.rot90(astronaut))).world_landmarks
    # A quarter turn to the left sends the camera's (x, y) to (y, -x); depth is kept.
    back = np.stack([-turned[:, 1], turned[:, 0], turned[:, 2]], axis=1)
    upper = [0, 2, 5, 7, 8, 11, 12]
    assert np.abs(back[upper] - found.world_landmarks[upper]).max() < 0.08


def test_missing_keypoints_have_no_confidence(found: PersonDetection) -> None:
    lm = found.landmarks
    outside = lm[:, 1] >= 512
    assert outside.any()  # her feet would be below the frame
    assert (lm[outside, 3] == 0).all()
    low = (found.landmark_visibility < 0.2) | (found.landmark_presence < 0.2)
    assert (lm[low, 3] == 0).all()
    seen = ~outside & ~low
    np.testing.assert_array_equal(lm[seen, 3], found.landmark_visibility[seen])
