"""``adhmr sample`` on a photo with several people: every person, or --person K."""

import json

import pytest
import torch

import engine.models.scorer as scorer_module
from engine.cli import main
from engine.data.synth import SynthBody
from engine.data.synth.composite import STREET, scene
from engine.image_io import save_image
from engine.models.diffusion_hmr import DiffusionHMR

TINY = {"crop_size": 64, "width": 32, "layers": 1, "heads": 2}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, body):
    root = tmp_path_factory.mktemp("people")
    torch.manual_seed(0)
    DiffusionHMR(TINY, body=body).eval().save(root / "tiny")
    save_image(root / "street.png", scene(SynthBody.load(), STREET).image)
    return root


def _sample(root, *extra):
    return main(["sample", str(root / "street.png"), "-M", "3", "--checkpoint", str(root / "tiny"), "--no-fit",
                 *extra])


def test_every_person_gets_a_folder(setup, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(scorer_module, "DEFAULT_SCORER_PATH", tmp_path / "no_scorer")
    assert _sample(setup, "--out", str(tmp_path / "all")) == 0
    printed = capsys.readouterr().out
    for k in range(4):
        assert f"person {k}: 3 candidates" in printed
        doc = json.loads((tmp_path / "all" / f"person_{k}" / "candidates.json").read_text())
        assert doc["num_hypotheses"] == 3


def test_one_person_by_number(setup, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(scorer_module, "DEFAULT_SCORER_PATH", tmp_path / "no_scorer")
    assert _sample(setup, "--person", "2", "--out", str(tmp_path / "one")) == 0
    assert "person 2: 3 candidates" in capsys.readouterr().out
    assert (tmp_path / "one" / "candidates.npz").is_file()
    assert not (tmp_path / "one" / "person_0").exists()
    assert _sample(setup, "--person", "7", "--out", str(tmp_path / "none")) == 1
    err = capsys.readouterr().err.strip()
    assert "--person 7 is out of range: 4 people found (0..3)" in err and len(err.splitlines()) == 1
    assert _sample(setup, "--min-size", "5000", "--out", str(tmp_path / "none")) == 1
    assert "no person found" in capsys.readouterr().err
