"""The form of each job kind in the New Job dialog: its fields, their kinds and defaults.

A field's ``kind`` says which editor it gets: 'int', 'float', 'str', 'bool', 'choice'
(``choices``), 'dataset' (a project dataset's name) or 'checkpoint' (a reference: latest,
default, a registered id, or none when ``none`` says what none sends). Optional fields
left empty are not sent, so the engine's own default applies. Defaults are small
enough to finish on a laptop CPU; the engine's docstrings give the full parameter lists
and the dialog's JSON box takes any other parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OMIT = object()
"""``none`` value of a checkpoint field: choosing none leaves the parameter out."""


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

    @property
    def text(self) -> str:
        return self.label or self.name.replace("_", " ")


def _ckpt(name: str, kinds: tuple[str, ...], tip: str, none: Any = None, default: str = "latest") -> Field:
    return Field(name, "checkpoint", default, tip=tip, checkpoint_kinds=kinds, none=none)


BASE = ("base", "dpo")
DATASET = Field("dataset", "dataset", tip="A dataset of this project")
M = Field("M", "int", 20, tip="Hypotheses sampled per person", minimum=1, maximum=1000)
STEPS = Field("steps", "int", 4, tip="DDIM network evaluations per hypothesis", minimum=1, maximum=1000)
SEED = Field("seed", "int", 0, minimum=0, maximum=2**31 - 1)
DEVICE = Field("device", "str", "", tip="cpu, cuda, cuda:1 … (empty: automatic)", optional=True)
CONSENSUS = Field("consensus", "bool", True, tip="Candidates that agree with the rest of their run score higher "
                  "(off: the scorer network alone, as in the paper)")

FORMS: dict[str, tuple[Field, ...]] = {
    "synth": (
        Field("n", "int", 16, tip="Synthetic people to render", minimum=1, maximum=1_000_000),
        Field("domain", "choice", "studio", choices=("studio", "wild"),
              tip="studio: plain backdrops; wild: cluttered scenes, harder lighting"),
        Field("name", "str", "", tip="Dataset name (empty: synth-<domain>)", optional=True),
        Field("size", "int", 256, tip="Image side in pixels", minimum=32, maximum=4096),
        Field("corrupt_fraction", "float", 0.0, tip="Share of labels given realistic errors (to test cleaning)",
              minimum=0.0, maximum=1.0),
        SEED,
        Field("workers", "int", 1, tip="Rendering processes", minimum=1, maximum=64),
        Field("import", "bool", True, tip="Import the result as a dataset of this project"),
    ),
    "sample": (
        DATASET,
        _ckpt("checkpoint", BASE, "The diffusion model (base or DPO)"),
        _ckpt("scorer", ("scorer",), "Scores the candidates (none: leave them unscored)", none=OMIT),
        M, STEPS, SEED, DEVICE, CONSENSUS,
    ),
    "score": (DATASET, _ckpt("scorer", ("scorer",), "The HMR-Scorer"), DEVICE, CONSENSUS),
    "detect": (DATASET,),
    "pairs": (
        DATASET,
        Field("min_margin", "float", 0.2, tip="Smallest gap in log-odds between the winner's and the loser's "
              "score (0.2 is about 0.05 near a score of 0.5)", minimum=0.0, maximum=20.0),
        Field("per_person", "int", 4, tip="Pairs proposed per person", minimum=1, maximum=1000),
        Field("top_k", "int", 5, tip="Winners come from this many best-scored candidates", minimum=1, maximum=1000),
        Field("bottom_k", "int", 5, tip="Losers come from this many worst-scored candidates", minimum=1,
              maximum=1000),
        Field("export", "str", "", tip="Also write the training pairs to this .jsonl or .npz file",
              optional=True),
    ),
    "dpo": (
        Field("dataset", "dataset", tip="Train on the pairs of this dataset's persons (none: every pair)",
              optional=True),
        _ckpt("checkpoint", BASE, "The model to fine-tune (also the frozen reference)"),
        Field("mode", "choice", "dpo", choices=("dpo", "reprojection"),
              tip="dpo: Diffusion-DPO on the pairs; reprojection: the 2D reprojection control"),
        Field("steps", "int", 500, tip="Optimiser steps", minimum=1, maximum=10_000_000),
        Field("batch_size", "int", 8, minimum=1, maximum=4096),
        Field("lr", "float", 1e-5, tip="Learning rate", minimum=0.0, maximum=1.0),
        Field("beta", "float", 100.0, tip="DPO β: how far the model may move from the reference", minimum=0.0,
              maximum=1e6),
        Field("eval_dataset", "dataset", tip="Labelled dataset evaluated during training (optional)",
              optional=True),
        Field("eval_every", "int", 0, tip="Evaluate every this many steps (0: at the end only)", minimum=0,
              maximum=10_000_000),
        _ckpt("scorer", ("scorer",), "Adds the Select row to the evaluation (none: without)", none=OMIT,
              default="none"),
        SEED, DEVICE,
    ),
    "clean": (
        DATASET,
        _ckpt("scorer", ("scorer",), "Scores each pseudo-label"),
        Field("keep_fraction", "float", 0.8, tip="Share of the samples kept, best scores first", minimum=0.01,
              maximum=1.0),
        DEVICE,
    ),
    "train-base": (
        DATASET,
        Field("val_dataset", "dataset", tip="Validation dataset (optional)", optional=True),
        Field("steps", "int", 2000, minimum=1, maximum=10_000_000),
        Field("batch_size", "int", 32, minimum=1, maximum=4096),
        Field("lr", "float", 3e-4, minimum=0.0, maximum=1.0),
        Field("device", "str", "auto", tip="auto, cpu, cuda, cuda:1 …"),
        SEED,
    ),
    "train-scorer": (
        DATASET,
        Field("val_dataset", "dataset", tip="Validation dataset (optional)", optional=True),
        _ckpt("base", BASE, "Base model whose samples join the training candidates (none: noise only)",
              none=OMIT, default="none"),
        Field("steps", "int", 2000, minimum=1, maximum=10_000_000),
        Field("batch_size", "int", 8, minimum=1, maximum=4096),
        Field("lr", "float", 3e-4, minimum=0.0, maximum=1.0),
        Field("device", "str", "", tip="cpu, cuda … (empty: automatic)", optional=True),
        SEED,
    ),
    "eval": (
        DATASET,
        _ckpt("checkpoint", BASE, "The model to evaluate"),
        _ckpt("scorer", ("scorer",), "Selects the top-k hypotheses (none: skip the Select rows)", none="none"),
        M, STEPS,
        Field("top_k", "int", 1, minimum=1, maximum=1000),
        Field("max_images", "int", 0, tip="Evaluate at most this many images (0: all)", optional=True,
              minimum=0, maximum=10_000_000),
        SEED, DEVICE, CONSENSUS,
    ),
}
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
           "(accepted and proposed); the result is registered with its parent.",
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
    return FORMS.get(kind, ())


def ordered_kinds(registered: list[str]) -> list[str]:
    """The registered kinds, the usual ones first."""
    known = [k for k in ORDER if k in registered]
    return known + sorted(k for k in registered if k not in known and not k.startswith("hash"))
