"""A checkpoint config with malformed or out-of-bounds architecture numbers is refused in
one line before anything is built (no traceback, no gigabytes allocated)."""

import json
import shutil

import pytest

from engine.cli import main
from engine.errors import CheckpointError
from engine.models.checkpoint import load_checkpoint
from engine.models.diffusion_hmr import DEFAULT_CHECKPOINT
from engine.models.scorer import DEFAULT_SCORER_PATH

BAD_BASE = [
    ({"body_model": {"name": "adhmr-open-body", "num_vertices": "lots"}}, "num_vertices must be a whole number"),
    ({"x0_clip": "abc"}, "x0_clip must be a number"),
    ({"num_timesteps": 2e9}, "num_timesteps must be a whole number"),
    ({"width": 10**6}, "width must be a whole number"),
    ({"crop_size": 100000}, "crop_size must be a whole number"),
    ({"crop_size": 96.5}, "crop_size must be a whole number"),
    ({"encoder_channels": [32, 10**9]}, "encoder_channels must be a whole number"),
    ({"loss_weights": {"x0": "heavy"}}, "loss_weights must map"),
    ({"width": 4096, "layers": 64}, "more than its"),
]


def _copy(tmp_path, source, name, **changes):
    stem = tmp_path / name
    shutil.copy(f"{source}.safetensors", f"{stem}.safetensors")
    cfg = json.loads(open(f"{source}.json").read())
    for key, value in changes.items():
        if key == "architecture":
            cfg["architecture"].update(value)
        else:
            cfg[key] = value
    (tmp_path / f"{name}.json").write_text(json.dumps(cfg))
    return stem


@pytest.mark.parametrize("changes, words", BAD_BASE, ids=[w for _, w in BAD_BASE])
def test_a_bad_base_config_is_one_line_from_adhmr_sample(tmp_path, capsys, changes, words):
    stem = _copy(tmp_path, DEFAULT_CHECKPOINT, "evil", **changes)
    assert main(["sample", str(tmp_path / "photo.png"), "--checkpoint", str(stem), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "evil.safetensors" in err, err


@pytest.mark.parametrize("arch, words", [
    ({"width": "wide"}, "width must be a whole number"),
    ({"grid": 10**5}, "grid must be a whole number"),
    ({"width": 2048, "layers": 8, "heads": 8}, "more than its"),
])
def test_a_bad_scorer_config_is_refused(tmp_path, arch, words):
    stem = _copy(tmp_path, DEFAULT_SCORER_PATH, "scorer", architecture=arch)
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(stem, expected_kind="scorer")


def test_the_bundled_checkpoints_pass():
    load_checkpoint(DEFAULT_CHECKPOINT, expected_kind="base")
    load_checkpoint(DEFAULT_SCORER_PATH, expected_kind="scorer")
