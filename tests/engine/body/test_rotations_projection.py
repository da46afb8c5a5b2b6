import math

import torch

from engine.body.projection import (
    crop_to_image,
    image_to_crop,
    project_perspective,
    project_weak_perspective,
    translation_from_weak_perspective,
    weak_perspective_from_translation,
)
from engine.body.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_rotation_6d,
    rotation_6d_to_matrix,
)


def random_axis_angle(n, seed=0, max_angle=math.pi * 0.999):
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(n, 3, generator=g, dtype=torch.float64), dim=-1)
    angle = torch.rand(n, 1, generator=g, dtype=torch.float64) * max_angle
    return axis * angle


def test_axis_angle_matrix_round_trip_including_near_zero_and_pi():
    aa = torch.cat([random_axis_angle(500), torch.zeros(1, 3, dtype=torch.float64), torch.tensor([[math.pi - 1e-6, 0, 0]], dtype=torch.float64)])
    R = axis_angle_to_matrix(aa)
    assert torch.allclose(R @ R.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand_as(R), atol=1e-10)
    back = matrix_to_axis_angle(R)
    assert torch.allclose(axis_angle_to_matrix(back), R, atol=1e-8)


def test_six_d_round_trip_and_gram_schmidt_repairs_noise():
    R = axis_angle_to_matrix(random_axis_angle(100, seed=1))
    assert torch.allclose(rotation_6d_to_matrix(matrix_to_rotation_6d(R)), R, atol=1e-10)
    noisy = matrix_to_rotation_6d(R) + 0.01 * torch.randn(100, 6, dtype=torch.float64)
    Rn = rotation_6d_to_matrix(noisy)
    assert torch.allclose(torch.linalg.det(Rn), torch.ones(100, dtype=torch.float64), atol=1e-10)


def test_weak_perspective_matches_perspective_for_a_far_body():
    g = torch.Generator().manual_seed(0)
    pts = torch.randn(2, 30, 3, generator=g, dtype=torch.float64) * 0.3
    transl = torch.tensor([[0.2, -0.1, 40.0], [-0.3, 0.2, 60.0]], dtype=torch.float64)
    focal = torch.tensor([5000.0, 6000.0], dtype=torch.float64)
    principal = torch.tensor([[320.0, 240.0], [300.0, 200.0]], dtype=torch.float64)
    crop_center = torch.tensor([[340.0, 230.0], [310.0, 210.0]], dtype=torch.float64)
    crop_size = torch.tensor([200.0, 220.0], dtype=torch.float64)
    cam = weak_perspective_from_translation(transl, focal, principal, crop_center, crop_size)
    weak_px = crop_to_image(project_weak_perspective(pts, cam), crop_center, crop_size)
    persp_px = project_perspective(pts, transl, focal, principal)
    assert (weak_px - persp_px).abs().max() < 2.0
    back = translation_from_weak_perspective(cam, focal, principal, crop_center, crop_size)
    assert torch.allclose(back, transl, atol=1e-9)


def test_crop_coordinates_round_trip():
    uv = torch.rand(3, 17, 2, dtype=torch.float64) * 500
    c = torch.rand(3, 2, dtype=torch.float64) * 500
    s = torch.rand(3, dtype=torch.float64) * 300 + 50
    assert torch.allclose(crop_to_image(image_to_crop(uv, c, s), c, s), uv)
    corners = crop_to_image(torch.tensor([[[-1.0, -1.0], [1.0, 1.0]]], dtype=torch.float64), c[:1], s[:1])
    assert torch.allclose(corners[0, 1] - corners[0, 0], torch.stack([s[0], s[0]]))
