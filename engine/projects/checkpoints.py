"""Checkpoints a project knows: registering files and finding them again by reference.

A reference is a registered id (``3`` or ``"3"``), ``"latest"`` (the newest registered
checkpoint of the wanted kinds), ``"default"`` (the bundled ``resources/checkpoints``
file), or a path to a checkpoint (stem, ``.safetensors`` or ``.json``), registered on
first use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.errors import CheckpointError
from engine.models.checkpoint import checkpoint_paths
from engine.projects.importing import sha256_file
from engine.store import CheckpointRecord, Project, add_checkpoint, get_checkpoint, list_checkpoints

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "checkpoints"
BUNDLED = {"base": RESOURCES / "base", "scorer": RESOURCES / "scorer"}


def bundled_checkpoint(kind: str) -> Path | None:
    """The weights of the bundled 'base' or 'scorer' checkpoint, or None when absent."""
    stem = BUNDLED.get(kind)
    if stem is None:
        return None
    weights, config = checkpoint_paths(stem)
    return weights if weights.is_file() and config.is_file() else None


def read_checkpoint_config(path: str | Path) -> dict[str, Any]:
    """The JSON config beside a checkpoint's weights; CheckpointError when unreadable."""
    weights, cfg = checkpoint_paths(path)
    if not weights.is_file():
        raise CheckpointError(f"{weights}: no such checkpoint file")
    try:
        config = json.loads(cfg.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{cfg}: unreadable checkpoint config ({e})") from None
    if not isinstance(config, dict) or not isinstance(config.get("kind"), str):
        raise CheckpointError(f"{cfg}: checkpoint config names no kind")
    return config


def register_checkpoint(
    project: Project,
    path: str | Path,
    parent_id: int | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> int:
    """Register a checkpoint file (kind from its config); the same file twice gives one id."""
    weights = checkpoint_paths(path)[0].resolve()
    config = read_checkpoint_config(weights)
    digest = sha256_file(weights)
    for known in list_checkpoints(project, config["kind"]):
        if known.sha256 == digest and known.path == str(weights):
            return known.id
    return add_checkpoint(project, config["kind"], str(weights), digest, parent_id, config, metrics)


def resolve_checkpoint(
    project: Project, ref: str | int | None, kinds: Sequence[str]
) -> CheckpointRecord:
    """The checkpoint ``ref`` names (see the module docstring), of one of ``kinds``.

    None means "latest", falling back to "default" when none is registered.
    Raises CheckpointError when there is no such checkpoint or it is of another kind.
    """
    kinds = tuple(kinds)
    ref = "latest" if ref is None else ref
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        rec = get_checkpoint(project, int(ref))
    elif ref == "latest":
        known = [c for c in list_checkpoints(project) if c.kind in kinds]
        if known:
            return known[-1]
        return resolve_checkpoint(project, "default", kinds)
    elif ref == "default":
        weights = bundled_checkpoint(kinds[0])
        if weights is None:
            raise CheckpointError(
                f"no {kinds[0]} checkpoint: none is registered in this project and "
                f"{BUNDLED.get(kinds[0], RESOURCES / kinds[0])}.safetensors is not installed"
            )
        rec = get_checkpoint(project, register_checkpoint(project, weights))
    else:
        rec = get_checkpoint(project, register_checkpoint(project, ref))
    if rec.kind not in kinds:
        raise CheckpointError(f"checkpoint {rec.id} ({rec.path}) is a {rec.kind} checkpoint, expected {' or '.join(kinds)}")
    return rec
