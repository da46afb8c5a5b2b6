"""``adhmr experiment --budget tiny``: the whole pipeline on tiny models writes the report,
and a second call resumes from the stage results instead of redoing them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main
from engine.errors import DataError
from engine.experiments import get_budget
from engine.experiments.real_report import REAL_HEADING



def test_the_tiny_experiment_writes_the_report(tmp_path, tiny_detector_checkpoints, capsys):
    base, scorer = tiny_detector_checkpoints
    args = ["experiment", "--track", "synthetic", "--budget", "tiny", "--base", str(base), "--scorer", str(scorer),
            "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "docs")]
    # What the real track wrote before: the synthetic track must keep it, after its own.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "findings.json").write_text(json.dumps({"real": {"finding1": {"verdict": "r"}}}))
    (tmp_path / "docs" / "findings.md").write_text(f"{REAL_HEADING} (Pose2Sim)\n\nreal rows\n")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and out.count("reproduced") == 3
    findings = json.loads((tmp_path / "docs" / "findings.json").read_text())
    assert findings["settings"]["seeds"] == [0, 1, 2]
    select = findings["finding1"]["rows"]["Select"]["MPJPE"]
    assert len(select["values"]) == 3 and select["min"] <= select["mean"] <= select["max"]
    assert set(findings["finding2"]["rows"]) == {f"{m} / {r}" for m in ("base", "DPO", "control (2D reprojection)")
                                                for r in ("Zero-noise", "Select")}
    assert set(findings["finding3"]["detection"]) == {"top80", "top60"}
    assert findings["finding3"]["corrupted"] == 3 and findings["finding3"]["kept"]["top60"] == 6
    text = (tmp_path / "docs" / "findings.md").read_text()
    assert text.count("| Select |") == 1 and "± " in text and "## 3." in text
    assert findings["real"] == {"finding1": {"verdict": "r"}}
    assert text.startswith("# ADHMR's findings in miniature")
    assert text.endswith(f"{REAL_HEADING} (Pose2Sim)\n\nreal rows\n")
    # Every wild set has its detector cache, and the detector-conditioned base model got the
    # detector's landmarks for every pair it sampled.
    sets = list((tmp_path / "cache").glob("wild-*"))
    assert len(sets) == 4 and all((s / "annotations.detector.npz").is_file() for s in sets)
    (work,) = (tmp_path / "cache" / "runs").glob("tiny-*")
    pairs = [json.loads(line) for line in (work / "seed0" / "pairs.jsonl").read_text().splitlines()]
    assert pairs and all(np.shape(p["landmarks"]) == (33, 6) for p in pairs)
    # Run again: every stage comes from the work folder, none is redone or rewritten.
    stages = {f: f.stat().st_mtime_ns for f in (tmp_path / "cache").rglob("*") if f.is_file()}
    assert main(args) == 0
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "cache").rglob("*") if f.is_file()} == stages
    again = json.loads((tmp_path / "docs" / "findings.json").read_text())
    assert {k: v for k, v in again.items() if k != "settings"} == {k: v for k, v in findings.items() if k != "settings"}


def test_budgets_refuse_too_few_seeds_and_unknown_settings():
    with pytest.raises(DataError, match="at least 3 seeds"):
        get_budget("small").with_overrides({"seeds": 2})
    with pytest.raises(DataError, match="unknown setting dpo_stepz"):
        get_budget("small").with_overrides({"dpo_stepz": 3})
    with pytest.raises(DataError, match="unknown budget"):
        get_budget("huge")


def test_dpo_that_lowers_no_error_does_not_reproduce_whatever_the_control_does():
    from engine.experiments.report_cells import _verdict

    assert _verdict([True, True]) == "reproduced"
    assert _verdict([False, True]) == "partly reproduced"
    assert _verdict([False, False]) == "not reproduced"
    # DPO worse than the base model everywhere, better than the control on one metric.
    assert _verdict([False, False, True, False], needed=[False, False]) == "not reproduced"
    assert _verdict([True, False, True, False], needed=[True, False]) == "partly reproduced"


def test_a_changed_scorer_config_is_not_served_old_results(tmp_path):
    from engine.experiments.runner import work_stamp

    for name in ("base", "scorer"):
        (tmp_path / f"{name}.safetensors").write_bytes(b"weights")
        (tmp_path / f"{name}.json").write_text('{"calibration": {"logit_offset": 1.0}}')
    budget = get_budget("tiny")
    before = work_stamp(budget, tmp_path / "base.safetensors", tmp_path / "scorer.safetensors")
    assert work_stamp(budget, tmp_path / "base.safetensors", tmp_path / "scorer.safetensors") == before
    # Same weights, a new consensus weight: the rankings change, so the stages must rerun.
    (tmp_path / "scorer.json").write_text('{"consensus": {"weight_per_mm": 0.03}}')
    assert work_stamp(budget, tmp_path / "base.safetensors", tmp_path / "scorer.safetensors") != before
