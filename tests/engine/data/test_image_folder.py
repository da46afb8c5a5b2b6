"""Photo folders: a record per photo with a person, the rest reported with a reason."""

from dataclasses import dataclass

import numpy as np
import pytest

from engine.data.image_folder import load_image_folder
from engine.errors import DataError, JobCancelled, NoPersonError
from engine.image_io import save_image


@dataclass
class _Detection:
    keypoints: np.ndarray
    box: tuple
    mask: np.ndarray
    landmarks: np.ndarray
    score: float


class BrightPersonDetector:
    """Stands in for PoseDetector: a 'person' is the bright square drawn in a photo."""

    def __init__(self):
        self.calls = 0

    def detect(self, image, box=None):
        self.calls += 1
        ys, xs = np.nonzero(image[..., 0] > 128)
        if len(xs) == 0:
            raise NoPersonError("no person found in the image")
        kp = np.zeros((17, 3), np.float32)
        kp[:, 0], kp[:, 1], kp[:, 2] = xs.mean(), ys.mean(), 0.9
        return _Detection(kp, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1),
                          np.zeros(image.shape[:2], np.float32), np.ones((33, 4), np.float32), 0.8)


def _photo(path, square=None):
    img = np.zeros((60, 80, 3), np.uint8)
    if square:
        x, y = square
        img[y:y + 10, x:x + 10] = 255
    save_image(path, img)


def test_photos_with_a_person_become_records_the_rest_are_reported(tmp_path):
    _photo(tmp_path / "a.png", (20, 30))
    _photo(tmp_path / "b.jpg", (50, 5))
    _photo(tmp_path / "empty.png")
    (tmp_path / "broken.jpg").write_bytes(b"not really a jpeg")
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    events = []
    result = load_image_folder(tmp_path, BrightPersonDetector(), progress=events.append)
    assert [r.image_path for r in result.records] == [str(tmp_path / "a.png"), str(tmp_path / "b.jpg")]
    a = result.records[0]
    assert a.box.tolist() == [20, 30, 30, 40] and a.source == "detector"
    assert a.extra["landmarks"].shape == (33, 4) and float(a.extra["detection_score"]) == pytest.approx(0.8)
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
