"""Sampler and scorer plug-ins: the toy package (tests/plugins/adhmr_toy_plugin, installed
by scripts/install.sh dev) found through its entry points and used end to end."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint

import numpy as np
import pytest
from skimage import data

import engine.plugins as plugins
from engine.cli import main
from engine.errors import PluginError
from engine.image_io import save_image
from engine.models.protocols import Sampler, Scorer

ASTRONAUT_BOX = ["120", "20", "420", "512"]


def test_the_toy_plugin_is_listed_after_the_built_in_models(body):
    assert plugins.sampler_names() == ["diffusion-hmr", "toy"]
    assert plugins.scorer_names() == ["hmr-scorer", "toy"]
    sampler = plugins.load_sampler("toy", None, body, "cpu")
    scorer = plugins.load_scorer("toy", None, body, "cpu")
    assert isinstance(sampler, Sampler) and isinstance(scorer, Scorer)
    assert type(sampler).__module__ == "adhmr_toy_plugin"


def test_cli_samples_and_scores_a_photo_with_the_toy_plugin(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    save_image(photo, data.astronaut())
    out = tmp_path / "out"
    argv = ["sample", str(photo), "--sampler", "toy", "--scorer", "toy", "-M", "5", "--box", *ASTRONAUT_BOX,
            "--out", str(out), "--no-fit"]
    assert main(argv) == 0
    # The toy scorer prefers the least bent body: hypothesis 0, which the toy sampler leaves straight.
    assert "5 candidates, best #0" in capsys.readouterr().out
    with np.load(out / "candidates.npz") as z:
        assert z["params"].shape == (5, 157)
        bend = np.linalg.norm(z["pose"][:, 3:].reshape(5, 23, 3), axis=-1).sum(-1)
        sampled = z["scores"].copy()
    assert bend[0] == pytest.approx(0, abs=1e-5) and (bend[1:] > 1).all()
    assert np.argsort(-sampled)[0] == 0
    assert main(["score", str(out), "--photo", str(photo), "--scorer", "toy", "--no-consensus"]) == 0
    with np.load(out / "candidates.npz") as z:
        np.testing.assert_allclose(z["scores"], sampled, atol=1e-5)
    assert json.loads((out / "candidates.json").read_text())["candidates"][0]["rank"] == 1


def test_an_unknown_sampler_is_a_usage_error_listing_the_installed_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["sample", str(tmp_path / "p.png"), "--sampler", "nope", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "no sampler named 'nope' (installed: diffusion-hmr, toy)" in capsys.readouterr().err


@pytest.mark.parametrize("value, problem", [
    ("no_such_module_here:load", "failed to import: No module named 'no_such_module_here'"),
    ("builtins:slice", "returned a slice, not a Sampler"),
    ("builtins:dict", "failed to load: TypeError"),
])
def test_a_broken_plug_in_is_refused_in_one_line(monkeypatch, body, value, problem):
    broken = EntryPoint(name="broken", value=value, group=plugins.SAMPLER_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken] if group == plugins.SAMPLER_GROUP else [])
    assert plugins.sampler_names() == ["diffusion-hmr", "broken"]
    with pytest.raises(PluginError) as info:
        plugins.load_sampler("broken", None, body, "cpu")
    assert problem in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(PluginError, match="no adhmr.samplers plug-in named 'toy'"):
        plugins.load_sampler("toy", None, body, "cpu")
