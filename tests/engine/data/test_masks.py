"""Person masks as PNG bytes, and the detector fields of PersonSample."""

import numpy as np
import pytest

from engine.data.masks import decode_mask, encode_mask
from engine.data.records import PersonSample
from engine.errors import DataError, ShapeError


def test_mask_round_trip_to_a_255th() -> None:
    rng = np.random.default_rng(0)
    p = np.zeros((120, 200), np.float32)
    p[30:90, 50:110] = rng.random((60, 60))
    png = encode_mask(p)
    back = decode_mask(png)
    assert back.shape == (120, 200) and back.dtype == np.float32
    assert np.abs(back - p).max() <= 0.5 / 255 + 1e-6
    assert len(png) < p.nbytes / 4  # mostly background: compresses well


def test_bad_masks() -> None:
    with pytest.raises(ShapeError):
        encode_mask(np.zeros((3, 4, 2)))
    with pytest.raises(DataError, match="not PNG"):
        decode_mask(b"GIF89a....")


def test_person_sample_detector_fields() -> None:
    base = dict(image_path="a.png", box=np.array([0, 0, 10, 20]), keypoints=np.zeros((17, 3)))
    png = encode_mask(np.ones((20, 10)))
    r = PersonSample(**base, world_landmarks=np.zeros((33, 3)), landmark_visibility=np.full(33, 0.5),
                     landmark_presence=np.ones(33), mask=png)
    assert r.world_landmarks.dtype == np.float32 and not r.world_landmarks.flags.writeable
    assert r.equals(r.replace()) and not r.equals(r.replace(mask=None))
    with pytest.raises(ShapeError):
        PersonSample(**base, world_landmarks=np.zeros((17, 3)))
    with pytest.raises(DataError, match="landmark_presence"):
        PersonSample(**base, landmark_presence=np.full(33, 1.5))
    with pytest.raises(DataError, match="mask"):
        PersonSample(**base, mask=b"raw bytes")
