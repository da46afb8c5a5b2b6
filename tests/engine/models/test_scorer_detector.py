"""The scorer's detector inputs and cross-attention architecture; old checkpoints unchanged."""

import json
from types import SimpleNamespace

import pytest
import torch

from engine.body.model import BodyModel
from engine.errors import ShapeError
from engine.models.checkpoint import body_signature
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.models.candidates import decode_candidates
from engine.models.scorer_parts import joint_inputs, landmark_agreement
from engine.multiview.joints import EVAL12_FROM_BLAZEPOSE33, EVAL12_FROM_COCO17, EVAL12_FROM_SMPL24

TINY = dict(crop_size=64, width=32, layers=2, heads=2, grid=4)
BODY = SimpleNamespace(name="test-body", num_vertices=100)
LIMB_TOKENS = sorted(EVAL12_FROM_SMPL24) + [24 + i for i in EVAL12_FROM_COCO17]


def _scorer(seed=0, **flags):
    torch.manual_seed(seed)
    return HMRScorer(ScorerConfig(**TINY, **flags)).eval()


def _inputs(N=2, M=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(N, 3, 64, 64, generator=g)
    keypoints = torch.cat([torch.rand(N, 17, 2, generator=g) * 2 - 1, torch.rand(N, 17, 1, generator=g)], -1)
    crop = torch.rand(N, M, 41, 2, generator=g) * 2 - 1
    depth = torch.randn(N, M, 41, generator=g) * 0.2
    return images, keypoints, crop, depth


def _landmarks(N=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    lm = torch.cat([torch.randn(N, 33, 3, generator=g) * 0.3, torch.rand(N, 33, 2, generator=g),
                    torch.ones(N, 33, 1)], dim=-1)
    return lm


def _points(N=2, M=5, seed=2):
    return torch.randn(N, M, 41, 3, generator=torch.Generator().manual_seed(seed)) * 0.3


def test_agreement_is_zero_for_a_candidate_on_the_landmarks_and_ignores_translation():
    lm = _landmarks(N=1)
    pts = torch.zeros(1, 2, 41, 3)
    for tokens in (EVAL12_FROM_SMPL24, [24 + i for i in EVAL12_FROM_COCO17]):
        # Put the candidate's joints on the landmarks, then move the second one 3 m away.
        pts[0, :, list(tokens)] = lm[0, list(EVAL12_FROM_BLAZEPOSE33), :3]
    pts[0, 1] += torch.tensor([1.0, -2.0, 3.0])
    agree = landmark_agreement(pts, lm)
    assert agree.shape == (1, 2, 41, 4)
    assert agree[..., LIMB_TOKENS, :3].abs().max() < 1e-5
    assert (agree[..., LIMB_TOKENS, 3] == 1).all()
    others = [i for i in range(41) if i not in LIMB_TOKENS]
    assert (agree[..., others, :] == 0).all()
    # A bent elbow shows up on its own token, in metres.
    pts[0, 0, 24 + 7, 0] += 0.25  # COCO left elbow
    assert landmark_agreement(pts, lm)[0, 0, 24 + 7, 0] == pytest.approx(0.25, abs=1e-5)


def test_agreement_is_all_zero_where_the_detector_found_nobody():
    lm = _landmarks(N=1)
    lm[..., 5] = 0
    assert (landmark_agreement(_points(N=1), lm) == 0).all()


@pytest.mark.parametrize("cross", [False, True])
def test_detector_scorer_reads_the_landmarks(cross):
    scorer = _scorer(detector_inputs=True, cross_attention=cross)
    args = _inputs()
    with torch.no_grad():
        a = scorer.logits(*args, landmarks=_landmarks(seed=1), points3d=_points())
        b = scorer.logits(*args, landmarks=_landmarks(seed=3), points3d=_points())
        nobody = scorer.logits(*args)
        zeros = scorer.logits(*args, landmarks=torch.zeros(2, 33, 6), points3d=_points())
    assert not torch.allclose(a, b)
    # No landmarks means the detector found nobody: all-missing tokens.
    assert torch.allclose(nobody, zeros, atol=1e-6)


def test_a_scorer_without_detector_inputs_ignores_landmarks():
    scorer = _scorer()
    with torch.no_grad():
        plain = scorer.logits(*_inputs())
        given = scorer.logits(*_inputs(), landmarks=_landmarks(), points3d=_points())
    assert torch.equal(plain, given)
    assert not scorer.detector_inputs


def test_landmarks_without_candidate_points_are_refused():
    scorer = _scorer(detector_inputs=True)
    with pytest.raises(ShapeError, match="3D points"):
        scorer.logits(*_inputs(), landmarks=_landmarks())
    with pytest.raises(ShapeError, match="landmarks"):
        scorer.logits(*_inputs(), landmarks=torch.zeros(2, 17, 6), points3d=_points())


def test_cross_attention_scores_each_candidate_on_its_own_and_chunks_alike():
    scorer = _scorer(detector_inputs=True, cross_attention=True)
    images, keypoints, crop, depth = _inputs(N=3, M=6)
    lm, pts = _landmarks(N=3), _points(N=3, M=6)
    with torch.no_grad():
        full = scorer.logits(images, keypoints, crop, depth, landmarks=lm, points3d=pts)
        chunked = scorer.logits(images, keypoints, crop, depth, max_sequences=4, landmarks=lm, points3d=pts)
        alone = scorer.logits(images, keypoints, crop[:, 2:3], depth[:, 2:3], landmarks=lm, points3d=pts[:, 2:3])
        swapped = scorer.logits(images.flip(0), keypoints.flip(0), crop.flip(0), depth.flip(0), landmarks=lm.flip(0),
                                points3d=pts.flip(0))
    assert torch.allclose(full, chunked, atol=1e-5)
    assert torch.allclose(full[:, 2:3], alone, atol=1e-5)
    assert torch.allclose(full.flip(0), swapped, atol=1e-5)
    assert full.shape == (3, 6) and full.std() > 0


def test_candidate_logits_pass_the_candidates_3d_joints():
    body = BodyModel()
    scorer = _scorer(detector_inputs=True, cross_attention=True)
    g = torch.Generator().manual_seed(0)
    params = torch.zeros(1, 3, scorer.layout.dim)
    params[..., :6] = torch.tensor([1.0, 0, 0, 0, -1.0, 0])  # upright: 180 degrees about x
    params[..., 6:144] = torch.tensor([1.0, 0, 0, 0, 1.0, 0]).repeat(23) + 0.3 * torch.randn(1, 3, 138, generator=g)
    params[..., -3] = 0.9
    cands = decode_candidates(params, scorer.layout, body, torch.tensor([[48.0, 48.0]]), torch.tensor([80.0]))
    images, keypoints, _, _ = _inputs(N=1)
    lm = _landmarks(N=1)
    logits = scorer.candidate_logits(images, keypoints, cands, landmarks=lm)
    points = torch.cat([cands.joints, cands.keypoints3d], dim=-2)
    crop, depth = joint_inputs(cands.joints, cands.keypoints3d, cands.joints_2d, cands.keypoints_2d)
    with torch.no_grad():
        direct = scorer.logits(images, keypoints, crop, depth, landmarks=lm, points3d=points)
    assert torch.allclose(logits, direct, atol=1e-6)
    assert not torch.allclose(logits, scorer.candidate_logits(images, keypoints, cands, landmarks=_landmarks(1, 5)))


@pytest.mark.parametrize("flags", [dict(detector_inputs=True), dict(cross_attention=True),
                                   dict(detector_inputs=True, cross_attention=True)])
def test_new_architectures_round_trip(tmp_path, flags):
    model = _scorer(**flags)
    model.body_signature = body_signature(BODY)
    model.save(tmp_path / "scorer")
    loaded = HMRScorer.load(tmp_path / "scorer", body=BODY)
    assert loaded.config == model.config
    kw = dict(landmarks=_landmarks(), points3d=_points())
    with torch.no_grad():
        assert torch.equal(model.logits(*_inputs(), **kw), loaded.logits(*_inputs(), **kw))


def test_a_checkpoint_written_before_the_options_loads_and_scores_as_before(tmp_path):
    model = _scorer()
    model.body_signature = body_signature(BODY)
    model.save(tmp_path / "old")
    meta = tmp_path / "old.json"
    config = json.loads(meta.read_text())
    for key in ("detector_inputs", "cross_attention"):
        del config["architecture"][key]  # what an older checkpoint records
    meta.write_text(json.dumps(config))
    loaded = HMRScorer.load(tmp_path / "old", body=BODY)
    assert not loaded.config.detector_inputs and not loaded.config.cross_attention
    with torch.no_grad():
        assert torch.equal(model.logits(*_inputs()), loaded.logits(*_inputs()))


def test_the_shipped_scorer_is_detector_conditioned_and_cross_attending():
    scorer = HMRScorer.load(None, body=BodyModel())
    assert scorer.config.detector_inputs is True and scorer.config.cross_attention is True
    S = scorer.config.crop_size
    g = torch.Generator().manual_seed(0)
    images = torch.randn(1, 3, S, S, generator=g)
    with torch.no_grad():
        logits = scorer.logits(images, torch.rand(1, 17, 3, generator=g), torch.rand(1, 4, 41, 2, generator=g) * 2 - 1,
                               torch.zeros(1, 4, 41), landmarks=_landmarks(N=1), points3d=_points(N=1, M=4))
    assert torch.isfinite(logits).all() and logits.std() > 0
