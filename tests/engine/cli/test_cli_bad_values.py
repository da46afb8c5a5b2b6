"""Seeds, devices and candidate counts that cannot work are one line and exit 2, never a
traceback."""

import pytest
import torch

from engine.cli import main
from engine.devices import check_device
from engine.errors import DeviceError

MISSING_CUDA = "cuda:99" if torch.cuda.is_available() else "cuda"


@pytest.mark.parametrize("argv, words", [
    (["sample", "p.png", "--out", "o", "--seed", "1e20"], "invalid seed '1e20'"),
    (["sample", "p.png", "--out", "o", "--seed", str(10**20)], "out of range"),
    (["synth", "--out", "o", "--n", "1", "--domain", "wild", "--seed", "-1"], "out of range"),
    (["train-base", "--data", "d.npz", "--out", "o", "--seed", "1e20"], "invalid seed"),
    (["sample", "p.png", "--out", "o", "--device", MISSING_CUDA], "device"),
    (["sample", "p.png", "--out", "o", "--device", "bogus"], "unknown device 'bogus'"),
    (["train-scorer", "--data", "d.npz", "--out", "o", "--device", "meta"], "CPU or CUDA only"),
    (["clean", "--data", "d.npz", "--out", "o.npz", "--device", "bogus"], "unknown device"),
    (["sample", "p.png", "--out", "o", "-M", "20000"], "outside 1..1000"),
    (["sample", "p.png", "--out", "o", "-M", "0"], "outside 1..1000"),
    (["sample", "p.png", "--out", "o", "--fit-start", "2"], "fit start 2 must be in [0, 1]"),
    (["eval", "--data", "d.npz", "--fit", "--fit-start", "half"], "invalid fit start 'half'"),
    (["eval-multiview", "c.qca.txt", "v.mp4", "--fit-start", "-0.1"], "must be in [0, 1]"),
])
def test_usage_error_in_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and words in err.strip().splitlines()[-1]


def test_engine_refuses_the_same_devices():
    assert check_device("auto").type in ("cpu", "cuda") and check_device("cpu") == torch.device("cpu")
    for name in ("bogus", MISSING_CUDA, "meta", ""):
        with pytest.raises(DeviceError):
            check_device(name)


def test_the_engine_caps_candidates_too(tmp_path, capsys):
    from engine.errors import ShapeError
    from engine.models.sample_settings import MAX_CANDIDATES, SampleSettings

    assert SampleSettings(num_candidates=MAX_CANDIDATES).num_candidates == MAX_CANDIDATES
    with pytest.raises(ShapeError, match="num_candidates must be 1..1000"):
        SampleSettings(num_candidates=MAX_CANDIDATES + 1)
    project = tmp_path / "p.adhmr"
    assert main(["init", str(project)]) == 0
    capsys.readouterr()
    assert main(["jobs", str(project), "run", "sample", "--param", "dataset=x", "--param", "num_candidates=20000"]) == 1
    assert "<= 1000" in capsys.readouterr().err
