"""``adhmr synth`` end to end on a tiny set."""

import numpy as np

from engine.cli import main


def test_synth_command_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "studio"
    rc = main(["synth", "--domain", "studio", "--n", "3", "--out", str(out), "--size", "64", "--workers", "1"])
    assert rc == 0
    assert f"wrote {out / 'annotations.npz'}" in capsys.readouterr().out
    with np.load(out / "annotations.npz") as z:
        assert len(z["imgname"]) == 3 and set(z["domain"]) == {"studio"}
    assert len(list((out / "images").glob("*.jpg"))) == 3


def test_synth_command_reports_a_settings_clash_in_one_line(tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["synth", "--domain", "studio", "--n", "1", "--out", str(out), "--size", "64", "--workers", "1"]) == 0
    rc = main(["synth", "--domain", "wild", "--n", "1", "--out", str(out), "--size", "64", "--workers", "1"])
    err = capsys.readouterr().err  # tqdm draws its bar on stderr too
    assert rc == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("adhmr synth: error: ") and "other settings" in err
