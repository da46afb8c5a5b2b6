"""The lab domain: the studio's clean renders, seen from any side and from above."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.data.synth.domains import LAB, STUDIO, get_domain
from engine.data.synth.scene import sample_scene


def _views(cfg, n=400):
    """(facing away from the camera, degrees the camera looks down on the body) per scene."""
    rng = np.random.default_rng(0)
    away, down = [], []
    for _ in range(n):
        R = Rotation.from_rotvec(sample_scene(rng, cfg, 128).pose[:3]).as_matrix()
        forward, up = R @ [0.0, 0.0, 1.0], R @ [0.0, 1.0, 0.0]  # the body's axes, in the camera
        away.append(forward[2] > 0)  # camera axes: z points into the scene
        down.append(-np.degrees(np.arcsin(np.clip(up[2], -1, 1))))  # seen from above: up leans to the camera
    return np.array(away), np.array(down)


def test_lab_shows_people_from_behind_and_from_above_as_the_studio_never_does():
    lab_away, lab_down = _views(LAB)
    studio_away, studio_down = _views(STUDIO)
    assert studio_away.mean() == 0.0
    assert 0.35 < lab_away.mean() < 0.65
    # Poses that lean (the pose prior) tilt some studio bodies too; the lab's cameras
    # looking down tilt several times as many.
    assert (lab_down > 25).mean() > 4 * (studio_down > 25).mean()
    assert (lab_down > 25).mean() > 0.2


def test_lab_keeps_the_studio_look():
    assert get_domain("lab") is LAB
    for field in ("cluttered", "occluder_prob", "truncation_prob", "keypoint_noise_px", "blur_prob", "fill"):
        assert getattr(LAB, field) == getattr(STUDIO, field)


def test_an_unknown_domain_is_refused_by_name():
    from engine.errors import DataError

    with pytest.raises(DataError, match="lab"):
        get_domain("labs")
