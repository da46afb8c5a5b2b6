"""Tiny untrained checkpoints for the experiment tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture
def tiny_checkpoints(tmp_path):
    """(base, scorer) checkpoint stems: crop 64, width 32, one layer each."""
    from engine.body.model import BodyModel
    from engine.models.checkpoint import body_signature
    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.param_layout import Normalizer, ParamLayout
    from engine.models.scorer import HMRScorer, ScorerConfig

    body = BodyModel()
    D = ParamLayout().dim
    torch.manual_seed(0)
    base = DiffusionHMR(dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 32, 32]),
                        Normalizer(np.zeros(D, np.float32), np.full(D, 0.1, np.float32)), body)
    base.save(tmp_path / "base")
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4))
    scorer.body_signature = body_signature(body)
    scorer.save(tmp_path / "scorer")
    return tmp_path / "base", tmp_path / "scorer"
