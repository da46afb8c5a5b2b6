"""The fit as a candidate: appended after the sampled ones, scored with them, marked as such."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from skimage import data

import engine.models.scorer as scorer_module
from engine.cli import main
from engine.detect import PoseDetector
from engine.errors import ShapeError
from engine.fitting import fit_people, refine_candidates
from engine.image_io import save_image
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.pipeline import sample_image
from engine.models.sample_settings import SampleSettings
from engine.models.scorer import HMRScorer, ScorerConfig

TINY = {"crop_size": 64, "width": 32, "layers": 1, "heads": 2}


@pytest.fixture(scope="module")
def astronaut():
    image = data.astronaut()
    return image, PoseDetector().detect(image)


@pytest.fixture(scope="module")
def tiny(body):
    torch.manual_seed(0)
    return DiffusionHMR(TINY, body=body).eval()


def test_the_fit_is_scored_with_the_sampled_candidates(astronaut, tiny, body):
    image, det = astronaut
    fit = fit_people(det.keypoints[None], np.asarray(det.box)[None], body,
                     world_landmarks=np.asarray(det.world_landmarks)[None])
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4)).eval()
    settings = SampleSettings(num_candidates=3, seed=1)
    result = sample_image(image, tiny, settings, box=tuple(det.box), keypoints=det.keypoints, scorer=scorer,
                          body=body, extra=(("fit", fit.result.params[0].numpy()),))
    c = result.candidates
    assert c.num_hypotheses == 4 and [result.source(m) for m in range(4)] == ["sampled"] * 3 + ["fit"]
    torch.testing.assert_close(c.params[0, 3], fit.result.params[0])
    assert c.scores.shape == (1, 4) and torch.isfinite(c.scores).all()
    # The fit lands on the detected keypoints (in the photo's pixels).
    seen = det.keypoints[:, 2] > 0.5
    err = np.linalg.norm(c.keypoints_px[0, 3].numpy()[seen] - det.keypoints[seen, :2], axis=-1)
    assert err.mean() < 0.05 * max(det.box[2] - det.box[0], det.box[3] - det.box[1]), err
    # By default the samples start from the fit; with fit_start 0 they are what sampling
    # alone gives, and the fit is only appended.
    alone = sample_image(image, tiny, settings, box=tuple(det.box), keypoints=det.keypoints, body=body)
    assert not torch.allclose(alone.candidates.params[0], c.params[0, :3])
    appended = sample_image(image, tiny, replace(settings, fit_start=0.0), box=tuple(det.box),
                            keypoints=det.keypoints, body=body, extra=(("fit", fit.result.params[0].numpy()),))
    torch.testing.assert_close(alone.candidates.params[0], appended.candidates.params[0, :3])


def test_adhmr_sample_adds_the_fit_unless_told_not_to(astronaut, tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(scorer_module, "DEFAULT_SCORER_PATH", tmp_path / "no_scorer")
    tiny.save(tmp_path / "tiny")
    photo = tmp_path / "astronaut.png"
    save_image(photo, astronaut[0])
    base = ["sample", str(photo), "-M", "3", "--checkpoint", str(tmp_path / "tiny")]
    assert main([*base, "--out", str(tmp_path / "with")]) == 0
    assert "the body fit is candidate #3" in capsys.readouterr().out
    doc = json.loads((tmp_path / "with" / "candidates.json").read_text())
    assert doc["num_hypotheses"] == 4 and doc["extra_indices"] == {"fit": 3}
    assert [e["source"] for e in doc["candidates"]] == ["sampled"] * 3 + ["fit"]
    with np.load(tmp_path / "with" / "candidates.npz") as z:
        assert z["params"].shape == (4, 157)
    assert main([*base, "--no-fit", "--out", str(tmp_path / "without")]) == 0
    assert "body fit" not in capsys.readouterr().out
    doc = json.loads((tmp_path / "without" / "candidates.json").read_text())
    assert doc["num_hypotheses"] == 3 and doc["extra_indices"] == {}


def test_refining_sampled_candidates_brings_them_onto_the_keypoints(astronaut, body):
    image, det = astronaut
    base = DiffusionHMR.load(None, body=body)  # the bundled base model's candidates
    result = sample_image(image, base, SampleSettings(num_candidates=2, seed=3), box=tuple(det.box),
                          keypoints=det.keypoints, body=body)
    c = result.candidates
    kp = np.repeat(det.keypoints[None], 2, axis=0)
    centre = np.repeat(result.crop.center[None], 2, axis=0)
    size = np.full(2, result.crop.size)
    refined = refine_candidates(c.params[0], kp, centre, size, body, steps=40).candidates(body, with_vertices=False)
    seen = det.keypoints[:, 2] > 0.5

    def error(cands):
        return np.linalg.norm(cands.keypoints_px[:, 0].numpy()[:, seen] - det.keypoints[seen, :2], axis=-1).mean(-1)

    before = np.linalg.norm(c.keypoints_px[0].numpy()[:, seen] - det.keypoints[seen, :2], axis=-1).mean(-1)
    assert (error(refined) < before / 2).all(), (before, error(refined))


def test_a_focal_length_that_is_not_positive_is_refused_in_one_line(astronaut, body):
    _, detection = astronaut
    kp, box = np.asarray(detection.keypoints)[None], np.array([detection.box])
    with pytest.raises(ShapeError, match=r"^focal lengths: expected 1 positive values, got \[0\.0\]$"):
        fit_people(kp, box, body, focal_px=np.array([0.0]))
