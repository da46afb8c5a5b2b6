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
