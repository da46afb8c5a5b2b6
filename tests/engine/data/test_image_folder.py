"""Photo folders: a record per person found, photos without one reported with a reason."""

from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from engine.data.image_folder import load_image_folder
from engine.data.masks import decode_mask
from engine.detect import PhotoDetections
from engine.errors import DataError, JobCancelled, NoPersonError
from engine.image_io import save_image


@dataclass
class _Detection:
    keypoints: np.ndarray
    box: tuple
    mask: np.ndarray
    landmarks: np.ndarray
    score: float
    world_landmarks: np.ndarray
    landmark_visibility: np.ndarray
    landmark_presence: np.ndarray


class BrightPersonDetector:
    """Stands in for PoseDetector: a 'person' is each bright square drawn in a photo."""

    def __init__(self):
        self.calls = 0

    def detect_all(self, image):
        self.calls += 1
        n, labels = cv2.connectedComponents((image[..., 0] > 128).astype(np.uint8))
        if n == 1:
            raise NoPersonError("no person found in the image")
        persons = []
        for k in range(1, n):
            ys, xs = np.nonzero(labels == k)
            kp = np.zeros((17, 3), np.float32)
            kp[:, 0], kp[:, 1], kp[:, 2] = xs.mean(), ys.mean(), 0.9
            persons.append(_Detection(
                kp, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1),
                (labels == k).astype(np.float32), np.ones((33, 4), np.float32), 0.8,
                np.zeros((33, 3), np.float32), np.full(33, 0.5, np.float32), np.ones(33, np.float32),
            ))
        return PhotoDetections(tuple(persons), 0)


def _photo(path, *squares):
    img = np.zeros((60, 80, 3), np.uint8)
    for x, y in squares:
        img[y:y + 10, x:x + 10] = 255
    save_image(path, img)


def test_photos_with_a_person_become_records_the_rest_are_reported(tmp_path):
    _photo(tmp_path / "a.png", (20, 30))
    _photo(tmp_path / "b.jpg", (50, 5), (5, 40))
    _photo(tmp_path / "empty.png")
    (tmp_path / "broken.jpg").write_bytes(b"not really a jpeg")
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    events = []
    result = load_image_folder(tmp_path, BrightPersonDetector(), progress=events.append)
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.jpg")
    assert [r.image_path for r in result.records] == [a, b, b]  # one record per person
    a = result.records[0]
    assert a.box.tolist() == [20, 30, 30, 40] and a.source == "detector"
    assert a.extra["landmarks"].shape == (33, 4) and float(a.extra["detection_score"]) == pytest.approx(0.8)
    assert a.world_landmarks.shape == (33, 3) and a.landmark_visibility[0] == 0.5
    mask = decode_mask(a.mask)
    assert mask.shape == (60, 80) and mask[30:40, 20:30].min() == 1 and mask.sum() == 100
    reasons = dict(result.rejected)
    assert "no person" in reasons[str(tmp_path / "empty.png")]
    assert "not a readable image" in reasons[str(tmp_path / "broken.jpg")]
    assert len(events) == 4 and events[-1].fraction == 1.0


def test_cancelling_stops_before_the_next_photo(tmp_path):
    for i in range(3):
        _photo(tmp_path / f"{i}.png", (10, 10))
    detector = BrightPersonDetector()
    with pytest.raises(JobCancelled):
        load_image_folder(tmp_path, detector, should_cancel=lambda: detector.calls >= 1)
    assert detector.calls == 1


def test_a_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load_image_folder(tmp_path / "nope", BrightPersonDetector())
