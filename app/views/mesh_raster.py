"""Draw a body mesh into a small image with numpy and OpenCV, for the 2D overlay.

No Qt here. A mesh is drawn once per candidate into a *shade image* (brightness per
pixel, 0 = empty) covering only the mesh's box, then tinted with the candidate's colour
at composition time, so recolouring or changing opacity needs no redraw.

Speed: ``cv2.fillPoly`` is fast per call but pays per polygon, so the overlay uses a
coarser face set (``overlay_faces``: vertex clustering on the rest mesh, faces keep
pointing at original vertex ids) and draws front faces in a few depth slabs, each slab
in a few brightness levels: about 40 fills per mesh instead of one per triangle. Within
one fill overlapping polygons cancel (even-odd rule); back faces are culled and slabs are
thin, so overlaps inside a call are rare and tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUBPIXEL_BITS = 2
DEPTH_SLABS = 8
SHADE_LEVELS = 8
MAX_SIDE = 1024
MAX_UPSCALE = 4.0
# Towards the light from the surface, camera frame (x right, y down, z forward): a light
# above, left of and behind the camera gives the body visible relief.
_LIGHT = np.array([-0.35, -0.55, -1.0]) / np.linalg.norm([-0.35, -0.55, -1.0])


@dataclass(frozen=True, eq=False)
class ShadeImage:
    """A mesh drawn in a box of the photo.

    shade: (h, w) uint8; 0 = not covered, 1..255 = brightness.
    x0, y0: image pixel of the shade image's top-left corner.
    scale: shade pixels per image pixel: a person is drawn about MAX_SIDE px tall, so
        small photos stay crisp when zoomed and big ones cost no more.
    """

    shade: np.ndarray
    x0: float
    y0: float
    scale: float


def overlay_faces(rest_vertices: np.ndarray, faces: np.ndarray, cell: float = 0.015) -> np.ndarray:
    """A coarser triangle set over the same vertices, for fast 2D drawing.

    rest_vertices: (V, 3) float, metres, the unposed mesh (limbs apart).
    faces: (F, 3) int vertex ids.
    cell: clustering grid size in metres.

    Returns:
        (F', 3) int64 faces whose ids are original vertex ids (one representative per
        grid cell), degenerate and repeated faces removed, winding kept.
    """
    v = np.asarray(rest_vertices, np.float64)
    cells = np.floor((v - v.min(0)) / cell).astype(np.int64)
    _, cluster = np.unique(cells, axis=0, return_inverse=True)
    cluster = cluster.reshape(-1)
    n_clusters = int(cluster.max()) + 1
    sums = np.zeros((n_clusters, 3))
    np.add.at(sums, cluster, v)
    centres = sums / np.bincount(cluster, minlength=n_clusters)[:, None]
    dist = np.linalg.norm(v - centres[cluster], axis=1)
    order = np.lexsort((dist, cluster))
    first = np.ones(len(order), bool)
    first[1:] = cluster[order][1:] != cluster[order][:-1]
    representative = np.empty(n_clusters, np.int64)
    representative[cluster[order][first]] = order[first]
    mapped = representative[cluster[np.asarray(faces)]]
    keep = (mapped[:, 0] != mapped[:, 1]) & (mapped[:, 1] != mapped[:, 2]) & (mapped[:, 0] != mapped[:, 2])
    mapped = mapped[keep]
    canon = np.sort(mapped, axis=1)
    _, unique_idx = np.unique(canon, axis=0, return_index=True)
    return mapped[np.sort(unique_idx)]


def _frame(px: np.ndarray, image_size: tuple[int, int], max_side: int) -> tuple[float, float, float, int, int] | None:
    """The drawing box (x0, y0, scale, w, h) of projected points clipped to the photo."""
    width, height = image_size
    lo = np.floor(np.maximum(px.min(0), 0))
    hi = np.ceil(np.minimum(px.max(0), (width, height)))
    if np.any(hi - lo < 1):
        return None
    scale = min(MAX_UPSCALE, max_side / float(max(hi - lo)))
    w = int(np.ceil((hi[0] - lo[0]) * scale)) + 1
    h = int(np.ceil((hi[1] - lo[1]) * scale)) + 1
    return float(lo[0]), float(lo[1]), scale, w, h


def front_faces(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces facing the camera (OpenCV frame, looking along +z) and their brightness.

    vertices: (V, 3) camera-oriented. faces: (F, 3), outward winding.
    Returns (ids of front faces (K,), brightness (K,) in [0, 1]).
    """
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    ids = np.nonzero(normals[:, 2] < 0)[0]
    return ids, np.clip(normals[ids] @ _LIGHT, 0.0, 1.0)


def render_fill(vertices: np.ndarray, px: np.ndarray, faces: np.ndarray, image_size: tuple[int, int],
                max_side: int = MAX_SIDE) -> ShadeImage | None:
    """Draw the mesh as shaded polygons (nearer faces over farther ones).

    vertices: (V, 3) camera-oriented metres (for normals and depth).
    px: (V, 2) the vertices' image pixels. faces: (F, 3).
    image_size: (width, height) of the photo.
    Returns None when the mesh falls outside the photo.
    """
    frame = _frame(px, image_size, max_side)
    if frame is None:
        return None
    x0, y0, scale, w, h = frame
    ids, facing = front_faces(vertices, faces)
    shade = np.zeros((h, w), np.uint8)
    if len(ids) == 0:
        return ShadeImage(shade, x0, y0, scale)
    fixed = np.round((px - (x0, y0)) * scale * (1 << SUBPIXEL_BITS)).astype(np.int32)
    polys = fixed[faces[ids]]
    depth = vertices[faces[ids], 2].mean(1)
    far_to_near = np.argsort(-depth, kind="stable")
    levels = np.minimum((facing * SHADE_LEVELS).astype(np.int64), SHADE_LEVELS - 1)
    for slab in np.array_split(far_to_near, DEPTH_SLABS):
        slab_levels = levels[slab]
        for level in np.unique(slab_levels):
            chosen = slab[slab_levels == level]
            value = int(60 + 195 * (level + 1) / SHADE_LEVELS)
            cv2.fillPoly(shade, polys[chosen], value, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    return ShadeImage(shade, x0, y0, scale)


def render_wire(vertices: np.ndarray, px: np.ndarray, faces: np.ndarray, image_size: tuple[int, int],
                max_side: int = MAX_SIDE) -> ShadeImage | None:
    """Draw the front faces' edges as thin anti-aliased lines (same arguments as
    render_fill); pass a coarse face set, or a small person is all lines."""
    frame = _frame(px, image_size, max_side)
    if frame is None:
        return None
    x0, y0, scale, w, h = frame
    ids, _ = front_faces(vertices, faces)
    shade = np.zeros((h, w), np.uint8)
    fixed = np.round((px - (x0, y0)) * scale * (1 << SUBPIXEL_BITS)).astype(np.int32)
    if len(ids):
        cv2.polylines(shade, fixed[faces[ids]], True, 255, 1, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    return ShadeImage(shade, x0, y0, scale)


def colorize(shade: np.ndarray, rgb: tuple[int, int, int], opacity: float, wire: bool = False) -> np.ndarray:
    """Tint a shade image: (h, w) uint8 -> (h, w, 4) uint8 RGBA (straight alpha).

    Filled meshes take brightness from the shade; wireframes take coverage (alpha).
    """
    out = np.empty(shade.shape + (4,), np.uint8)
    s = shade.astype(np.uint16)
    if wire:
        out[..., :3] = np.asarray(rgb, np.uint8)
        out[..., 3] = (s * int(round(255 * opacity)) // 255).astype(np.uint8)
        return out
    for c in range(3):
        out[..., c] = (s * rgb[c] // 255).astype(np.uint8)
    out[..., 3] = np.where(shade > 0, int(round(255 * opacity)), 0).astype(np.uint8)
    return out
