"""adhmr eval --guidance: the option reaches the sampler and the report records it."""

from __future__ import annotations

import json

import pytest

from engine.cli import main as cli_main


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    out = tmp_path_factory.mktemp("guided") / "studio"
    assert cli_main(["synth", "--domain", "studio", "--n", "2", "--out", str(out), "--seed", "5", "--workers", "1"]) == 0
    return out / "annotations.npz"


def test_eval_guidance_changes_the_candidates_and_is_recorded(renders, tmp_path):
    reports = {}
    for scale in ("0", "3"):
        out = tmp_path / f"g{scale}.json"
        rc = cli_main(["eval", "--data", str(renders), "--no-scorer", "-M", "2", "--max-images", "2",
                       "--guidance", scale, "--json", str(out), "--device", "cpu"])
        assert rc == 0
        doc = json.loads(out.read_text())
        assert doc["settings"]["guidance_scale"] == float(scale)
        reports[scale] = doc["report"]
    assert reports["0"]["Zero-noise"]["MPJPE"] != reports["3"]["Zero-noise"]["MPJPE"]


def test_a_negative_guidance_is_a_usage_error(renders, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["eval", "--data", str(renders), "--guidance", "-1"])
    assert exit_info.value.code == 2
    assert "guidance -1 must be a finite number >= 0" in capsys.readouterr().err


def test_eval_records_orientation_and_the_world_weight(renders, tmp_path):
    reports = {}
    for name, extra in (("turned", []), ("as_sampled", ["--no-orient", "--guidance-world", "2"])):
        out = tmp_path / f"{name}.json"
        rc = cli_main(["eval", "--data", str(renders), "--no-scorer", "-M", "2", "--max-images", "2",
                       "--json", str(out), "--device", "cpu", *extra])
        assert rc == 0
        doc = json.loads(out.read_text())
        reports[name] = doc
    assert reports["turned"]["settings"]["orient"] is True
    assert reports["as_sampled"]["settings"]["orient"] is False
    assert reports["as_sampled"]["settings"]["guidance_world"] == 2.0
    # Turning changes the bodies' facing, so MPJPE, not PA-MPJPE, moves.
    turned, raw = reports["turned"]["report"]["Zero-noise"], reports["as_sampled"]["report"]["Zero-noise"]
    assert turned["MPJPE"] != raw["MPJPE"]
    assert turned["PA-MPJPE"] == pytest.approx(raw["PA-MPJPE"], abs=1e-3)
