"""The numpy z-buffer rasteriser: coverage, depth order, culling and exact depth."""

import numpy as np

from engine.data.synth.raster import rasterize

# A square of two counter-clockwise-from-outside triangles (clockwise on a y-down screen).
SQUARE = np.array([[0, 2, 1], [0, 3, 2]])


def square(x0, y0, x1, y1, z):
    return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], float)


def test_square_covers_exactly_the_pixel_centres_inside():
    r = rasterize(square(10, 20, 30, 25, 2.0), SQUARE, 64, 64)
    rows, cols = np.nonzero(r.mask)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (20, 25, 10, 30)
    assert r.mask.sum() == 6 * 21
    assert np.allclose(r.depth[r.mask], 2.0)
    assert np.all(np.isinf(r.depth[~r.mask]))


def test_nearer_surface_wins_whatever_the_order():
    far = square(0, 0, 40, 40, 5.0)
    near = square(10, 10, 20, 20, 2.0)
    pts = np.concatenate([near, far])
    faces = np.concatenate([SQUARE + 4, SQUARE])  # far square listed first
    r = rasterize(pts, faces, 48, 48)
    assert np.allclose(r.depth[10:21, 10:21], 2.0)
    assert np.allclose(r.depth[30:40, 30:40], 5.0)
    assert set(np.unique(r.face[10:21, 10:21])) <= {2, 3}


def test_back_faces_are_culled():
    flipped = SQUARE[:, ::-1]
    assert rasterize(square(5, 5, 15, 15, 1.0), flipped, 32, 32).mask.sum() == 0
    assert rasterize(square(5, 5, 15, 15, 1.0), flipped, 32, 32, cull_back=False).mask.sum() == 121


def test_depth_and_barycentrics_are_perspective_correct():
    # A plane tilted in depth, seen through a pinhole camera (f = 50, principal 32).
    world = np.array([[-1, -1, 2.0], [1, -1, 4.0], [1, 1, 4.0], [-1, 1, 2.0]])
    f, c = 50.0, 32.0
    pts = np.stack([f * world[:, 0] / world[:, 2] + c, f * world[:, 1] / world[:, 2] + c, world[:, 2]], axis=1)
    r = rasterize(pts, SQUARE, 64, 64)
    rows, cols = np.nonzero(r.mask)
    # On this plane z = 3 + x; a pixel's ray (u, v) -> x = z (u - c) / f, so z = 3 / (1 - (u - c) / f).
    expected = 3.0 / (1.0 - (cols - c) / f)
    assert np.allclose(r.depth[rows, cols], expected, rtol=1e-5)
    bary = r.bary[rows, cols]
    assert np.allclose(bary.sum(axis=1), 1.0, atol=1e-5)
    # Interpolating the 3D corners with the barycentrics lands on the pixel's ray.
    tri = world[SQUARE[r.face[rows, cols]]]
    p = np.einsum("nk,nkc->nc", bary, tri)
    assert np.allclose(f * p[:, 0] / p[:, 2] + c, cols, atol=1e-3)
    assert np.allclose(f * p[:, 1] / p[:, 2] + c, rows, atol=1e-3)
