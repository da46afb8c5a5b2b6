"""The form of each job kind in the New Job dialog, built from the kind's own parameter
descriptions (``engine.jobs.job_kind(kind).params()``): type, default, bounds and help come
from the engine, so the form cannot disagree with the CLI or the job's validation.

A field's ``kind`` says which editor it gets: 'int', 'float', 'str', 'bool', 'choice'
(``choices``), 'dataset' (a project dataset's name) or 'checkpoint' (a reference: latest,
default, a registered id, or none when ``none`` says what none sends). Optional fields
left empty are not sent, so the engine's own default applies. ``SHOWN`` picks which
parameters a kind's form shows (the rest go in the dialog's JSON box).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.params import ParamSpec

OMIT = object()
"""``none`` value of a checkpoint field: choosing none leaves the parameter out."""
INT_RANGE = (-(2**31), 2**31 - 1)  # what a QSpinBox holds
FLOAT_LIMIT = 1e9
SMALL = 1e-2  # a default below this (a learning rate) gets more decimals


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    default: Any = None
    label: str | None = None
    tip: str = ""
    choices: tuple[str, ...] = ()
    checkpoint_kinds: tuple[str, ...] = ()
    none: Any = None
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    decimals: int = 3

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


SHOWN: dict[str, tuple[str, ...]] = {
    "synth": ("n", "domain", "name", "size", "corrupt_fraction", "seed", "workers", "import"),
    "sample": ("dataset", "checkpoint", "scorer", "num_candidates", "steps", "seed", "device", "consensus"),
    "score": ("dataset", "scorer", "device", "consensus"),
    "detect": ("dataset", "min_size", "min_score"),
    "pairs": ("dataset", "min_margin", "pairs_per_image", "top_k", "bottom_k", "export"),
    "dpo": ("dataset", "pair_selection", "checkpoint", "mode", "steps", "batch_size", "lr", "beta", "warmup_steps",
            "save_every",
            "eval_dataset", "eval_every", "scorer", "seed", "device"),
    "clean": ("dataset", "scorer", "keep_fraction", "device"),
    "train-base": ("dataset", "val_dataset", "steps", "batch_size", "lr", "device", "seed"),
    "train-scorer": ("dataset", "val_dataset", "base", "steps", "batch_size", "lr", "device", "seed"),
    "eval": ("dataset", "checkpoint", "scorer", "num_candidates", "steps", "top_k", "max_images", "seed", "device",
             "consensus"),
}
NONE_SENDS = {("eval", "scorer"): "none"}
"""Checkpoint fields whose '(none)' is a value the job reads (not the parameter left out)."""


def field_of(kind: str, spec: ParamSpec) -> Field:
    """The form field of one parameter description of the job ``kind``."""
    common = dict(tip=_tip(spec), optional=spec.optional)
    if spec.kind == "checkpoint":
        none = NONE_SENDS.get((kind, spec.name), OMIT if spec.default is None else None)
        return Field(spec.name, "checkpoint", "none" if spec.default is None else spec.default,
                     checkpoint_kinds=spec.checkpoint_kinds, none=none, **common)
    if spec.kind == "dataset" or (spec.kind == "paths" and spec.name.endswith("dataset")):
        return Field(spec.name, "dataset", spec.default, **common)
    if spec.choices:
        return Field(spec.name, "choice", spec.default, choices=spec.choices, **common)
    if spec.kind == "int":
        low, high = _int_bounds(spec)
        return Field(spec.name, "int", low if spec.default is None else spec.default, minimum=low, maximum=high,
                     **common)
    if spec.kind == "float" and not spec.optional:
        decimals = 6 if 0 < abs(spec.default) < SMALL else 3
        low, high = _float_bounds(spec, decimals)
        return Field(spec.name, "float", spec.default, minimum=low, maximum=high, decimals=decimals, **common)
    if spec.kind == "bool":
        return Field(spec.name, "bool", spec.default, **common)
    # Free text, and numbers that may be left unset (an empty box: the engine's default).
    return Field(spec.name, "str", "" if spec.default is None else spec.default, **common)


def _tip(spec: ParamSpec) -> str:
    bounds = spec.bounds_text()
    return spec.help + (f" ({bounds})" if bounds else "")


def _int_bounds(spec: ParamSpec) -> tuple[int, int]:
    low = spec.ge if spec.ge is not None else (spec.gt + 1 if spec.gt is not None else INT_RANGE[0])
    high = spec.le if spec.le is not None else (spec.lt - 1 if spec.lt is not None else INT_RANGE[1])
    low, high = max(int(math.ceil(low)), INT_RANGE[0]), min(int(math.floor(high)), INT_RANGE[1])
    # An optional number's "unset" is the value just below its range (shown as 'all').
    return (low - 1 if spec.optional else low), high


def _float_bounds(spec: ParamSpec, decimals: int) -> tuple[float, float]:
    """The spin box's range: an exclusive bound moves in by the box's smallest step."""
    step = 10.0 ** -decimals
    low = spec.ge if spec.ge is not None else (spec.gt + step if spec.gt is not None else -FLOAT_LIMIT)
    high = spec.le if spec.le is not None else (spec.lt - step if spec.lt is not None else FLOAT_LIMIT)
    return float(low), float(high)


KIND_TITLES = {
    "synth": "Render synthetic people", "sample": "Sample candidates", "score": "Score candidates",
    "detect": "Detect persons", "pairs": "Propose preference pairs", "dpo": "Fine-tune with DPO",
    "clean": "Clean a pseudo-labelled dataset", "train-base": "Train a base model",
    "train-scorer": "Train an HMR-Scorer", "eval": "Evaluate a model", "import": "Import a dataset",
}
KIND_HELP = {
    "synth": "Render synthetic people with exact 3D labels and import them as a dataset.",
    "sample": "Sample M candidate meshes for every person of a dataset (and score them).",
    "score": "Score the stored candidates of a dataset with an HMR-Scorer.",
    "detect": "Find the person in each photo of a dataset that has none yet.",
    "pairs": "Propose preference pairs from scored candidates: winners from the top of each "
             "person's ranking, losers from the bottom.",
    "dpo": "Fine-tune the diffusion model with Diffusion-DPO on the project's preference pairs "
           "(the ones chosen below); the result is registered with its parent.",
    "clean": "Score every pseudo-label of a dataset and propose which to keep (review it in the "
             "Cleaning panel).",
    "train-base": "Train the diffusion HMR model on labelled datasets.",
    "train-scorer": "Train an HMR-Scorer to rank candidates (RankNet on MPJPE, PA-MPJPE and PVE).",
    "eval": "Evaluate a model on a labelled dataset: Min, Select, Zero-noise and Mean of M "
            "hypotheses (MPJPE, PA-MPJPE, PVE).",
}
ORDER = ("sample", "score", "pairs", "dpo", "clean", "eval", "train-base", "train-scorer", "synth", "detect")
CHANGES_DATA = {"import", "synth", "detect", "sample", "score", "pairs", "dpo", "train-base", "train-scorer"}
"""Kinds whose results the window shows (image statuses, checkpoints): it re-reads the
project when one ends."""
CHANGES_CANDIDATES = {"sample", "score"}
CHANGES_PERSONS = {"detect"}


def form_of(kind: str) -> tuple[Field, ...]:
    """The fields of ``kind``'s form: its shown parameters (all of them for a kind with no
    ``SHOWN`` entry), from the engine's descriptions."""
    from engine.jobs import job_kind

    specs = job_kind(kind).params()
    shown = SHOWN.get(kind)
    if shown is not None:
        by_name = {s.name: s for s in specs}
        specs = tuple(by_name[n] for n in shown if n in by_name)
    return tuple(field_of(kind, s) for s in specs)


def ordered_kinds(registered: list[str]) -> list[str]:
    """The registered kinds, the usual ones first."""
    known = [k for k in ORDER if k in registered]
    return known + sorted(k for k in registered if k not in known and not k.startswith("hash"))
