"""Every sampler entry point takes its default step count from one constant."""

from __future__ import annotations

import inspect

from engine.cli import build_parser
from engine.diffusion import DEFAULT_STEPS
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.sample_settings import SampleSettings
from engine.multiview.methods import DiffusionSampler, build_methods
from engine.training.pairs import PairConfig
from engine.training.scorer_config import ScorerTrainConfig


def test_the_step_default_is_one_constant_everywhere(tmp_path):
    assert SampleSettings().steps == PairConfig().steps == DEFAULT_STEPS
    assert ScorerTrainConfig(data="d.npz", out=str(tmp_path / "s")).base_steps == DEFAULT_STEPS
    for fn in (DiffusionHMR.sample, DiffusionSampler.__init__, build_methods):
        assert inspect.signature(fn).parameters["steps"].default == DEFAULT_STEPS, fn
    parser = build_parser()
    for argv in (["sample", "photo.jpg", "--out", "o"], ["eval", "--data", "d.npz"],
                 ["eval-multiview", "calib.qca.txt", "cam01.mp4"],
                 ["train-scorer", "--data", "d.npz", "--out", "s"]):
        args = parser.parse_args(argv)
        steps = getattr(args, "steps", None) if argv[0] != "train-scorer" else args.base_steps
        assert steps == DEFAULT_STEPS, argv
