"""``adhmr fit PHOTO...``: every person of each photo fitted, written as fit.npz / fit.json."""

import json

import numpy as np
import pytest
from skimage import data

from engine.cli import main
from engine.image_io import save_image


def test_adhmr_fit_writes_the_fits_of_a_photo_and_names_a_photo_without_people(tmp_path, capsys):
    photo, empty = tmp_path / "astronaut.png", tmp_path / "wall.png"
    save_image(photo, data.astronaut())
    save_image(empty, np.full((240, 320, 3), 128, np.uint8))
    out = tmp_path / "fits"
    assert main(["fit", str(photo), str(empty), "--out", str(out), "--steps", "60"]) == 0
    printed = capsys.readouterr().out
    assert "astronaut.png: fitted 1 people" in printed and "no person" in printed and "wall.png" in printed
    doc = json.loads((out / "astronaut" / "fit.json").read_text())
    (person,) = doc["persons"]
    assert person["world_landmarks"] is True and person["reprojection_px"] < 25
    with np.load(out / "astronaut" / "fit.npz") as z:
        assert z["params"].shape == (1, 157) and z["pose"].shape == (1, 72) and np.isfinite(z["params"]).all()
        seen = z["detected_keypoints_px"][0, :, 2] > 0.5
        err = np.linalg.norm(z["keypoints_px"][0, seen] - z["detected_keypoints_px"][0, seen, :2], axis=-1)
        assert err.mean() == pytest.approx(person["reprojection_px"], rel=0.5)
    assert not (out / "wall").exists()
    assert main(["fit", str(empty), "--out", str(out)]) == 1
    with pytest.raises(SystemExit) as usage:
        main(["fit", str(photo)])
    assert usage.value.code == 2
