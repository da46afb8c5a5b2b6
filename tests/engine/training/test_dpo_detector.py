"""DPO and cleaning for a detector-conditioned base model: pairs carry the detector's
landmarks (built, stored in a project, written and read as JSONL and npz, old files
still read), the landmarks reach the model in training, and a few fine-tuning steps run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from engine import store as st
from engine.data.detector_cache import DatasetDetections, cache_path, save_detections
from engine.data.landmark_tokens import landmark_tokens
from engine.data.load import load_dataset
from engine.errors import DataError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import Normalizer, ParamLayout
from engine.models.checkpoint import body_signature
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.projects.pairs import project_pairs, propose_project_pairs
from engine.training.cleaning import CleaningRule, clean_file, finetune_subsets, score_labels
from engine.training.dpo import DPOConfig, pair_errors, reprojection_loss
from engine.training.dpo_data import PairDataset
from engine.training.dpo_train import train_dpo, weights_of
from engine.training.pair_io import load_pairs, save_pairs
from engine.training.pairs import PairConfig, PreferencePair, build_pairs

from test_pairs_build import tiny_data, tiny_models

D = ParamLayout().dim
ARCH = dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 32, 32])


def conditioned_base(path: Path, body, detector_inputs: bool = True) -> Path:
    """A tiny base checkpoint, weights perturbed so that every input moves its output."""
    torch.manual_seed(0)
    model = DiffusionHMR({**ARCH, "detector_inputs": detector_inputs},
                         Normalizer(np.zeros(D, np.float32), np.full(D, 0.1, np.float32)), body)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save(path)
    return path


def detector_outputs(records, missing: tuple[int, ...] = ()) -> DatasetDetections:
    """What a detector might give for ``records``: keypoints a few pixels off the labels,
    world landmarks, and nobody found at the rows in ``missing``."""
    rng = np.random.default_rng(5)
    out = DatasetDetections.empty(len(records))
    for i, r in enumerate(records):
        if i in missing:
            continue
        out.keypoints[i] = r.keypoints + np.concatenate([rng.normal(0, 2, (17, 2)), np.zeros((17, 1))], 1)
        out.keypoints[i, :, 2] = 0.8
        out.world_landmarks[i] = rng.normal(0, 0.3, (33, 3))
        out.landmark_visibility[i] = rng.uniform(0.2, 1, 33)
        out.landmark_presence[i] = rng.uniform(0.2, 1, 33)
        out.found[i] = True
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory, body):
    """(folder, conditioned base, scorer, data with a detector cache, its detections,
    pairs built with the detector's outputs)."""
    folder = tmp_path_factory.mktemp("dpo_detector")
    torch.set_num_threads(1)
    _, scorer = tiny_models(folder, body)
    base = conditioned_base(folder / "cond", body)
    data = tiny_data(folder / "data", body, n=4)
    records = load_dataset(data).records
    detections = detector_outputs(records, missing=(3,))
    save_detections(cache_path(data), detections, records)
    config = PairConfig(num_candidates=8, pairs_per_image=2, top_k=2, bottom_k=2, min_margin=0.0)
    pairs = build_pairs(records, DiffusionHMR.load(base, body=body), HMRScorer.load(scorer, body=body), body, config,
                        detections=detections)
    return folder, base, scorer, data, detections, pairs


def test_pairs_keep_the_detector_outputs_they_were_sampled_with(setup):
    _, _, _, data, detections, pairs = setup
    records = load_dataset(data).records
    assert len(pairs) == 8
    for p in pairs:
        i = next(k for k, r in enumerate(records) if r.image_path == p.image)
        if i == 3:  # the detector found nobody: missing tokens, no keypoints (never the labels)
            np.testing.assert_array_equal(p.landmarks, np.zeros((33, 6)))
            np.testing.assert_array_equal(p.keypoints, np.zeros((17, 3)))
        else:
            expected = landmark_tokens(detections.world_landmarks[i], detections.landmark_visibility[i],
                                       detections.landmark_presence[i])
            np.testing.assert_allclose(p.landmarks, expected)
            np.testing.assert_allclose(p.keypoints, detections.keypoints[i])
    with pytest.raises(DataError, match="3 detector rows for 4 people"):
        build_pairs(records, None, None, None, PairConfig(num_candidates=8, top_k=2, bottom_k=2),
                    detections=detector_outputs(records[:3]))


def test_renders_without_their_detector_cache_are_sampled_as_not_found_and_said_so(setup, body, caplog):
    _, base, scorer, data, _, _ = setup
    records = load_dataset(data).records[:1]
    config = PairConfig(num_candidates=8, pairs_per_image=1, top_k=2, bottom_k=2, min_margin=0.0)
    pairs = build_pairs(records, DiffusionHMR.load(base, body=body), HMRScorer.load(scorer, body=body), body, config)
    assert [p.landmarks for p in pairs] == [None]
    np.testing.assert_array_equal(pairs[0].keypoints, records[0].keypoints)
    assert "none of the 1 people carry them" in caplog.text


def _pairs(n: int = 3) -> list[PreferencePair]:
    rng = np.random.default_rng(0)
    return [PreferencePair(
        image=f"/data/img{i}.jpg", crop_center=[48.0, 40.0 + i], crop_size=96.0, keypoints=rng.uniform(0, 1, (17, 3)),
        winner=rng.normal(size=D), loser=rng.normal(size=D), person=f"person{i}",
        landmarks=None if i == 1 else landmark_tokens(rng.normal(0, 0.3, (33, 3)), rng.uniform(0, 1, 33), None))
        for i in range(n)]


@pytest.mark.parametrize("suffix", [".jsonl", ".npz"])
def test_landmarks_round_trip_through_pair_files_with_and_without_them(tmp_path, suffix):
    pairs = _pairs()
    save_pairs(tmp_path / f"pairs{suffix}", pairs)
    back = load_pairs(tmp_path / f"pairs{suffix}")
    assert back[1].landmarks is None
    for i in (0, 2):
        np.testing.assert_array_equal(back[i].landmarks, pairs[i].landmarks)
        assert back[i].landmarks.dtype == np.float32


def test_pair_files_written_before_landmarks_still_read(tmp_path):
    save_pairs(tmp_path / "new.jsonl", _pairs())
    lines = [json.loads(line) for line in (tmp_path / "new.jsonl").read_text().splitlines()]
    for obj in lines:
        del obj["landmarks"]
    (tmp_path / "old.jsonl").write_text("".join(json.dumps(o) + "\n" for o in lines))
    assert [p.landmarks for p in load_pairs(tmp_path / "old.jsonl")] == [None] * 3
    save_pairs(tmp_path / "new.npz", _pairs())
    with np.load(tmp_path / "new.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "landmarks"}
    np.savez(tmp_path / "old.npz", **arrays)
    old = load_pairs(tmp_path / "old.npz")
    assert [p.landmarks for p in old] == [None] * 3
    np.testing.assert_array_equal(old[2].winner, _pairs()[2].winner)


def test_malformed_landmarks_name_the_line(tmp_path):
    save_pairs(tmp_path / "pairs.jsonl", _pairs(1))
    obj = json.loads((tmp_path / "pairs.jsonl").read_text())
    obj["landmarks"] = obj["landmarks"][:17]
    (tmp_path / "bad.jsonl").write_text(json.dumps(obj) + "\n")
    with pytest.raises(DataError, match=r"bad.jsonl:1: .*landmarks: expected shape \(33, 6\)"):
        load_pairs(tmp_path / "bad.jsonl")


def _batch(pairs, model, landmarks_scale: float = 1.0) -> dict:
    data = PairDataset(pairs, model.crop_size, model.normalizer)
    batch = default_collate([data[i] for i in range(len(data))])
    batch["landmarks"] = batch["landmarks"] * landmarks_scale
    return batch


def _errors(model, batch) -> torch.Tensor:
    g = torch.Generator().manual_seed(9)
    n = batch["winner"].shape[0]
    with torch.no_grad():
        w, lo = pair_errors(model, batch, torch.randint(0, 1000, (n,), generator=g), torch.randn(n, D, generator=g))
    return torch.stack([w, lo])


def test_the_pairs_landmarks_reach_a_conditioned_model_and_no_other(setup, body, tmp_path):
    _, base, _, _, _, pairs = setup
    model = DiffusionHMR.load(base, body=body).eval()
    found = [p for p in pairs if p.landmarks[:, 5].any()]
    assert found and _batch(found, model)["landmarks"].shape == (len(found), 33, 6)
    as_read = _errors(model, _batch(found, model))
    assert not torch.allclose(as_read, _errors(model, _batch(found, model, 1.5)))
    # A pair without landmarks reads as 'not found', the same as all-zero tokens.
    without = [PreferencePair(**{**vars(p), "landmarks": None}) for p in found]
    np.testing.assert_allclose(_errors(model, _batch(without, model)).numpy(),
                               _errors(model, _batch(found, model, 0.0)).numpy(), atol=1e-6)
    t, noise = torch.full((len(found),), 500), torch.zeros(len(found), D)
    with torch.no_grad():
        a = reprojection_loss(model, body, _batch(found, model), t, noise)
        b = reprojection_loss(model, body, _batch(found, model, 1.5), t, noise)
    assert float(a) != pytest.approx(float(b), abs=1e-7)
    plain = DiffusionHMR.load(conditioned_base(tmp_path / "plain", body, detector_inputs=False), body=body).eval()
    np.testing.assert_array_equal(_errors(plain, _batch(found, plain)).numpy(),
                                  _errors(plain, _batch(found, plain, 1.5)).numpy())


def test_dpo_fine_tunes_a_conditioned_model_on_pairs_with_landmarks(setup, tmp_path):
    _, base, _, _, _, pairs = setup
    save_pairs(tmp_path / "pairs.npz", pairs)
    seen = []
    config = DPOConfig(out=str(tmp_path / "dpo"), base=str(base), pairs=(str(tmp_path / "pairs.npz"),), steps=4,
                       batch_size=4, lr=1e-3, log_every=1, warmup_steps=1)
    weights = train_dpo(config, progress=seen.append)
    logs = [e.metrics for e in seen if "dpo_loss" in e.metrics]
    assert len(logs) == 4 and all(math.isfinite(m["loss"]) for m in logs)
    # The first step's policy is the reference: loss log 2 exactly.
    assert logs[0]["dpo_loss"] == pytest.approx(math.log(2), abs=1e-6)
    before, after = weights_of(base), weights_of(weights)
    # The landmark MLP only runs on found landmarks: it learns only if the pairs' reached it.
    moved = [k for k in before if k.startswith("encoder.landmarks.mlp.") and not np.array_equal(before[k], after[k])]
    assert moved, "the landmarks never reached the model"
    assert json.loads((tmp_path / "dpo.json").read_text())["detector_inputs"] is True


def test_supervised_fine_tuning_of_a_conditioned_model_reads_the_detector_cache(setup, tmp_path, body):
    _, base, _, data, _, _ = setup
    records = load_dataset(data).records
    out = finetune_subsets(base, {"kept": records[:3]}, tmp_path / "clean", steps=2, batch_size=2, lr=1e-3,
                           device="cpu", source=data)
    assert out["kept"].is_file()
    before, after = weights_of(base), weights_of(out["kept"])
    assert any(not np.array_equal(before[k], after[k]) for k in before if k.startswith("encoder.landmarks.mlp."))
    # Renders carry no detector outputs themselves: training on none would teach it to ignore them.
    with pytest.raises(DataError, match="needs the detector's outputs"):
        finetune_subsets(base, {"blind": records[:3]}, tmp_path / "blind", steps=2, batch_size=2, device="cpu")


def test_project_pairs_carry_the_stored_persons_landmarks(tmp_path):
    project = st.Project.create(tmp_path / "p.adhmr")
    rng = np.random.default_rng(1)
    ds = st.add_dataset(project, "wild", "spin", str(tmp_path))
    world = rng.normal(0, 0.3, (33, 3)).astype(np.float32)
    presence = rng.uniform(0, 1, 33).astype(np.float32)
    for i in range(2):
        image = st.add_image(project, ds, f"img{i}.jpg", width=100, height=100)
        kp = np.concatenate([rng.uniform(0, 90, (17, 2)), np.ones((17, 1))], 1)
        detector = {"world_landmarks": world, "landmark_presence": presence} if i == 0 else None
        person = st.add_person(project, image, (10.0, 5.0, 80.0, 90.0), kp, detector=detector)
        st.add_sample_run(project, person, rng.normal(size=(6, D)).astype(np.float32), seed=0, steps=4,
                          scores=[0.9, 0.1, 0.5, 0.8, 0.2, 0.4])
    propose_project_pairs(project, "wild", PairConfig(num_candidates=6, pairs_per_image=1, top_k=2, bottom_k=2))
    pairs = {p.image: p for p in project_pairs(project, "wild")}
    np.testing.assert_allclose(pairs[str(tmp_path / "img0.jpg")].landmarks, landmark_tokens(world, None, presence))
    assert pairs[str(tmp_path / "img1.jpg")].landmarks is None
    project.close()


def test_cleaning_with_a_conditioned_scorer_reads_the_detector_outputs(setup, tmp_path, body):
    _, _, _, data, detections, _ = setup
    records = load_dataset(data).records
    torch.manual_seed(2)
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4, detector_inputs=True))
    scorer.body_signature = body_signature(body)
    scorer.save(tmp_path / "scorer")
    scores = score_labels(records, scorer, body, detections=detections)
    assert np.isfinite(scores).all()
    moved = DatasetDetections(detections.keypoints, detections.world_landmarks * 1.5, detections.landmark_visibility,
                              detections.landmark_presence, detections.found)
    other = score_labels(records, scorer, body, detections=moved)
    assert not np.allclose(scores[:3], other[:3]) and other[3] == pytest.approx(scores[3], abs=1e-6)
    # The file's own cache is what clean_file reads.
    result = clean_file(data, tmp_path / "kept.npz", CleaningRule(keep_fraction=0.5), scorer=tmp_path / "scorer",
                        device="cpu")
    np.testing.assert_allclose(result.scores, scores, atol=1e-5)
    with pytest.raises(DataError, match="no labelled person has them"):
        score_labels(records, scorer, body)
