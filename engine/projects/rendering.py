"""What researchers take out of a project: the chosen candidates of a person as mesh files
(PLY, OBJ, glTF), the 2D overlay and a 3D view as images, and a turntable or
candidate-by-candidate video; headless (``adhmr render``) and from the app alike.

Meshes stand in the photo's camera frame (x right, y down, z forward, metres; the focal
length of a photo is unknown, like CLIFF take the image diagonal in pixels), so the files
of several candidates line up with each other and with the photo. The overlay draws each
candidate as its own weak-perspective crop camera projects it, as the app's image view
does. Where the person has a 3D label, ``errors`` colours each vertex by its distance to
the label's vertex (mm, both bodies root-aligned at the pelvis): the per-vertex error view.

3D images and videos render with pyvista off screen (no display needed); videos are
written by imageio's ffmpeg plug-in (``imageio-ffmpeg``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DataError

log = logging.getLogger(__name__)

MESH_FORMATS = ("ply", "obj", "glb")
PALETTE = ((66, 135, 245), (245, 145, 40), (80, 180, 90), (210, 70, 70), (150, 100, 200),
           (140, 90, 70), (230, 120, 190), (120, 120, 120), (190, 190, 50), (40, 190, 200))
"""Candidate colours, in rank order (the first two are the Pairs panel's A and B)."""
ERROR_RANGE_MM = (0.0, 150.0)
"""Per-vertex errors map onto the colour scale over this range (blue 0 mm, red 150 mm and more)."""
OVERLAY_OPACITY = 0.6
BACKGROUND = (40, 40, 46)


@dataclass(frozen=True, eq=False)
class MeshSelection:
    """Candidates of one person, decoded for export.

    image: (H, W, 3) uint8, the photo. names: K file-name stems ('rank1-candidate42').
    scores: (K,) float64, NaN without a score. vertices: (K, V, 3) float32 metres in the
    photo's camera frame. pixels: (K, V, 2) float64 image pixels. faces: (F, 3) int64.
    errors: (K, V) float32 mm to the 3D label per vertex, or None without a label.
    """

    image_name: str
    image: np.ndarray
    names: list[str]
    scores: np.ndarray
    vertices: np.ndarray
    pixels: np.ndarray
    faces: np.ndarray
    errors: np.ndarray | None

    def colors(self) -> np.ndarray:
        """(K, 3) uint8 one colour per candidate."""
        return np.array([PALETTE[k % len(PALETTE)] for k in range(len(self.names))], np.uint8)


def error_colors(errors_mm: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 blue (small) to red (``ERROR_RANGE_MM[1]`` and more) through white."""
    lo, hi = ERROR_RANGE_MM
    t = np.clip((np.asarray(errors_mm, np.float64) - lo) / (hi - lo), 0, 1)[..., None]
    blue, white, red = np.array([40, 90, 220]), np.array([235, 235, 235]), np.array([220, 40, 40])
    return np.where(t < 0.5, blue + (white - blue) * (2 * t), white + (red - white) * (2 * t - 1)).astype(np.uint8)


def load_selection(project, image: str | int, person: int = 1, ranks: Sequence[int] | None = None,
                   candidate_ids: Sequence[int] | None = None, body=None) -> MeshSelection:
    """The candidates to export of person ``person`` (1-based, in the photo's order) of
    ``image`` (an image id, or its path as stored, or a file name when that is unique).

    ranks: 1-based ranks by score (default: the best); candidate_ids instead picks by id.
    Raises DataError naming what is missing.
    """
    import torch

    from engine.body.model import BodyModel
    from engine.body.projection import translation_from_weak_perspective
    from engine.data.crops import DEFAULT_BOX_SCALE, square_crop
    from engine.image_io import load_image
    from engine.models.param_layout import ParamLayout
    from engine.store import candidates_of_person, list_datasets, list_images, persons_of_image

    images = list_images(project)
    if isinstance(image, int) or str(image).isdigit():
        matches = [r for r in images if r.id == int(image)]
    else:
        matches = [r for r in images if r.path == str(image)] or [r for r in images if Path(r.path).name == str(image)]
    if len(matches) != 1:
        raise DataError(f"{project.path}: {'no' if not matches else 'more than one'} image {image!r}"
                        + (" (give its id)" if matches else ""))
    record = matches[0]
    persons = persons_of_image(project, record.id)
    if not 1 <= person <= len(persons):
        raise DataError(f"{record.path}: has {len(persons)} person(s), not a person {person}")
    p = persons[person - 1]
    cands = candidates_of_person(project, p.id)
    if not cands:
        raise DataError(f"{record.path}: person {person} has no candidates (sample first)")
    order = sorted(range(len(cands)), key=lambda k: (cands[k].score is None, -(cands[k].score or 0.0), k))
    if candidate_ids is not None:
        by_id = {c.id: k for k, c in enumerate(cands)}
        missing = [i for i in candidate_ids if i not in by_id]
        if missing:
            raise DataError(f"{record.path}: person {person} has no candidate {missing[0]}")
        chosen = [by_id[i] for i in candidate_ids]
    else:
        ranks = list(ranks or [1])
        bad = [r for r in ranks if not 1 <= r <= len(cands)]
        if bad:
            raise DataError(f"{record.path}: person {person} has {len(cands)} candidates, no rank {bad[0]}")
        chosen = [order[r - 1] for r in ranks]
    rank_of = {k: r + 1 for r, k in enumerate(order)}
    dataset = next(d for d in list_datasets(project) if d.id == record.dataset_id)
    rgb = load_image(project.resolve(record.path, dataset.source_path))
    body = body or BodyModel()
    layout = ParamLayout()
    params = torch.from_numpy(np.stack([cands[k].params for k in chosen]).astype(np.float32))
    rot, betas, cam = layout.split(params)
    with torch.inference_mode():
        out = body(rot, betas, rotation_format="6d")
    verts, joints = out.vertices.numpy(), out.joints.numpy()
    center, size = square_crop(np.asarray(p.box, np.float64), DEFAULT_BOX_SCALE)
    cam64 = cam.numpy().astype(np.float64)
    pixels = center + cam64[:, None, :1] * (verts[..., :2] + cam64[:, None, 1:]) * (size / 2)
    h, w = rgb.shape[:2]
    k = len(chosen)
    t = translation_from_weak_perspective(torch.from_numpy(cam64), float(math.hypot(w, h)),
                                          torch.tensor([[w / 2, h / 2]], dtype=torch.float64).repeat(k, 1),
                                          torch.from_numpy(center[None]).repeat(k, 1),
                                          torch.full((k,), float(size), dtype=torch.float64)).numpy()
    errors = None
    if p.label_params is not None:
        lrot, lbetas, _ = layout.split(torch.from_numpy(np.asarray(p.label_params, np.float32))[None])
        with torch.inference_mode():
            label = body(lrot, lbetas, rotation_format="6d")
        label_v = label.vertices.numpy()[0] - label.joints.numpy()[0, :1]
        errors = (1000 * np.linalg.norm((verts - joints[:, :1]) - label_v[None], axis=-1)).astype(np.float32)
    return MeshSelection(
        image_name=Path(record.path).name, image=rgb,
        names=[f"rank{rank_of[c]}-candidate{cands[c].id}" for c in chosen],
        scores=np.array([np.nan if cands[c].score is None else cands[c].score for c in chosen], np.float64),
        vertices=(verts + t[:, None, :]).astype(np.float32), pixels=pixels, faces=np.asarray(body.faces, np.int64),
        errors=errors)


# --- files ------------------------------------------------------------------------------


def _polydata(vertices: np.ndarray, faces: np.ndarray, rgb: np.ndarray | None = None):
    import pyvista as pv

    cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
    mesh = pv.PolyData(np.asarray(vertices, np.float32), cells)
    if rgb is not None:
        mesh.point_data["RGB"] = np.asarray(rgb, np.uint8)
    return mesh


def write_meshes(sel: MeshSelection, out_dir: str | Path, formats: Sequence[str] = MESH_FORMATS,
                 color_by_error: bool = False) -> list[Path]:
    """One file per candidate and format in ``out_dir``; vertex colours (PLY, glTF) are
    the candidate's colour, or its per-vertex error with ``color_by_error``."""
    import pyvista as pv

    unknown = [f for f in formats if f not in MESH_FORMATS]
    if unknown:
        raise DataError(f"unknown mesh format {unknown[0]!r}: use {', '.join(MESH_FORMATS)}")
    if color_by_error and sel.errors is None:
        raise DataError(f"{sel.image_name}: the person has no 3D label to measure errors against")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for k, name in enumerate(sel.names):
        rgb = error_colors(sel.errors[k]) if color_by_error and sel.errors is not None else np.tile(sel.colors()[k], (sel.vertices.shape[1], 1))
        mesh = _polydata(sel.vertices[k], sel.faces, rgb)
        for fmt in formats:
            path = out_dir / f"{name}.{fmt}"
            if fmt == "ply":
                mesh.save(path, texture="RGB")
            elif fmt == "obj":
                mesh.save(path)
            else:
                plotter = pv.Plotter(off_screen=True)
                plotter.add_mesh(mesh, scalars="RGB", rgb=True)
                plotter.export_gltf(str(path))
                plotter.close()
            written.append(path)
    return written


# --- images -----------------------------------------------------------------------------


def render_overlay(sel: MeshSelection, which: Sequence[int] | None = None, color_by_error: bool = False,
                   opacity: float = OVERLAY_OPACITY) -> np.ndarray:
    """(H, W, 3) uint8: the photo with candidates ``which`` (default all) drawn over it,
    shaded, nearer triangles over farther ones, each in its colour (or by error)."""
    import cv2

    out: np.ndarray = sel.image.astype(np.float32).copy()
    for k in (range(len(sel.names)) if which is None else which):
        v, px = sel.vertices[k].astype(np.float64), sel.pixels[k]
        tri = v[sel.faces]
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        centres = tri.mean(1)
        front = np.einsum("ij,ij->i", normals, centres) < 0  # facing the camera at the origin
        light = np.array([-0.35, -0.55, -1.0]) / np.linalg.norm([-0.35, -0.55, -1.0])
        shade = 0.35 + 0.65 * np.clip(normals @ light, 0, 1)
        if color_by_error:
            if sel.errors is None:
                raise DataError(f"{sel.image_name}: the person has no 3D label to measure errors against")
            base = error_colors(sel.errors[k][sel.faces].mean(1)).astype(np.float32)
        else:
            base = np.tile(sel.colors()[k].astype(np.float32), (len(sel.faces), 1))
        layer = np.zeros_like(out)
        mask = np.zeros(out.shape[:2], np.uint8)
        order = np.nonzero(front)[0][np.argsort(-centres[front, 2])]  # far to near
        pts = np.round(px[sel.faces] * 4).astype(np.int32)  # 2 bits of sub-pixel precision
        for f in order:
            color = tuple(float(c) for c in base[f] * shade[f])
            cv2.fillConvexPoly(layer, pts[f], color, lineType=cv2.LINE_AA, shift=2)
            cv2.fillConvexPoly(mask, pts[f], 255, shift=2)
        a = (mask[..., None].astype(np.float32) / 255) * opacity
        out = out * (1 - a) + layer * a
    return np.clip(out, 0, 255).astype(np.uint8)


def _plotter(sel: MeshSelection, size: tuple[int, int], which: Sequence[int] | None, color_by_error: bool):
    import pyvista as pv

    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    plotter.set_background(tuple(c / 255 for c in BACKGROUND))  # type: ignore[arg-type]  # pyvista's decorator hides the signature
    for k in (range(len(sel.names)) if which is None else which):
        if color_by_error:
            if sel.errors is None:
                raise DataError(f"{sel.image_name}: the person has no 3D label to measure errors against")
            mesh = _polydata(sel.vertices[k], sel.faces, error_colors(sel.errors[k]))
            plotter.add_mesh(mesh, scalars="RGB", rgb=True, smooth_shading=True)
        else:
            plotter.add_mesh(_polydata(sel.vertices[k], sel.faces), color=tuple(sel.colors()[k] / 255),
                             smooth_shading=True, specular=0.2)
    return plotter


def _orbit(plotter, sel: MeshSelection, which, azimuth_deg: float) -> None:
    """Look at the candidates' centre from the photo's side, turned ``azimuth_deg`` about
    the vertical axis, from a distance that holds them whole."""
    ks = list(range(len(sel.names)) if which is None else which)
    pts = sel.vertices[ks].reshape(-1, 3)
    lo, hi = pts.min(0), pts.max(0)
    centre, radius = (lo + hi) / 2, float(np.linalg.norm(hi - lo)) / 2
    distance = 1.15 * radius / math.tan(math.radians(30.0) / 2)
    a = math.radians(azimuth_deg)
    cam = plotter.camera
    cam.view_angle = 30.0
    cam.focal_point = tuple(float(c) for c in centre)
    cam.position = (float(centre[0] - distance * math.sin(a)), float(centre[1]),
                    float(centre[2] - distance * math.cos(a)))
    cam.up = (0.0, -1.0, 0.0)
    plotter.reset_camera_clipping_range()


def render_view3d(sel: MeshSelection, size: tuple[int, int] = (800, 800), azimuth_deg: float = 30.0,
                  which: Sequence[int] | None = None, color_by_error: bool = False) -> np.ndarray:
    """(h, w, 3) uint8: the candidates in 3D, seen turned ``azimuth_deg`` from the photo's side."""
    plotter = _plotter(sel, size, which, color_by_error)
    try:
        _orbit(plotter, sel, which, azimuth_deg)
        return np.asarray(plotter.screenshot(return_img=True))[..., :3].copy()
    finally:
        plotter.close()


def write_video(sel: MeshSelection, path: str | Path, kind: str = "turntable", size: tuple[int, int] = (640, 640),
                seconds: float = 4.0, fps: int = 24, color_by_error: bool = False) -> Path:
    """An MP4: 'turntable' (the candidates turning once round the vertical axis) or
    'candidates' (each candidate's overlay on the photo in turn, ``seconds`` in all)."""
    import imageio.v2 as imageio

    if kind not in ("turntable", "candidates"):
        raise DataError(f"unknown video kind {kind!r}: use turntable or candidates")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = max(int(seconds * fps), 2)
    try:
        writer = imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=8)
    except (ImportError, ValueError, RuntimeError) as exc:
        raise DataError(f"{path}: cannot write a video ({exc}); install imageio-ffmpeg") from None
    with writer:
        if kind == "turntable":
            plotter = _plotter(sel, size, None, color_by_error)
            try:
                for f in range(frames):
                    _orbit(plotter, sel, None, 360.0 * f / frames)
                    plotter.render()
                    writer.append_data(np.asarray(plotter.screenshot(return_img=True))[..., :3])
            finally:
                plotter.close()
        else:
            per = max(frames // len(sel.names), 1)
            h, w = sel.image.shape[:2]
            even = (w - w % 8, h - h % 8)
            for k in range(len(sel.names)):
                frame = _caption(render_overlay(sel, [k], color_by_error), sel, k)[: even[1], : even[0]]
                for _ in range(per):
                    writer.append_data(frame)
    return path


def _caption(rgb: np.ndarray, sel: MeshSelection, k: int) -> np.ndarray:
    import cv2

    text = sel.names[k] + (f"  score {sel.scores[k]:.3f}" if np.isfinite(sel.scores[k]) else "")
    out = np.ascontiguousarray(rgb)
    cv2.putText(out, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return out
