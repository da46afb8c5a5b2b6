"""The scorer with its sample-consensus weight: scores, checkpoint round trip, refusals."""

import json
from types import SimpleNamespace

import pytest
import torch

from engine.errors import CheckpointError
from engine.models.checkpoint import body_signature
from engine.models.consensus import mean_sibling_distance
from engine.models.scorer import HMRScorer, ScorerConfig

TINY = ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4)
BODY = SimpleNamespace(name="test-body", num_vertices=100)


def _candidates(N=2, M=6, seed=0):
    """Decoded-candidate stand-ins: person 0's candidate 3 holds one arm elsewhere."""
    g = torch.Generator().manual_seed(seed)
    person = torch.randn(N, 1, 24, 3, generator=g) * 0.3
    joints = person + 0.01 * torch.randn(N, M, 24, 3, generator=g)
    joints[0, 3, 18:24] += torch.tensor([0.0, 0.3, 0.1])
    keypoints3d = joints[:, :, :17] + 0.01
    return SimpleNamespace(joints=joints, keypoints3d=keypoints3d, joints_2d=joints[..., :2].clamp(-1, 1),
                           keypoints_2d=keypoints3d[..., :2].clamp(-1, 1))


def _scorer(weight=0.0):
    torch.manual_seed(0)
    model = HMRScorer(TINY).eval()
    model.consensus_weight = weight
    return model


def _image_inputs(N=2):
    g = torch.Generator().manual_seed(1)
    return torch.randn(N, 3, 64, 64, generator=g), torch.rand(N, 17, 3, generator=g)


def test_the_candidate_that_disagrees_with_its_siblings_scores_lower():
    images, keypoints = _image_inputs()
    cands = _candidates()
    alone = _scorer(0.0).score_candidates(images, keypoints, cands)
    together = _scorer(0.05).score_candidates(images, keypoints, cands)
    logit = torch.logit(together.double()) - torch.logit(alone.double())
    assert logit[0, 3] < -1.0  # about 0.05 per mm of a ~60 mm disagreement
    assert int(logit[0].argmin()) == 3
    # Centred per person: the scores move around the same level.
    assert logit.mean(dim=1).abs().max() < 1e-4


def test_consensus_off_scores_each_candidate_on_its_own():
    images, keypoints = _image_inputs()
    cands = _candidates()
    off = _scorer(0.05).score_candidates(images, keypoints, cands, consensus=False)
    assert torch.allclose(off, _scorer(0.0).score_candidates(images, keypoints, cands))
    # A lone candidate (a pseudo-label being cleaned) has no siblings to agree with.
    one = SimpleNamespace(**{k: v[:, :1] for k, v in vars(cands).items()})
    assert torch.allclose(_scorer(0.05).score_candidates(images, keypoints, one),
                          _scorer(0.0).score_candidates(images, keypoints, one))


def test_scores_from_logits_matches_scoring_in_one_call():
    images, keypoints = _image_inputs()
    cands, model = _candidates(), _scorer(0.03)
    logits = model.candidate_logits(images, keypoints, cands)
    direct = model.scores_from_logits(logits, mean_sibling_distance(cands.joints))
    assert torch.allclose(direct, model.score_candidates(images, keypoints, cands), atol=1e-6)


def test_weight_survives_a_checkpoint_round_trip(tmp_path):
    model = _scorer(0.025)
    model.body_signature = body_signature(BODY)
    model.save(tmp_path / "scorer")
    assert json.loads((tmp_path / "scorer.json").read_text())["consensus"] == {"weight_per_mm": 0.025}
    assert HMRScorer.load(tmp_path / "scorer", body=BODY).consensus_weight == 0.025


@pytest.mark.parametrize("bad", ["lots", -0.01, float("inf"), [0.1]])
def test_malformed_weight_is_refused(tmp_path, bad):
    model = _scorer(0.025)
    model.save(tmp_path / "scorer")
    cfg = json.loads((tmp_path / "scorer.json").read_text())
    cfg["consensus"] = {"weight_per_mm": bad}
    (tmp_path / "scorer.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="consensus weight"):
        HMRScorer.load(tmp_path / "scorer")
