"""Tiny untrained checkpoints for the experiment tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _tiny(folder, detector_inputs: bool):
    """(base, scorer) checkpoint stems: crop 64, width 32, one layer each."""
    from engine.body.model import BodyModel
    from engine.models.checkpoint import body_signature
    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.param_layout import Normalizer, ParamLayout
    from engine.models.scorer import HMRScorer, ScorerConfig

    body = BodyModel()
    D = ParamLayout().dim
    torch.manual_seed(0)
    base = DiffusionHMR(dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 32, 32],
                             detector_inputs=detector_inputs),
                        Normalizer(np.zeros(D, np.float32), np.full(D, 0.1, np.float32)), body)
    base.save(folder / "base")
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4,
                                    detector_inputs=detector_inputs))
    scorer.body_signature = body_signature(body)
    scorer.save(folder / "scorer")
    return folder / "base", folder / "scorer"


@pytest.fixture
def tiny_checkpoints(tmp_path):
    """(base, scorer) checkpoint stems of untrained tiny models."""
    return _tiny(tmp_path, detector_inputs=False)


@pytest.fixture
def tiny_detector_checkpoints(tmp_path):
    """(base, scorer) of untrained tiny models that also read the detector's landmarks."""
    return _tiny(tmp_path, detector_inputs=True)
