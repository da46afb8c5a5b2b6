"""``evaluate`` and ``adhmr eval`` / ``adhmr score`` on a tiny model and a tiny dataset."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from engine.body.model import BodyModel
from engine.body.named_poses import NAMED_POSES
from engine.cli import main as cli_main
from engine.data.load import load_dataset, save_annotation_file
from engine.data.records import PersonSample
from engine.errors import ShapeError
from engine.evaluation import evaluate
from engine.image_io import save_image
from engine.models.checkpoint import body_signature
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import Normalizer, ParamLayout
from engine.models.pipeline import sample_image, write_sample_outputs
from engine.models.sample_settings import SampleSettings
from engine.models.scorer import HMRScorer, ScorerConfig

LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16), (5, 6), (11, 12), (5, 11), (6, 12))
ROWS = ["Min", "Select", "Zero-noise", "Mean"]
METRICS = ["MPJPE", "PA-MPJPE", "PVE"]


def S(**kw) -> SampleSettings:
    """Sampling settings on the CPU, as every test here runs."""
    return SampleSettings(device="cpu", **kw)



@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny labelled dataset, an untrained tiny base model and scorer."""
    folder = tmp_path_factory.mktemp("eval")
    body = BodyModel()
    rng = np.random.default_rng(0)
    names = sorted(NAMED_POSES)
    records = []
    for i in range(5):
        pose = NAMED_POSES[names[i]].copy()
        pose[0] = [np.pi, 0.0, 0.0]
        pose = pose.reshape(72).astype(np.float32)
        betas = rng.normal(0, 0.5, 10).astype(np.float32)
        cam = np.array([0.9, 0.0, 0.1], np.float32)
        out = body(torch.from_numpy(pose)[None], torch.from_numpy(betas)[None], torch.from_numpy(cam)[None],
                   rotation_format="axis_angle")
        kp_px = 48.0 + out.keypoints_2d[0].numpy() * 40.0
        image = rng.integers(0, 60, (96, 96, 3), dtype=np.uint8)
        for a, b in LIMBS:
            cv2.line(image, tuple(int(v) for v in kp_px[a]), tuple(int(v) for v in kp_px[b]), (230, 200, 40), 3)
        cv2.imwrite(str(folder / f"p{i}.png"), image[:, :, ::-1])
        records.append(PersonSample(str(folder / f"p{i}.png"), np.array([16, 8, 80, 88], np.float32),
                                    np.concatenate([kp_px, np.ones((17, 1))], 1), pose, betas, None, cam, "gt"))
    save_annotation_file(folder / "data.npz", records, "spin")
    torch.manual_seed(0)
    D = ParamLayout().dim
    mean = ParamLayout().from_axis_angle(torch.from_numpy(np.stack([r.pose for r in records])),
                                         torch.zeros(5, 10), torch.tensor([[0.9, 0.0, 0.1]] * 5)).mean(0)
    base = DiffusionHMR(dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 32, 32]),
                        Normalizer(mean.numpy(), np.full(D, 0.2, np.float32)), body)
    base.save(folder / "base")
    scorer = HMRScorer(ScorerConfig(96, 32, 1, 2, grid=4))  # not the base model's crop size
    scorer.body_signature = body_signature(body)
    scorer.save(folder / "scorer")
    return folder, body


def test_report_has_every_row_baseline_and_correlation(setup):
    folder, _ = setup
    events = []
    result = evaluate(folder / "base", folder / "scorer", folder / "data.npz", S(num_candidates=6), top_k=2,
                      progress=events.append)
    assert list(result.report.rows) == ROWS and list(result.report.metrics) == METRICS
    assert result.report.num_persons == 5 and result.report.num_hypotheses == 6
    for metric in METRICS:
        assert result.report.value("Min", metric) <= result.report.value("Select", metric)
        assert result.report.value("Min", metric) <= result.report.value("Mean", metric)
        assert result.baseline[metric] > 0
        assert -1 <= result.correlation[metric]["srcc"] <= 1
        # Every hypothesis's error is kept: its best per person is the Min row, its first the Zero-noise row.
        per_hypothesis = result.errors[metric]
        assert per_hypothesis.shape == (5, 6)
        assert per_hypothesis.min(axis=1).mean() == pytest.approx(result.report.value("Min", metric), rel=1e-5)
        assert per_hypothesis[:, 0].mean() == pytest.approx(result.report.value("Zero-noise", metric), rel=1e-5)
    assert "errors" not in result.to_dict()
    assert events[-1].fraction == 1.0
    text = result.to_markdown()
    assert "Mean pose (baseline)" in text and "Select (top-2)" in text and "SRCC" in text


def test_select_follows_the_consensus_term_unless_it_is_turned_off(setup, tmp_path):
    folder, _ = setup
    config = json.loads((folder / "scorer.json").read_text())
    config["consensus"] = {"weight_per_mm": 100.0}  # so strong that agreement alone decides
    (tmp_path / "scorer.json").write_text(json.dumps(config))
    (tmp_path / "scorer.safetensors").write_bytes((folder / "scorer.safetensors").read_bytes())
    args = (folder / "base", tmp_path / "scorer", folder / "data.npz")
    on = evaluate(*args, S(num_candidates=6), mixed=False)
    off = evaluate(*args, S(num_candidates=6, consensus=False), mixed=False)
    assert on.logits.shape == on.sibling_mm.shape == (5, 6)
    np.testing.assert_allclose(on.logits, off.logits, rtol=1e-5)
    rows = np.arange(5)
    for metric in METRICS:
        agreeing = on.errors[metric][rows, on.sibling_mm.argmin(axis=1)].mean()
        assert on.report.value("Select", metric) == pytest.approx(agreeing, rel=1e-5)
        by_network = off.errors[metric][rows, off.logits.argmax(axis=1)].mean()
        assert off.report.value("Select", metric) == pytest.approx(by_network, rel=1e-5)
    assert on.settings["consensus_weight"] == 100.0 and off.settings["consensus_weight"] is None
    assert "consensus term (100 per mm)" in on.to_markdown()


def test_mean_pose_baseline_is_the_normaliser_mean(setup):
    folder, body = setup
    base = DiffusionHMR.load(folder / "base", body=body)
    result = evaluate(folder / "base", None, folder / "data.npz", S(num_candidates=2), use_scorer=False)
    # The training-set mean pose against each labelled person, measured directly.
    labels = load_dataset(folder / "data.npz").records
    mean = torch.as_tensor(base.normalizer.mean)[None].expand(5, -1)
    rot, _, _ = ParamLayout().split(mean)
    pred = body(rot, mean[:, 144:154]).joints
    gt = body(torch.from_numpy(np.stack([r.pose for r in labels])), torch.from_numpy(np.stack([r.betas for r in labels])),
              rotation_format="axis_angle").joints
    expected = ((pred - pred[:, :1]) - (gt - gt[:, :1])).norm(dim=-1).mean() * 1000
    assert result.baseline["MPJPE"] == pytest.approx(float(expected), rel=1e-3)
    assert "Select" not in result.report.rows and result.correlation == {}


def test_large_m_is_chunked_without_changing_the_numbers(setup):
    folder, _ = setup
    args = (folder / "base", folder / "scorer", folder / "data.npz")
    whole = evaluate(*args, S(num_candidates=5), max_images=2)
    chunked = evaluate(*args, S(num_candidates=5, chunk_size=3), max_images=2)
    assert whole.report.num_persons == 2
    np.testing.assert_allclose(np.array(chunked.report.values), np.array(whole.report.values), rtol=1e-4)


def test_bad_requests_are_refused(setup):
    folder, _ = setup
    with pytest.raises(ShapeError):
        S(num_candidates=0)
    for kw in (dict(top_k=4), dict(max_images=0)):
        with pytest.raises(ShapeError):
            evaluate(folder / "base", folder / "scorer", folder / "data.npz", S(num_candidates=3), **kw)


def test_cli_prints_the_table_and_writes_json(setup, tmp_path, capsys):
    folder, _ = setup
    out = tmp_path / "eval.json"
    rc = cli_main(["eval", "--checkpoint", str(folder / "base"), "--scorer", str(folder / "scorer"),
                   "--data", str(folder / "data.npz"), "-M", "4", "--max-images", "3", "--json", str(out),
                   "--device", "cpu"])
    printed = capsys.readouterr().out
    assert rc == 0
    for row in ("| Min |", "| Select (top-1) |", "| Zero-noise |", "| Mean |", "| Mean pose (baseline) |"):
        assert row in printed
    doc = json.loads(out.read_text())
    assert list(doc["report"]) == ROWS and set(doc["baseline"]) >= set(METRICS)
    assert set(doc["scorer_correlation"]) == set(METRICS) and doc["settings"]["num_images"] == 3
    assert set(doc["scorer_correlation_mixed"]) == set(METRICS)  # the people have cameras
    assert "SRCC, mixed" in printed
    assert cli_main(["eval", "--checkpoint", str(folder / "scorer"), "--data", str(folder / "data.npz")]) == 1


def test_score_command_rescores_sampled_candidates(setup, tmp_path, capsys):
    folder, body = setup
    base = DiffusionHMR.load(folder / "base", body=body)
    scorer = HMRScorer.load(folder / "scorer", body=body)
    photo = folder / "p0.png"
    keypoints = load_dataset(folder / "data.npz").records[0].keypoints
    result = sample_image(photo, base, S(num_candidates=5), keypoints=keypoints, body=body, scorer=scorer)
    write_sample_outputs(result, tmp_path / "out")
    np.savez(tmp_path / "out" / "candidates.npz",
             **dict(np.load(tmp_path / "out" / "candidates.npz"), scores=np.full(5, np.nan, np.float32)))
    assert cli_main(["score", str(tmp_path / "out"), "--photo", str(photo), "--scorer", str(folder / "scorer")]) == 0
    assert "5 candidates scored" in capsys.readouterr().out
    scores = np.load(tmp_path / "out" / "candidates.npz")["scores"]
    # The same crop, keypoints and scorer as the sampler's own scoring.
    np.testing.assert_allclose(scores, result.candidates.scores[0].numpy(), atol=1e-4)
    ranks = [c["rank"] for c in json.loads((tmp_path / "out" / "candidates.json").read_text())["candidates"]]
    assert sorted(ranks) == [1, 2, 3, 4, 5] and ranks[int(np.argmax(scores))] == 1
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    assert cli_main(["score", str(tmp_path / "bad.npz"), "--photo", str(photo), "--scorer", str(folder / "scorer")]) == 1


def test_score_and_sample_commands_can_leave_the_consensus_term_out(setup, tmp_path, capsys):
    folder, body = setup
    config = json.loads((folder / "scorer.json").read_text())
    config["consensus"] = {"weight_per_mm": 1.0}
    (tmp_path / "scorer.json").write_text(json.dumps(config))
    (tmp_path / "scorer.safetensors").write_bytes((folder / "scorer.safetensors").read_bytes())
    photo = folder / "p1.png"
    keypoints = load_dataset(folder / "data.npz").records[1].keypoints
    result = sample_image(photo, DiffusionHMR.load(folder / "base", body=body), S(num_candidates=6), keypoints=keypoints, body=body,
                          scorer=HMRScorer.load(folder / "scorer", body=body))
    write_sample_outputs(result, tmp_path / "out")
    scores = {}
    for name, extra in (("network", []), ("with", []), ("without", ["--no-consensus"])):
        scorer = folder / "scorer" if name == "network" else tmp_path / "scorer"
        out = tmp_path / f"{name}.npz"
        assert cli_main(["score", str(tmp_path / "out"), "--photo", str(photo), "--scorer", str(scorer),
                         "--out", str(out), *extra]) == 0
        scores[name] = np.load(out)["scores"]
    capsys.readouterr()
    np.testing.assert_allclose(scores["without"], scores["network"], atol=1e-6)
    assert np.abs(scores["with"] - scores["network"]).max() > 1e-3
    # The same flag on adhmr sample (a real photo, so the detector finds the person).
    photo = tmp_path / "astronaut.png"
    save_image(photo, data.astronaut())
    sampled = {}
    for name, scorer, extra in (("network", folder / "scorer", []), ("with", tmp_path / "scorer", []),
                                ("without", tmp_path / "scorer", ["--no-consensus"])):
        assert cli_main(["sample", str(photo), "-M", "6", "--out", str(tmp_path / name), "--checkpoint",
                         str(folder / "base"), "--scorer", str(scorer), "--precision", "fp32", "--device", "cpu",
                         "--no-fit", *extra]) == 0
        sampled[name] = np.load(tmp_path / name / "candidates.npz")["scores"]
    np.testing.assert_allclose(sampled["without"], sampled["network"], atol=1e-6)
    assert np.abs(sampled["with"] - sampled["network"]).max() > 1e-3


def test_the_fit_is_the_last_hypothesis_and_the_samples_start_from_it(setup):
    folder, _ = setup
    args = (folder / "base", folder / "scorer", folder / "data.npz")
    plain = evaluate(*args, S(num_candidates=3), mixed=False, max_images=2)
    started = evaluate(*args, S(num_candidates=3, fit_start=0.05), mixed=False, max_images=2, with_fit=True)
    from_noise = evaluate(*args, S(num_candidates=3, fit_start=0.0), mixed=False, max_images=2, with_fit=True)

    assert plain.errors["MPJPE"].shape == (2, 3) and started.errors["MPJPE"].shape == (2, 4)
    assert started.settings["with_fit"] and started.settings["fit_start"] == 0.05
    # The fit is the same hypothesis whatever the start; from noise, the samples are the plain ones.
    np.testing.assert_allclose(started.errors["MPJPE"][:, 3], from_noise.errors["MPJPE"][:, 3], rtol=1e-5)
    np.testing.assert_allclose(from_noise.errors["MPJPE"][:, :3], plain.errors["MPJPE"], rtol=1e-5)
    assert not np.allclose(started.errors["MPJPE"][:, :3], plain.errors["MPJPE"])
    assert "and the fit" in started.to_markdown()
