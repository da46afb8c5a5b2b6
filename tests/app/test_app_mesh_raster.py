"""The 2D overlay's mesh drawing (numpy + OpenCV)."""

import numpy as np
import torch

from app.views.mesh_raster import colorize, overlay_faces, render_fill, render_wire


def _posed(body):
    pose = torch.zeros(1, 72)
    pose[0, 0] = np.pi  # upright, facing the camera
    v = body(pose, rotation_format="axis_angle").vertices[0].numpy().astype(np.float64)
    px = (v[:, :2] - v[:, :2].min(0)) * 200 + 20  # about 380 px tall
    return v, px


def test_coarse_faces_reuse_vertex_ids_and_cover_the_same_silhouette(body):
    v, px = _posed(body)
    coarse = overlay_faces(body.v_template.numpy(), body.faces)
    assert 0.2 * len(body.faces) < len(coarse) < 0.5 * len(body.faces)
    assert coarse.min() >= 0 and coarse.max() < body.num_vertices
    assert (np.diff(np.sort(coarse, 1), axis=1) > 0).all()  # no degenerate triangles
    full = render_fill(v, px, body.faces, (500, 500)).shade > 0
    lite = render_fill(v, px, coarse, (500, 500)).shade > 0
    iou = (full & lite).sum() / (full | lite).sum()
    assert iou > 0.85


def test_nearer_faces_cover_farther_ones():
    # Two overlapping squares facing the camera: the near one (z=1) is bright, the far one
    # (z=2) is dark, and the far one is listed last.
    def square(x, z, tilt):
        return np.array([[x, 0, z], [x + 1, 0, z + tilt], [x + 1, 1, z + tilt], [x, 1, z]], float)
    verts = np.concatenate([square(0, 1.0, 0.0), square(0.5, 2.0, 0.9)])
    faces = np.array([[0, 2, 1], [0, 3, 2], [4, 6, 5], [4, 7, 6]])
    px = verts[:, :2] * 100 + 10
    shade = render_fill(verts, px, faces, (300, 300))

    def at(x, y):
        return shade.shade[int((y - shade.y0) * shade.scale), int((x - shade.x0) * shade.scale)]
    assert at(80, 60) == at(30, 60) != at(140, 60)  # overlap looks like the near square


def test_back_faces_are_not_drawn():
    verts = np.array([[0, 0, 1], [1, 0, 1], [1, 1, 1]], float)
    px = verts[:, :2] * 50
    front = render_fill(verts, px, np.array([[0, 2, 1]]), (100, 100))
    back = render_fill(verts, px, np.array([[0, 1, 2]]), (100, 100))
    assert (front.shade > 0).sum() > 500 and (back.shade > 0).sum() == 0


def test_people_are_drawn_at_a_fixed_size_placed_in_image_pixels(body):
    v, px = _posed(body)
    big = render_fill(v, px * 10, body.faces, (5000, 5000), max_side=512)
    assert max(big.shade.shape) <= 513 and big.scale < 0.2
    assert abs(big.x0 - px[:, 0].min() * 10) < 11 and abs(big.y0 - px[:, 1].min() * 10) < 11
    small = render_fill(v, px / 4, body.faces, (200, 200), max_side=512)
    assert small.scale > 4.0 - 1e-9 or max(small.shade.shape) > 500  # drawn finer than the photo


def test_wireframe_and_tint(body):
    v, px = _posed(body)
    coarse = overlay_faces(body.v_template.numpy(), body.faces)
    wire = render_wire(v, px * 4, coarse, (2000, 2000))
    fill = render_fill(v, px * 4, coarse, (2000, 2000))
    assert 0 < (wire.shade > 0).sum() < 0.8 * (fill.shade > 0).sum()  # edges, not the surface
    fill = render_fill(v, px, coarse, (500, 500))
    rgba = colorize(fill.shade, (255, 0, 0), 0.5)
    covered = fill.shade > 0
    assert (rgba[..., 3][covered] == 128).all() and (rgba[..., 3][~covered] == 0).all()
    assert (rgba[..., 1] == 0).all() and rgba[..., 0][covered].max() > 200
    assert render_fill(v, px - 10_000, coarse, (500, 500)) is None  # off the photo
