"""Cleaning a project dataset with a detector-conditioned scorer: each stored person's
detector outputs reach the scorer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from engine import store as st
from engine.models.checkpoint import body_signature
from engine.models.param_layout import ParamLayout
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.projects.checkpoints import register_checkpoint
from engine.projects.cleaning import clean_project_dataset
from engine.training.cleaning import CleaningRule


def test_each_persons_stored_landmarks_reach_a_conditioned_scorer(tmp_path, body):
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / "img.png"), rng.integers(0, 255, (96, 96, 3), dtype=np.uint8))
    torch.manual_seed(2)
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4, detector_inputs=True))
    scorer.body_signature = body_signature(body)
    scorer.save(tmp_path / "scorer")
    label = ParamLayout().from_axis_angle(torch.zeros(72), torch.zeros(10), torch.tensor([0.9, 0.0, 0.0])).numpy()
    keypoints = np.concatenate([rng.uniform(20, 80, (17, 2)), np.ones((17, 1))], 1)
    detector = {"world_landmarks": rng.normal(0, 0.3, (33, 3)).astype(np.float32),
                "landmark_visibility": rng.uniform(0.2, 1, 33).astype(np.float32)}
    with st.Project.create(tmp_path / "p.adhmr") as project:
        ds = st.add_dataset(project, "wild", "spin", str(tmp_path))
        image = st.add_image(project, ds, "img.png", width=96, height=96)
        # The same crop, keypoints and label: only the detector's outputs tell the two apart.
        seen = st.add_person(project, image, (10.0, 5.0, 80.0, 90.0), keypoints, label_params=label,
                             detector=detector)
        unseen = st.add_person(project, image, (10.0, 5.0, 80.0, 90.0), keypoints, label_params=label)
        ckpt = register_checkpoint(project, tmp_path / "scorer")
        out = clean_project_dataset(project, "wild", CleaningRule(keep_fraction=0.5), scorer=ckpt, device="cpu")
        assert out["scored"] == 2
        scores = {d.person_id: d.score for d in st.cleaning_decisions(project, out["cleaning_run"])}
    assert scores[seen] != pytest.approx(scores[unseen], abs=1e-6)
