"""The bundled open body behaves like SMPL for someone who knows SMPL."""

import numpy as np
import pytest
import torch

from engine.body.model import SMPL_JOINT_NAMES, BodyModel
from engine.body.named_poses import NAMED_POSES
from engine.errors import ShapeError

J = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}



def pose(body, name, betas=None):
    p = torch.as_tensor(NAMED_POSES[name])[None]
    return body(p, betas, rotation_format="axis_angle")


def test_loads_with_no_arguments(body):
    assert body.num_vertices == 13718
    assert body.faces.shape[1] == 3 and body.faces.max() < body.num_vertices
    out = body(torch.zeros(2, 24, 3), rotation_format="axis_angle")
    assert out.vertices.shape == (2, 13718, 3)
    assert out.joints.shape == (2, 24, 3)
    assert out.keypoints.shape == (2, 17, 3)


def test_rest_is_an_average_adult_in_t_pose_y_up_facing_plus_z(body):
    out = pose(body, "t_pose")
    v, j, k = out.vertices[0], out.joints[0], out.keypoints[0]
    height = float(v[:, 1].max() - v[:, 1].min())
    assert 1.6 <= height <= 1.8
    assert j[J["head"], 1] > j[J["pelvis"], 1] > j[J["left_ankle"], 1]  # Y up
    assert j[J["left_wrist"], 0] > 0.5 and j[J["right_wrist"], 0] < -0.5  # left at +X, arms out
    assert abs(float(j[J["left_wrist"], 1] - j[J["left_shoulder"], 1])) < 0.05  # arms horizontal
    assert k[0, 2] > j[J["head"], 2]  # the nose points to +Z


def test_raise_left_arm_moves_only_the_left_arm_up(body):
    rest = pose(body, "t_pose").joints[0]
    raised = pose(body, "raise_left_arm").joints[0]
    assert raised[J["left_wrist"], 1] > rest[J["head"], 1]
    assert raised[J["right_wrist"], 1] < rest[J["right_shoulder"], 1]
    assert torch.allclose(raised[J["left_ankle"]], rest[J["left_ankle"]], atol=1e-5)


def test_bend_right_knee_90_degrees_puts_the_foot_behind(body):
    j = pose(body, "bend_right_knee").joints[0]
    thigh = j[J["right_knee"]] - j[J["right_hip"]]
    shank = j[J["right_ankle"]] - j[J["right_knee"]]
    angle = torch.rad2deg(torch.arccos(torch.dot(thigh, shank) / thigh.norm() / shank.norm()))
    assert 80 < float(angle) < 100
    assert j[J["right_ankle"], 2] < j[J["right_knee"], 2] - 0.3  # behind the body (-Z)


def test_turn_head_turns_the_face_towards_the_left(body):
    nose_rest = pose(body, "t_pose").keypoints[0, 0]
    nose_turned = pose(body, "turn_head").keypoints[0, 0]
    assert nose_turned[0] > nose_rest[0] + 0.04


def test_sit_puts_thighs_forward_and_shins_down(body):
    j = pose(body, "sit").joints[0]
    assert j[J["left_knee"], 2] > j[J["left_hip"], 2] + 0.25
    assert j[J["left_ankle"], 1] < j[J["left_knee"], 1] - 0.25


def test_large_rotations_neither_collapse_nor_explode(body):
    g = torch.Generator().manual_seed(0)
    aa = (torch.rand(16, 24, 3, generator=g) * 2 - 1) * np.pi / 2
    aa[:, 0] = 0
    out = body(aa, rotation_format="axis_angle")
    rest = body(torch.zeros(1, 24, 3), rotation_format="axis_angle").vertices
    faces = torch.as_tensor(body.faces)

    def edges(v):
        return (v[:, faces[:, 0]] - v[:, faces[:, 1]]).norm(dim=-1)

    ratio = edges(out.vertices) / edges(rest).clamp(min=1e-6)
    assert torch.isfinite(out.vertices).all()
    assert (out.vertices - out.joints[:, :1]).norm(dim=-1).max() < 1.3
    assert float(ratio.median()) == pytest.approx(1.0, abs=0.05)
    # Linear blend skinning stretches a few edges at extreme combined twists (as SMPL
    # does); what must not happen is a vertex flying off or a region collapsing.
    assert float((ratio > 4).float().mean()) < 0.005
    assert float(edges(out.vertices).max()) < 0.2
    assert float((ratio < 0.1).float().mean()) < 0.01


def test_betas_change_height_and_weight(body):
    def measure(b):
        betas = torch.zeros(1, 10)
        betas[0] = torch.as_tensor(b)
        v = body(torch.zeros(1, 24, 3), betas, rotation_format="axis_angle").vertices[0]
        height = float(v[:, 1].max() - v[:, 1].min())
        waist = v[(v[:, 1] > 0.1) & (v[:, 1] < 0.3)]
        girth = float(waist[:, 2].max() - waist[:, 2].min())
        return height, girth

    h0, g0 = measure(np.zeros(10))
    h_tall, _ = measure(np.eye(10)[0] * 2)
    h_short, _ = measure(np.eye(10)[0] * -2)
    assert h_tall > h0 + 0.15 and h_short < h0 - 0.15
    girths = [measure(np.eye(10)[i] * s)[1] for i in range(1, 5) for s in (-2, 2)]
    assert max(girths) > g0 + 0.03 and min(girths) < g0 - 0.02


def test_six_d_and_axis_angle_give_the_same_body(body):
    from engine.body.rotations import axis_angle_to_rotation_6d

    aa = torch.as_tensor(NAMED_POSES["run"])[None]
    a = body(aa, rotation_format="axis_angle")
    b = body(axis_angle_to_rotation_6d(aa), rotation_format="6d")
    assert torch.allclose(a.vertices, b.vertices, atol=1e-5)


def test_weak_perspective_projection_comes_with_a_camera(body):
    cam = torch.tensor([[0.9, 0.0, 0.1]])
    out = body(torch.zeros(1, 24, 3), cam=cam, rotation_format="axis_angle")
    expected = 0.9 * (out.keypoints[0, :, :2] + torch.tensor([0.0, 0.1]))
    assert torch.allclose(out.keypoints_2d[0], expected, atol=1e-6)


@pytest.mark.parametrize(
    "rotations, fmt",
    [(torch.zeros(2, 23, 3), "axis_angle"), (torch.zeros(2, 24, 5), "6d"), (torch.zeros(2, 24, 3), "euler")],
)
def test_wrong_rotation_shapes_are_refused(body, rotations, fmt):
    with pytest.raises(ShapeError):
        body(rotations, rotation_format=fmt)


def test_nan_and_wrong_betas_are_refused(body):
    bad = torch.zeros(1, 24, 3)
    bad[0, 3, 0] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        body(bad, rotation_format="axis_angle")
    with pytest.raises(ShapeError, match="betas"):
        body(torch.zeros(1, 24, 3), torch.zeros(1, 7), rotation_format="axis_angle")


def test_user_model_from_environment_variable(tmp_path, monkeypatch):
    from engine.body.model import OPEN_BODY_PATH

    arrays = dict(np.load(OPEN_BODY_PATH))
    arrays["name"] = np.array("my-copy")
    path = tmp_path / "copy.npz"
    np.savez(path, **arrays)
    monkeypatch.setenv("ADHMR_BODY_MODEL", str(path))
    assert BodyModel().name == "my-copy"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda():
    body = BodyModel(device="cuda")
    out = body(torch.zeros(4, 24, 3, device="cuda"), rotation_format="axis_angle")
    assert out.vertices.device.type == "cuda"
