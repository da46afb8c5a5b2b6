"""Render one synthetic sample: a posed, clothed body over a background, with its labels.

``render_sample`` is a pure function of (body, domain, seed, index, size): each sample
draws from its own generator seeded by (seed, domain, index), so a dataset does not
depend on how its samples are split across processes.
"""

from __future__ import annotations

import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.body.projection import weak_perspective_from_translation
from engine.data.joint_sets import COCO17_FROM_SPIN24
from engine.data.synth.appearance import BodyParts, sample_face_colors
from engine.data.synth.backgrounds import cluttered_background, studio_background
from engine.data.synth.domains import DomainConfig
from engine.data.synth.effects import degrade
from engine.data.synth.keypoints import head_vertices, observe, spin24_points, visibility
from engine.data.synth.occluders import draw_occluders
from engine.data.synth.raster import face_incidence, rasterize, shade, vertex_normals
from engine.data.synth.scene import place_body, project, sample_scene


class SynthBody:
    """A body model with what rendering needs precomputed: triangle parts, the
    face-to-vertex incidence for normals, and the head-top and chin vertices."""

    def __init__(self, body: BodyModel):
        self.body = body
        # Posing in float64, rounded to float32 by ``exact``: see there.
        self.body64 = body.float64_copy()
        self.faces = np.asarray(body.faces, np.int64)
        self.incidence = face_incidence(self.faces, body.num_vertices)
        v, rest_joints, rest_keypoints = self.pose(np.zeros(72), np.zeros(10))
        face_points = rest_keypoints[:5]
        self.parts = BodyParts.from_rest(v, self.faces, body.lbs_weights.cpu().numpy(), face_points)
        self.top, self.chin = head_vertices(v, rest_joints, face_points)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SynthBody":
        """Load the body model at ``path`` (None: $ADHMR_BODY_MODEL or the open body) on CPU."""
        return cls(BodyModel(path))

    def pose(self, pose: np.ndarray, betas: np.ndarray):
        """Pose one body. pose: (72,) axis-angle; betas: (10,).

        Returns: vertices (V, 3), joints (24, 3), keypoints (17, 3), float64, metres,
        camera-oriented, no translation.
        """
        with torch.no_grad():
            out = self.body64(
                torch.from_numpy(np.asarray(pose, np.float32).astype(np.float64))[None],
                torch.from_numpy(np.asarray(betas, np.float32).astype(np.float64))[None],
                rotation_format="axis_angle",
            )
        return (exact(out.vertices[0].numpy()), exact(out.joints[0].numpy()), exact(out.keypoints[0].numpy()))


def exact(values: np.ndarray) -> np.ndarray:
    """float64 ``values`` rounded to the float32 grid, returned as float64.

    Labels (visibility, the pixel a keypoint falls in, which triangle covers a pixel) are
    thresholds on the posed body. MKL's GEMM results depend on its code path (AVX2,
    AVX-512) and on memory alignment, so the same pose could differ in the last bit from
    one call to the next and flip a label. Posed in float64, those differences are about
    1e-16 relative; rounding to float32 (a grid 2^29 times coarser) removes them, except
    for a value within that distance of a rounding boundary.
    """
    return np.asarray(values, np.float64).astype(np.float32).astype(np.float64)


@dataclass(frozen=True)
class RenderedSample:
    """One image and its labels.

    image: (H, W, 3) uint8 RGB.
    body_mask: (H, W) bool, pixels of the body (under occluders too).
    occluder_mask: (H, W) bool, pixels covered by occluders.
    row: the annotation row (see ``generate`` for the keys), numpy arrays.
    """

    image: np.ndarray
    body_mask: np.ndarray
    occluder_mask: np.ndarray
    row: dict[str, np.ndarray]


class StageTimer:
    """Accumulates wall time per named stage (for benchmarks); pass None to skip timing."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


@contextmanager
def _nothing(name: str):
    yield


def sample_rng(seed: int, domain: str, index: int) -> np.random.Generator:
    """The generator of sample ``index``: depends on seed, domain and index only."""
    return np.random.default_rng([int(seed), zlib.crc32(domain.encode()), int(index)])


def square_box(mask: np.ndarray, fallback: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Centre (2,), side and tight box (4,) of the person: the mask's bounding box, or of
    the ``fallback`` (N, 2) pixel points when the mask is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) and len(cols):
        box = np.array([cols[0], rows[0], cols[-1], rows[-1]], np.float64)
    else:
        box = np.concatenate([fallback.min(axis=0), fallback.max(axis=0)])
    side = max(box[2] - box[0], box[3] - box[1], 2.0)
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]), float(side), box


def render_sample(sb: SynthBody, cfg: DomainConfig, seed: int, index: int, size: int = 256,
                  timer: StageTimer | None = None) -> RenderedSample:
    """Render sample ``index`` of the (seed, domain) dataset at ``size`` x ``size`` px."""
    stage = timer if timer is not None else _nothing
    rng = sample_rng(seed, cfg.name, index)
    with stage("sample"):
        scene = sample_scene(rng, cfg, size)
    with stage("pose"):
        vertices, joints, coco = sb.pose(scene.pose, scene.betas)
        cam_t = place_body(vertices, scene, size)
    with stage("raster"):
        pts = project(vertices, cam_t, scene.focal, scene.principal)
        raster = rasterize(pts, sb.faces, size, size)
    with stage("shade"):
        normals = vertex_normals(vertices, sb.faces, sb.incidence)
        colours = sample_face_colors(sb.parts, rng, cfg.vivid, cfg.patterns)
        person = shade(raster, sb.faces, normals, colours, scene.light_dir, scene.light_color, scene.ambient)
    with stage("background"):
        bg = cluttered_background(rng, size) if cfg.cluttered else studio_background(rng, size)
        mask = raster.mask
        image = np.where(mask[..., None], (person * 255 + 0.5).astype(np.uint8), bg)
        centre, side, tight = square_box(mask, pts[:, :2])
        occluder = np.zeros((size, size), bool)
        if rng.random() < cfg.occluder_prob:
            occluder = draw_occluders(image, tight, rng, int(rng.integers(1, cfg.max_occluders + 1)))
        image = degrade(image, rng, cfg)
    with stage("keypoints"):
        spin3d = spin24_points(joints, coco, vertices, sb.top, sb.chin)
        spin_px = project(spin3d, cam_t, scene.focal, scene.principal)
        visible, _, self_hidden, covered = visibility(spin_px, raster, sb.parts.part, occluder)
        part = observe(spin_px, visible, self_hidden, covered, cfg, rng, side)
        gt = np.concatenate([spin_px[:, :2], visible[:, None]], axis=1).astype(np.float32)
        camera = weak_perspective_from_translation(
            torch.from_numpy(cam_t[None]).float(), scene.focal, torch.from_numpy(scene.principal[None]).float(),
            torch.from_numpy(centre[None]).float(), torch.tensor([side], dtype=torch.float32),
        )[0].numpy()
    coco_idx = list(COCO17_FROM_SPIN24)
    row = {
        "center": centre.astype(np.float32),
        "scale": np.asarray(side / 200.0, np.float32),
        "part": part,
        "S": np.concatenate([spin3d + cam_t, np.ones((24, 1))], axis=1).astype(np.float32),
        "pose": scene.pose,
        "shape": scene.betas,
        "keypoints_coco": part[coco_idx],
        "keypoints_coco_gt": gt[coco_idx],
        "cam_t": cam_t.astype(np.float32),
        "focal": np.asarray(scene.focal, np.float32),
        "principal": scene.principal.astype(np.float32),
        "camera": camera.astype(np.float32),
        "bbox": tight.astype(np.float32),
    }
    return RenderedSample(image=image, body_mask=mask, occluder_mask=occluder, row=row)
