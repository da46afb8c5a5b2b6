"""A vectorised z-buffer triangle rasteriser in numpy, and the shading on top of it.

Pixel (row r, column c) is sampled at its centre, which sits at x = c, y = r (OpenCV's
convention, as in ``engine.data.crops`` and ``engine.body.projection``).

At 256 px a body mesh's triangles cover a few pixels each, so the rasteriser works on
many triangles at once: triangles are grouped by the power-of-two size of their pixel
bounding box, every pixel of every box in a group is tested with broadcast edge
functions, and the nearest fragment per pixel wins through ``np.minimum.at`` on the
depth buffer. Depth and barycentrics are perspective-correct (1/z interpolates linearly
in the image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from engine.errors import ShapeError

_NEAR = 1e-3
_EDGE_EPS = -1e-7


@dataclass(frozen=True)
class Raster:
    """What each pixel sees.

    face: (H, W) int32 index of the visible triangle, -1 on background.
    bary: (H, W, 3) float32 perspective-correct barycentrics of the pixel centre in that
        triangle (zeros on background).
    depth: (H, W) float32 camera depth z in metres, +inf on background.
    """

    face: np.ndarray
    bary: np.ndarray
    depth: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, True where a triangle covers the pixel."""
        return self.face >= 0


def _fragments(u, v, x0, y0, bw, bh, bucket_w, bucket_h):
    """Covered pixels of triangles whose boxes fit a bucket_w x bucket_h grid.

    u, v: (3, K) screen coordinates of the corners of K triangles.
    x0, y0, bw, bh: (K,) first pixel and size of each box.

    Returns (k, px, py, b) for each covered pixel: triangle (within K), pixel, and (., 3)
    screen-space barycentrics.
    """
    oy, ox = np.divmod(np.arange(bucket_w * bucket_h), bucket_w)
    valid = (ox[None, :] < bw[:, None]) & (oy[None, :] < bh[:, None])
    k, j = np.nonzero(valid)
    px = x0[k] + ox[j]
    py = y0[k] + oy[j]
    cx = px.astype(np.float64)
    cy = py.astype(np.float64)
    u0, u1, u2 = u[0, k], u[1, k], u[2, k]
    v0, v1, v2 = v[0, k], v[1, k], v[2, k]
    area = (u1 - u0) * (v2 - v0) - (u2 - u0) * (v1 - v0)
    w0 = ((u2 - u1) * (cy - v1) - (v2 - v1) * (cx - u1)) / area
    w1 = ((u0 - u2) * (cy - v2) - (v0 - v2) * (cx - u2)) / area
    w2 = 1.0 - w0 - w1
    inside = (w0 >= _EDGE_EPS) & (w1 >= _EDGE_EPS) & (w2 >= _EDGE_EPS)
    b = np.stack([w0[inside], w1[inside], w2[inside]], axis=1)
    return k[inside], px[inside], py[inside], b


def rasterize(points: np.ndarray, faces: np.ndarray, height: int, width: int, cull_back: bool = True) -> Raster:
    """Rasterise a triangle mesh seen through a pinhole camera.

    Args:
        points: (V, 3) float, image x and y in pixels and camera depth z in metres.
        faces: (F, 3) int vertex indices, counter-clockwise seen from outside (the body
            models' winding; in the image's y-down frame that is clockwise on screen).
        height, width: image size in pixels.
        cull_back: skip triangles facing away from the camera (right for closed meshes).

    Returns:
        Raster with per-pixel triangle, barycentrics and depth.
    """
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ShapeError(f"points: expected (V, 3), got {points.shape}")
    # Corner-major (3, F) arrays: numpy reductions over a length-3 axis are several times
    # slower than element-wise min/max of three rows.
    cols = np.asarray(points, np.float64).T
    ft = np.ascontiguousarray(np.asarray(faces).T)
    uc, vc, zc = cols[0][ft], cols[1][ft], cols[2][ft]
    area = (uc[1] - uc[0]) * (vc[2] - vc[0]) - (uc[2] - uc[0]) * (vc[1] - vc[0])
    keep = (np.minimum(np.minimum(zc[0], zc[1]), zc[2]) > _NEAR) & (area != 0)
    if cull_back:
        # Counter-clockwise outward faces project clockwise in a y-down image: negative area.
        keep &= area < 0
    x0 = np.maximum(np.ceil(np.minimum(np.minimum(uc[0], uc[1]), uc[2])), 0)
    x1 = np.minimum(np.floor(np.maximum(np.maximum(uc[0], uc[1]), uc[2])), width - 1)
    y0 = np.maximum(np.ceil(np.minimum(np.minimum(vc[0], vc[1]), vc[2])), 0)
    y1 = np.minimum(np.floor(np.maximum(np.maximum(vc[0], vc[1]), vc[2])), height - 1)
    keep &= (x1 >= x0) & (y1 >= y0)
    idx = np.nonzero(keep)[0]
    x0 = x0[idx].astype(np.int64)
    y0 = y0[idx].astype(np.int64)
    bw = x1[idx].astype(np.int64) - x0 + 1
    bh = y1[idx].astype(np.int64) - y0 + 1
    uc, vc, iz = uc[:, idx], vc[:, idx], 1.0 / zc[:, idx].T
    # Power-of-two buckets of box width and height bound the wasted tests to 4x.
    lw = np.ceil(np.log2(bw)).astype(np.int64)
    lh = np.ceil(np.log2(bh)).astype(np.int64)
    key = lw * 64 + lh
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    tris, pix, bary = [], [], []
    for group in np.split(order, bounds):
        if len(group) == 0:
            continue
        gw, gh = 1 << int(lw[group[0]]), 1 << int(lh[group[0]])
        k, px, py, b = _fragments(uc[:, group], vc[:, group], x0[group], y0[group], bw[group], bh[group], gw, gh)
        tris.append(group[k])
        pix.append(py * width + px)
        bary.append(b)
    face = np.full(height * width, -1, np.int32)
    depth = np.full(height * width, np.inf)
    bary_img = np.zeros((height * width, 3), np.float32)
    if tris:
        t = np.concatenate(tris)
        p = np.concatenate(pix)
        b = np.concatenate(bary)
        bz = b * iz[t]
        inv = bz[:, 0] + bz[:, 1] + bz[:, 2]
        frag_depth = 1.0 / inv
        np.minimum.at(depth, p, frag_depth)
        win = frag_depth <= depth[p]
        face[p[win]] = idx[t[win]]
        bary_img[p[win]] = bz[win] / inv[win, None]
    return Raster(
        face=face.reshape(height, width),
        bary=bary_img.reshape(height, width, 3),
        depth=depth.astype(np.float32).reshape(height, width),
    )


def face_incidence(faces: np.ndarray, num_vertices: int) -> sparse.csr_matrix:
    """(V, F) sparse matrix with a 1 where vertex v is a corner of face f."""
    faces = np.asarray(faces)
    rows = faces.ravel()
    cols = np.repeat(np.arange(len(faces)), 3)
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(num_vertices, len(faces)))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, incidence: sparse.csr_matrix) -> np.ndarray:
    """(V, 3) unit vertex normals, area-weighted, pointing out of a counter-clockwise mesh.

    incidence: ``face_incidence(faces, V)``, built once per mesh.
    """
    c = np.asarray(vertices, np.float64).T
    ft = np.asarray(faces).T
    x0, y0, z0 = (c[k][ft[0]] for k in range(3))
    ax, ay, az = (c[k][ft[1]] - w for k, w in zip(range(3), (x0, y0, z0)))
    bx, by, bz = (c[k][ft[2]] - w for k, w in zip(range(3), (x0, y0, z0)))
    fn = np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=1)
    n = incidence @ fn
    return n / np.maximum(np.sqrt((n * n).sum(axis=1)), 1e-12)[:, None]


def shade(
    raster: Raster,
    faces: np.ndarray,
    normals: np.ndarray,
    face_colors: np.ndarray,
    light_dir: np.ndarray,
    light_color: np.ndarray,
    ambient: float,
) -> np.ndarray:
    """Lambert plus ambient shading of the visible surface.

    Args:
        raster: from ``rasterize``.
        faces: (F, 3) the rasterised triangles; normals: (V, 3) unit vertex normals in
            the camera frame.
        face_colors: (F, 3) albedo in [0, 1].
        light_dir: (3,) unit vector from the surface toward the light, camera frame.
        light_color: (3,) light colour and strength.
        ambient: ambient term, added to the diffuse one.

    Returns:
        rgb: (H, W, 3) float32 in [0, 1]; background pixels are 0.
    """
    h, w = raster.face.shape
    out = np.zeros((h * w, 3), np.float32)
    sel = np.flatnonzero(raster.face.ravel() >= 0)
    f = raster.face.ravel()[sel]
    b = raster.bary.reshape(-1, 3)[sel]
    n = np.einsum("pk,pkc->pc", b, normals[faces[f]].astype(np.float32))
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-6)
    lambert = np.clip(n @ light_dir.astype(np.float32), 0.0, None)
    light = ambient + lambert[:, None] * light_color[None, :].astype(np.float32)
    out[sel] = np.clip(face_colors[f].astype(np.float32) * light, 0.0, 1.0)
    return out.reshape(h, w, 3)
