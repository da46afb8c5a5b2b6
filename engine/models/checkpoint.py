"""Checkpoints: safetensors weights plus a JSON config beside them.

A checkpoint ``NAME`` is two files, ``NAME.safetensors`` and ``NAME.json``. The config
records the kind (base, scorer, dpo), the architecture, the body model it was trained
with (name and vertex count) and the parameter layout, so a checkpoint that does not fit
the body model in use is refused with a clear message. Weights are never unpickled:
safetensors only (or ``torch.load(weights_only=True)`` for a ``.pt`` state dict).
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from engine.errors import CheckpointError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(weights, config) paths for a checkpoint given by either file or the common stem."""
    p = Path(path)
    if not p.name:
        raise CheckpointError(f"{str(path)!r}: not a checkpoint path (name the weights file or its stem)")
    if p.suffix in (".safetensors", ".json", ".pt"):
        stem = p.with_suffix("")
    else:
        stem = p
    weights = stem.with_suffix(".pt") if p.suffix == ".pt" else stem.with_suffix(".safetensors")
    return weights, stem.with_suffix(".json")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def save_checkpoint(path: str | Path, state_dict: dict[str, torch.Tensor], config: dict[str, Any]) -> Path:
    """Write weights and config atomically (each file replaced in one rename).

    Args:
        path: the stem or the ``.safetensors`` path.
        state_dict: tensors to save (moved to CPU, made contiguous).
        config: JSON-serialisable; must hold 'kind'.

    Returns:
        the weights path.
    """
    if "kind" not in config:
        raise CheckpointError("checkpoint config needs a 'kind'")
    weights, cfg_path = checkpoint_paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    tmp = weights.with_name(weights.name + f".tmp{os.getpid()}")
    save_file(tensors, str(tmp))
    tmp.replace(weights)
    cfg = dict(config, format_version=FORMAT_VERSION)
    _atomic_write_bytes(cfg_path, json.dumps(cfg, indent=1).encode())
    log.info("saved %s checkpoint %s", config["kind"], weights)
    return weights


def load_checkpoint(
    path: str | Path,
    expected_kind: str | tuple[str, ...] | None = None,
    body: Any | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint and check it fits.

    Args:
        path: the stem, ``.safetensors``, ``.json`` or ``.pt`` path.
        expected_kind: refuse other kinds ('base', 'scorer', 'dpo').
        body: a BodyModel; refuse a checkpoint trained with another body model.

    Returns:
        (state_dict, config).

    Raises:
        CheckpointError: missing, truncated, corrupt, untrusted, or mismatched.
    """
    weights, cfg_path = checkpoint_paths(path)
    if not weights.is_file():
        raise CheckpointError(f"{weights}: checkpoint weights not found")
    if not cfg_path.is_file():
        raise CheckpointError(f"{cfg_path}: checkpoint config not found (it must sit beside the weights)")
    try:
        config = json.loads(cfg_path.read_text())
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON, UTF-8, or a 5000-digit number
        raise CheckpointError(f"{cfg_path}: not a readable checkpoint config ({str(exc).splitlines()[0]})") from None
    if not isinstance(config, dict) or "kind" not in config:
        raise CheckpointError(f"{cfg_path}: checkpoint config has no 'kind'")
    if config.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise CheckpointError(f"{cfg_path}: written by a newer ADHMR Studio (format {config['format_version']})")
    kinds = (expected_kind,) if isinstance(expected_kind, str) else expected_kind
    if kinds and config["kind"] not in kinds:
        raise CheckpointError(f"{weights}: a {config['kind']} checkpoint, expected {' or '.join(kinds)}")
    if body is not None:
        check_body(weights, config, body)
    check_architecture(weights, config)
    try:
        if weights.suffix == ".pt":
            state = torch.load(weights, map_location="cpu", weights_only=True)
        else:
            state = load_file(str(weights))
    except (SafetensorError, OSError, RuntimeError, ValueError, EOFError) as exc:
        raise CheckpointError(f"{weights}: corrupt or truncated checkpoint ({str(exc).splitlines()[0]})") from None
    except Exception as exc:  # torch's weights_only unpickler raises UnpicklingError subclasses
        raise CheckpointError(f"{weights}: refused to load ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{weights}: does not hold a dictionary of tensors")
    check_size(weights, config, sum(v.numel() for v in state.values()))
    return state, config


# Sane bounds of the architecture numbers a config may hold (a model outside them would
# allocate gigabytes before its weights could be found not to fit).
INT_BOUNDS = {"crop_size": (16, 1024), "width": (8, 4096), "layers": (1, 64), "heads": (1, 64),
              "grid": (1, 64), "num_timesteps": (1, 100_000)}
FLOAT_BOUNDS = {"mlp_ratio": (0.25, 16.0), "beta_start": (0.0, 1.0), "beta_end": (0.0, 1.0),
                "x0_clip": (0.0, 1e6)}
MAX_CHANNELS = 4096


def _whole(weights: Path, name: str, value: Any, lo: int, hi: int) -> int:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value != int(value) or not lo <= value <= hi:
        raise CheckpointError(f"{weights}: config {name} must be a whole number {lo}..{hi}, got {value!r}")
    return int(value)


def _arch(config: dict[str, Any]) -> Any:
    """The architecture numbers: at the top of a base model's config, under
    "architecture" in a scorer's."""
    return config.get("architecture", config)


def check_architecture(weights: Path, config: dict[str, Any]) -> None:
    """Refuse architecture numbers of the wrong type or out of bounds (before the
    weights are read and anything is built)."""
    arch = _arch(config)
    if not isinstance(arch, dict):
        raise CheckpointError(f"{weights}: config architecture is not a mapping")
    for key, (lo, hi) in INT_BOUNDS.items():
        if key in arch:
            _whole(weights, key, arch[key], lo, hi)
    for key, (flo, fhi) in FLOAT_BOUNDS.items():
        value = arch.get(key, flo)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not flo <= value <= fhi:
            raise CheckpointError(f"{weights}: config {key} must be a number {flo:g}..{fhi:g}, got {value!r}")
    channels = arch.get("encoder_channels", [])
    if not isinstance(channels, list) or not 0 < len(channels) <= 16 and "encoder_channels" in arch:
        raise CheckpointError(f"{weights}: config encoder_channels must be a list of 1..16 numbers")
    for c in channels:
        _whole(weights, "encoder_channels", c, 1, MAX_CHANNELS)
    losses = arch.get("loss_weights", {})
    if not isinstance(losses, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in losses.values()
    ):
        raise CheckpointError(f"{weights}: config loss_weights must map names to finite numbers")


def check_size(weights: Path, config: dict[str, Any], numel: int) -> None:
    """Refuse a config that describes a transformer larger than its weights: each layer
    holds at least 4 width^2 numbers (query, key, value and output projections)."""
    arch = _arch(config)
    width, layers = arch.get("width"), arch.get("layers")
    if isinstance(width, (int, float)) and isinstance(layers, (int, float)) and layers * 4 * width**2 > numel:
        raise CheckpointError(
            f"{weights}: config describes {layers:g} layers of width {width:g}, more than its "
            f"{numel} weights can hold"
        )


def body_signature(body: Any) -> dict[str, Any]:
    """What a checkpoint records about the body model it was trained with."""
    return {"name": body.name, "num_vertices": int(body.num_vertices)}


def check_body(weights: Path, config: dict, body: Any) -> None:
    recorded = config.get("body_model")
    if not recorded:
        raise CheckpointError(f"{weights}: checkpoint does not record its body model")
    if not isinstance(recorded, dict):
        raise CheckpointError(f"{weights}: config body_model is not a mapping")
    now = body_signature(body)
    vertices = recorded.get("num_vertices")
    if isinstance(vertices, bool) or not isinstance(vertices, int):
        raise CheckpointError(f"{weights}: config body_model.num_vertices must be a whole number, got {vertices!r}")
    if recorded.get("name") != now["name"] or vertices != now["num_vertices"]:
        raise CheckpointError(
            f"{weights}: trained with body model {recorded.get('name')!r} ({recorded.get('num_vertices')} vertices), "
            f"but the body model in use is {now['name']!r} ({now['num_vertices']} vertices)"
        )
