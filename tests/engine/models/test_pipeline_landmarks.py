"""A photo sampled with a detector-conditioned model: the detector's landmarks reach the
model, are kept in candidates.npz, and `adhmr score` reads them back (or refuses them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from engine.cli import main as cli_main
from engine.image_io import save_image
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.pipeline import sample_image, write_sample_outputs
from engine.models.sample_settings import SampleSettings


@pytest.fixture(scope="module")
def model(body):
    torch.manual_seed(0)
    m = DiffusionHMR({"crop_size": 64, "width": 32, "layers": 1, "heads": 2, "detector_inputs": True}, body=body)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return m.eval()


def test_the_detection_landmarks_are_read_kept_and_scored_again(model, body, tmp_path, capsys):
    image = data.astronaut()
    result = sample_image(image, model, SampleSettings(num_candidates=4), body=body)
    assert result.detection is not None and result.landmarks is not None
    np.testing.assert_allclose(result.landmarks[:, :3], result.detection.world_landmarks)
    # Without the landmarks the same model samples something else: they reached it.
    blind = sample_image(image, model, SampleSettings(num_candidates=4), body=body,
                         keypoints=np.asarray(result.detection.keypoints), box=result.detection.box)
    assert blind.landmarks is None
    assert not torch.allclose(blind.candidates.params, result.candidates.params)

    paths = write_sample_outputs(result, tmp_path / "out", faces=body.faces)
    with np.load(paths["npz"]) as z:
        np.testing.assert_allclose(z["landmarks"], result.landmarks)
    photo = tmp_path / "astronaut.png"
    save_image(photo, image)
    assert cli_main(["score", str(paths["npz"]), "--photo", str(photo), "--device", "cpu"]) == 0

    with np.load(paths["npz"]) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["landmarks"] = arrays["landmarks"][:17]
    np.savez(paths["npz"], **arrays)
    capsys.readouterr()
    assert cli_main(["score", str(paths["npz"]), "--photo", str(photo), "--device", "cpu"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "'landmarks' must be finite (33, 6)" in err
