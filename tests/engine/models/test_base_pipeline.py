"""From a photo to written candidates: ``sample_image`` (float32 and bfloat16),
``write_sample_outputs``, ``adhmr sample``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from skimage import data

import engine.models.scorer as scorer_module
from engine.cli import main as cli_main
from engine.errors import ShapeError
from engine.image_io import load_image, save_image
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.pipeline import sample_image, write_sample_outputs
from engine.models.precision import bf16_supported, resolve_precision
from engine.models.sample_settings import SampleSettings
from engine.models.scorer import HMRScorer, ScorerConfig

TINY = {"crop_size": 64, "width": 32, "layers": 1, "heads": 2}
# Astronaut's COCO-17 keypoints (x, y px, confidence), as BlazePose finds them.
KEYPOINTS = np.array([
    [221.7, 127.0, 1], [247.4, 111.2, 1], [203.4, 100.7, 1], [257.4, 120.0, 1], [180.0, 110.0, 1],
    [301.0, 255.0, 1], [100.0, 240.0, 1], [330.0, 380.0, 1], [60.0, 420.0, 1], [260.0, 480.0, 1],
    [150.0, 470.0, 1], [280.0, 500.0, 0], [150.0, 500.0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0],
], np.float32)



@pytest.fixture(scope="module")
def model(body):
    torch.manual_seed(0)
    m = DiffusionHMR(TINY, body=body).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return m


@pytest.fixture(scope="module")
def scorer():
    torch.manual_seed(1)
    return HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4)).eval()


def test_sample_image_with_given_keypoints_scores_and_writes_everything(model, scorer, body, tmp_path):
    image = data.astronaut()
    result = sample_image(image, model, SampleSettings(num_candidates=7), keypoints=KEYPOINTS, scorer=scorer, body=body)
    c = result.candidates
    assert result.detection is None
    assert c.params.shape == (1, 7, 157) and c.vertices.shape == (1, 7, body.num_vertices, 3)
    assert c.scores.shape == (1, 7) and ((c.scores > 0) & (c.scores < 1)).all()
    # The crop holds every confident keypoint, with a margin.
    seen = KEYPOINTS[KEYPOINTS[:, 2] > 0, :2]
    assert (np.abs(seen - result.crop.center) < 0.45 * result.crop.size).all()

    paths = write_sample_outputs(result, tmp_path, faces=body.faces)
    with np.load(paths["npz"]) as z:
        assert z["params"].shape == (7, 157) and z["pose"].shape == (7, 72)
        assert z["joints"].shape == (7, 24, 3) and z["keypoints_px"].shape == (7, 17, 2)
        np.testing.assert_allclose(z["scores"], c.scores[0].numpy())
    doc = json.loads(paths["json"].read_text())
    entries = doc["candidates"]
    assert [e["index"] for e in entries] == list(range(7))
    best = max(entries, key=lambda e: e["score"])
    assert best["rank"] == 1 and sorted(e["rank"] for e in entries) == list(range(1, 8))
    overlay = load_image(paths["overlay"])
    assert overlay.shape == image.shape
    assert np.abs(overlay.astype(int) - image).sum(-1).astype(bool).mean() > 0.01


def test_cli_sample_on_the_astronaut(model, body, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(scorer_module, "DEFAULT_SCORER_PATH", tmp_path / "no_scorer")
    model.save(tmp_path / "tiny")
    photo = tmp_path / "astronaut.png"
    save_image(photo, data.astronaut())
    out = tmp_path / "out"
    rc = cli_main(["sample", str(photo), "-M", "5", "--out", str(out), "--checkpoint", str(tmp_path / "tiny"),
                  "--no-fit"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "not scoring" in printed and "adhmr train-scorer" in printed
    for name in ("candidates.npz", "candidates.json", "overlay.png"):
        assert (out / name).is_file()
    doc = json.loads((out / "candidates.json").read_text())
    assert doc["num_hypotheses"] == 5 and doc["scored"] is False
    with np.load(out / "candidates.npz") as z:
        assert z["params"].shape == (5, 157)


def test_cli_sample_reports_a_missing_photo(model, tmp_path, capsys):
    model.save(tmp_path / "tiny")
    rc = cli_main(["sample", str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "o"), "--checkpoint", str(tmp_path / "tiny")])
    assert rc == 1
    assert "nope.jpg" in capsys.readouterr().err


def test_auto_picks_bf16_only_where_it_is_native():
    assert resolve_precision("auto", "cpu") == ("bf16" if bf16_supported("cpu") else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ShapeError, match="precision must be one of"):
        resolve_precision("fp16", "cpu")


def test_bf16_sampling_and_scoring_match_float32_with_the_default_checkpoints(body):
    model = DiffusionHMR.load(None, body=body)
    scorer = HMRScorer.load(None, body=body)
    image = data.astronaut()
    runs = {p: sample_image(image, model, SampleSettings(num_candidates=24, precision=p), keypoints=KEYPOINTS,
                          scorer=scorer, body=body)
            for p in ("fp32", "bf16")}
    a, b = runs["fp32"].candidates, runs["bf16"].candidates
    assert b.params.dtype == torch.float32 and b.scores.dtype == torch.float32
    # Same noise, so the same bodies up to bf16 rounding (a few mm, not a different pose).
    rel = lambda c: c.joints - c.joints[..., :1, :]  # noqa: E731
    moved_mm = (rel(a) - rel(b)).norm(dim=-1).mean(-1) * 1000
    assert float(moved_mm.mean()) < 10.0
    assert not torch.equal(a.params, b.params)  # bf16 really ran
    # The scorer ranks them nearly the same way.
    assert spearmanr(a.scores[0].numpy(), b.scores[0].numpy()).statistic > 0.9
    assert np.all((b.scores.numpy() > 0) & (b.scores.numpy() < 1))
