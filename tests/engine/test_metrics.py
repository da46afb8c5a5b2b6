import numpy as np
import pytest
import scipy.stats
import torch

from engine.errors import ShapeError
from engine.metrics import (
    HypothesisReport,
    mpjpe,
    multi_hypothesis_report,
    pa_mpjpe,
    pearson,
    pve,
    ranking_correlation,
    similarity_procrustes,
    spearman,
)


def _rotation(axis, angle):
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


@pytest.fixture
def joints():
    """(4, 24, 3) random bodies about a metre across."""
    return np.random.default_rng(0).normal(scale=0.3, size=(4, 24, 3))


def test_similarity_copy_has_zero_pa_mpjpe_but_large_mpjpe(joints):
    rotation = _rotation([0.3, 1.0, -0.2], 0.9)
    pred = 1.7 * joints @ rotation.T + np.array([0.5, -0.2, 3.0])

    assert np.allclose(pa_mpjpe(pred, joints), 0.0, atol=1e-9)
    assert np.allclose(similarity_procrustes(pred, joints), joints, atol=1e-12)
    assert np.all(mpjpe(pred, joints) > 100.0)


def test_reflected_copy_is_not_explained_by_procrustes(joints):
    mirrored = joints * np.array([-1.0, 1.0, 1.0])

    aligned = similarity_procrustes(mirrored, joints)

    def handedness(points):
        return np.sign(np.linalg.det(points[:, 1:4] - points[:, :1]))

    assert np.all(pa_mpjpe(mirrored, joints) > 10.0)
    assert np.array_equal(handedness(aligned), handedness(mirrored))
    assert np.array_equal(handedness(aligned), -handedness(joints))


def test_mpjpe_hand_computed_after_root_alignment():
    gt = np.zeros((1, 24, 3))
    gt[0, :, 1] = np.linspace(0.0, 1.0, 24)
    pred = gt.copy()
    pred[0, 1:, 0] += 0.010  # every joint but the root 10 mm off along x
    pred += np.array([2.0, 0.0, -1.0])  # a global shift root alignment removes

    assert mpjpe(pred, gt)[0] == pytest.approx(10.0 * 23 / 24)
    assert mpjpe(pred, gt, root_index=None)[0] > 2000.0


def test_mpjpe_other_root_index():
    gt = np.zeros((1, 3, 3))
    pred = gt.copy()
    pred[0, 0, 2] = 0.003  # only joint 0 moves by 3 mm; aligning on joint 2 keeps it

    assert mpjpe(pred, gt, root_index=2)[0] == pytest.approx(1.0)
    assert mpjpe(pred, gt, root_index=0)[0] == pytest.approx(2.0)


def test_pve_aligns_each_body_by_its_own_root():
    gt_vertices = np.random.default_rng(1).normal(size=(2, 50, 3))
    pred_vertices = gt_vertices + np.array([0.004, 0.0, 0.003])  # 5 mm everywhere
    gt_root = np.zeros((2, 3))

    assert np.allclose(pve(pred_vertices, gt_vertices), 5.0)
    assert np.allclose(pve(pred_vertices, gt_vertices, gt_root + [0.004, 0, 0.003], gt_root), 0.0)
    with pytest.raises(ShapeError, match="both"):
        pve(pred_vertices, gt_vertices, pred_root=gt_root)


def test_torch_and_numpy_agree(joints):
    rng = np.random.default_rng(2)
    pred = joints + rng.normal(scale=0.05, size=joints.shape)
    pred_t, gt_t = torch.from_numpy(pred), torch.from_numpy(joints)

    for fn in (mpjpe, pa_mpjpe, pve):
        out_np, out_t = fn(pred, joints), fn(pred_t, gt_t)
        assert isinstance(out_np, np.ndarray) and isinstance(out_t, torch.Tensor)
        assert np.allclose(out_t.numpy(), out_np, atol=1e-9)
    assert np.allclose(similarity_procrustes(pred_t, gt_t).numpy(), similarity_procrustes(pred, joints))

    mirrored = joints * np.array([1.0, 1.0, -1.0])
    assert np.allclose(pa_mpjpe(torch.from_numpy(mirrored), gt_t).numpy(), pa_mpjpe(mirrored, joints))


def test_float32_torch_is_close_to_float64():
    gt = torch.randn(3, 24, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.3
    pred = gt + 0.02 * torch.randn(3, 24, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    out32 = pa_mpjpe(pred.float(), gt.float())
    assert out32.dtype == torch.float32
    assert torch.allclose(out32.double(), pa_mpjpe(pred, gt), atol=1e-2)


def test_batched_equals_per_item(joints):
    pred = joints + np.random.default_rng(3).normal(scale=0.05, size=joints.shape)
    pred[1] = pred[1] * np.array([-1.0, 1.0, 1.0])  # one reflected item in the batch

    for fn in (mpjpe, pa_mpjpe):
        batched = fn(pred, joints)
        single = np.array([fn(pred[i : i + 1], joints[i : i + 1])[0] for i in range(len(pred))])
        assert np.allclose(batched, single, atol=1e-10)


def test_shape_errors():
    with pytest.raises(ShapeError, match="expected"):
        mpjpe(np.zeros((2, 24)), np.zeros((2, 24)))
    with pytest.raises(ShapeError, match="differs"):
        pa_mpjpe(np.zeros((2, 24, 3)), np.zeros((2, 23, 3)))
    with pytest.raises(ShapeError, match="mix"):
        mpjpe(np.zeros((1, 2, 3)), torch.zeros(1, 2, 3))


@pytest.fixture
def errors():
    """Two persons, three hypotheses (hypothesis 0 from zero noise)."""
    return {
        "MPJPE": np.array([[50.0, 40.0, 90.0], [70.0, 80.0, 30.0]]),
        "PA-MPJPE": np.array([[30.0, 35.0, 20.0], [40.0, 60.0, 20.0]]),
    }


def test_report_rows_on_hand_example(errors):
    scores = np.array([[0.1, 0.9, 0.5], [0.2, 0.1, 0.3]])

    report = multi_hypothesis_report(errors, scores, top_k=1)

    assert report.rows == ("Min", "Select", "Zero-noise", "Mean")
    assert report.to_dict() == {
        "Min": {"MPJPE": 35.0, "PA-MPJPE": 20.0},  # (40+30)/2 ; (20+20)/2
        "Select": {"MPJPE": 35.0, "PA-MPJPE": 27.5},  # hyps 1 and 2: (40+30)/2 ; (35+20)/2
        "Zero-noise": {"MPJPE": 60.0, "PA-MPJPE": 35.0},
        "Mean": {"MPJPE": 60.0, "PA-MPJPE": 205.0 / 6},
    }
    assert report.num_persons == 2 and report.num_hypotheses == 3


def test_report_top_k_zero_index_and_no_scores(errors):
    scores = np.array([[0.1, 0.9, 0.5], [0.2, 0.1, 0.3]])

    top2 = multi_hypothesis_report(errors, scores, top_k=2, zero_index=2)
    unscored = multi_hypothesis_report(errors)

    # top-2: person 0 hyps 1, 2 -> 65; person 1 hyps 2, 0 -> 50
    assert top2.value("Select", "MPJPE") == pytest.approx(57.5)
    assert top2.value("Zero-noise", "MPJPE") == pytest.approx(60.0)
    assert unscored.rows == ("Min", "Zero-noise", "Mean")
    assert "Select" not in unscored.to_markdown()


def test_report_markdown(errors):
    report = multi_hypothesis_report(errors, np.ones((2, 3)), top_k=1)

    lines = report.to_markdown().splitlines()

    assert lines[0] == "| | MPJPE (mm) | PA-MPJPE (mm) |"
    assert lines[3] == "| Select (top-1) | 60.0 | 35.0 |"  # all tied: hypothesis 0
    assert isinstance(report, HypothesisReport) and len(lines) == 6


def test_report_rejects_bad_input(errors):
    with pytest.raises(ShapeError, match="top_k"):
        multi_hypothesis_report(errors, np.ones((2, 3)), top_k=4)
    with pytest.raises(ShapeError, match="zero_index"):
        multi_hypothesis_report(errors, zero_index=3)
    with pytest.raises(ShapeError, match="PVE"):
        multi_hypothesis_report({**errors, "PVE": np.zeros((2, 4))})


def test_spearman_and_pearson_match_scipy_with_ties():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 5, size=40).astype(float)  # many ties
    b = a + rng.normal(size=40)

    assert spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a, b).statistic)
    assert pearson(a, b) == pytest.approx(scipy.stats.pearsonr(a, b).statistic)
    assert spearman([1, 2, 2, 3], [10, 20, 20, 30]) == pytest.approx(1.0)
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_ranking_correlation_perfect_and_skips_constant_images():
    errors = np.array([[10.0, 20.0, 30.0], [5.0, 1.0, 3.0], [7.0, 8.0, 9.0]])
    scores = np.array([[3.0, 2.0, 1.0], [0.0, 4.0, 1.0], [1.0, 1.0, 1.0]])  # last constant

    result = ranking_correlation(scores, errors)

    assert result.num_images == 2
    assert result.srcc == pytest.approx(1.0)
    assert result.srcc_global == pytest.approx(spearman(-scores, errors))
    assert ranking_correlation(-scores[:2], errors[:2]).srcc == pytest.approx(-1.0)
