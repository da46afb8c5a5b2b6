"""The candidates of one person, as the views need them: no Qt here.

A ``CandidateSet`` holds the parameter vectors, scores and errors of one person's
candidates (from the store or fresh from the sampler) and decodes meshes lazily, in
batches, through a ``BodyDecoder``; decoded meshes are cached on the set, so switching
back to an image or toggling a candidate costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.body.projection import translation_from_weak_perspective
from engine.data.crops import DEFAULT_BOX_SCALE, square_crop
from engine.metric_registry import metrics
from engine.models.param_layout import ParamLayout



def error_names() -> tuple[str, ...]:
    """The registered error metrics (``engine.metric_registry``), in registration order."""
    return tuple(m.name for m in metrics())
AVERAGE_HEIGHT_M = 1.75


class BodyDecoder:
    """Turns parameter vectors into meshes with one body model.

    body: an ``engine.body.model.BodyModel``. Keeps two coarser face sets computed once:
    ``overlay_faces`` (F', 3) over the original vertex ids for the 2D overlay, and a
    compact ghost mesh for translucent 3D candidates: ``lite_ids`` (V'',) vertex ids and
    ``lite_faces`` (F'', 3) indexing into them (``wire_faces``: the same triangles over
    original ids, for the 2D wireframe).
    """

    def __init__(self, body, layout: ParamLayout = ParamLayout()) -> None:
        from app.views.mesh_raster import overlay_faces

        self.body = body
        self.layout = layout
        self.faces = np.asarray(body.faces, np.int64)
        rest = body.v_template.detach().cpu().numpy()
        self.overlay_faces = overlay_faces(rest, self.faces)
        lite = overlay_faces(rest, self.faces, cell=0.03)
        self.lite_ids, inverse = np.unique(lite, return_inverse=True)
        self.lite_faces = inverse.reshape(-1, 3)
        self.wire_faces = lite  # the ghost's triangles over original ids: a readable wireframe

    @property
    def num_vertices(self) -> int:
        return int(self.body.num_vertices)

    def decode(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """params: (K, D) float32 -> vertices (K, V, 3), COCO keypoints (K, 17, 3), metres,
        camera-oriented, no translation; and cameras (K, 3) weak-perspective (s, tx, ty)."""
        x = torch.as_tensor(np.asarray(params, np.float32))
        rot, betas, cam = self.layout.split(x)
        with torch.inference_mode():
            out = self.body(rot, betas, rotation_format="6d")
        return out.vertices.cpu().numpy(), out.keypoints.cpu().numpy(), cam.numpy().astype(np.float64)

    def rest_pose_params(self) -> np.ndarray:
        """(1, D) the average body in an A-pose, upright and facing the camera, as tall as
        a person's box (the crop is the box's longer side x DEFAULT_BOX_SCALE, a body is
        about 1.75 m)."""
        from engine.body.named_poses import NAMED_POSES

        pose = torch.as_tensor(np.asarray(NAMED_POSES["a_pose"], np.float32)).reshape(1, 72).clone()
        pose[0, :3] = torch.tensor([np.pi, 0.0, 0.0])
        cam = torch.tensor([[2.0 / (DEFAULT_BOX_SCALE * AVERAGE_HEIGHT_M), 0.0, 0.0]])
        return self.layout.from_axis_angle(pose, torch.zeros(1, 10), cam).numpy().astype(np.float32)


@dataclass(frozen=True)
class Crop:
    """The square crop a candidate's weak-perspective camera refers to.

    center: (2,) image pixels. size: side in image pixels.
    """

    center: np.ndarray
    size: float

    @classmethod
    def of_box(cls, box: Sequence[float]) -> Crop:
        center, size = square_crop(np.asarray(box, np.float64), DEFAULT_BOX_SCALE)
        return cls(center, size)

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) normalised crop coordinates -> (..., 2) image pixels."""
        return self.center + np.asarray(xy) * (self.size / 2)


@dataclass(eq=False)
class CandidateSet:
    """One person's candidates.

    ids: (N,) store candidate ids (-1 for unsaved ones). run_ids: (N,) their runs.
    params: (N, D) float32. scores: (N,) float64, NaN without a score.
    errors: metric name -> (N,) float64 (``error_names()``: mpjpe, pa_mpjpe, pve in mm,
        and any other registered metric), NaN where unknown.
    crop: the crop of the person's box the cameras refer to.
    """

    ids: np.ndarray
    run_ids: np.ndarray
    params: np.ndarray
    scores: np.ndarray
    errors: dict[str, np.ndarray]
    crop: Crop
    decoder: BodyDecoder | None = None
    _vertices: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _keypoints: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _cams: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    overlay: dict = field(default_factory=dict, repr=False)
    """Drawings of candidates for the 2D view, kept by it with the set (key: index, mode)."""
    _label: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_records(cls, records, box: Sequence[float], decoder: BodyDecoder | None) -> CandidateSet:
        """From ``engine.store.CandidateRecord`` rows of one person."""
        n = len(records)
        nan = np.full(n, np.nan)
        errors = {}
        for name in error_names():
            values = [r.error(name) for r in records]
            errors[name] = np.array([np.nan if v is None else v for v in values], np.float64) if n else nan
        return cls(
            ids=np.array([r.id for r in records], np.int64),
            run_ids=np.array([r.run_id for r in records], np.int64),
            params=np.stack([r.params for r in records]).astype(np.float32) if n else np.zeros((0, 0), np.float32),
            scores=np.array([np.nan if r.score is None else r.score for r in records], np.float64),
            errors=errors,
            crop=Crop.of_box(box),
            decoder=decoder,
        )

    @classmethod
    def placeholder(cls, box: Sequence[float], decoder: BodyDecoder) -> CandidateSet:
        """One unsaved candidate: the average body standing in ``box``."""
        return cls(
            ids=np.array([-1]), run_ids=np.array([-1]), params=decoder.rest_pose_params(),
            scores=np.array([np.nan]), errors={k: np.array([np.nan]) for k in error_names()},
            crop=Crop.of_box(box), decoder=decoder,
        )

    def same_rows(self, records) -> bool:
        """Whether store rows are the candidates this set was built from (ids and scores)."""
        if len(records) != len(self):
            return False
        ids = np.array([r.id for r in records], np.int64)
        scores = np.array([np.nan if r.score is None else r.score for r in records], np.float64)
        return bool(np.array_equal(ids, self.ids) and np.array_equal(scores, self.scores, equal_nan=True))

    def __len__(self) -> int:
        return len(self.params)

    @property
    def has_scores(self) -> bool:
        return bool(len(self) and np.isfinite(self.scores).any())

    def has_errors(self, name: str = "mpjpe") -> bool:
        return bool(len(self) and np.isfinite(self.errors[name]).any())

    def ranking(self) -> np.ndarray:
        """(N,) candidate indices, best first: by score (higher = better), else sample order."""
        if not self.has_scores:
            return np.arange(len(self))
        key = np.where(np.isfinite(self.scores), -self.scores, np.inf)
        return np.argsort(key, kind="stable")

    def ranks(self) -> np.ndarray:
        """(N,) 1-based rank of each candidate (1 = best)."""
        out = np.empty(len(self), np.int64)
        out[self.ranking()] = np.arange(1, len(self) + 1)
        return out

    def score_range(self) -> tuple[float, float] | None:
        finite = self.scores[np.isfinite(self.scores)]
        if finite.size == 0:
            return None
        return float(finite.min()), float(finite.max())

    def seed_meshes_at(self, i: int, vertices: np.ndarray, keypoints: np.ndarray) -> None:
        """Cache a mesh the sampler already decoded: vertices (V, 3), keypoints (17, 3)."""
        self._vertices[int(i)] = np.asarray(vertices, np.float32)
        self._keypoints[int(i)] = np.asarray(keypoints, np.float32)

    def ensure_decoded(self, indices: Sequence[int]) -> None:
        """Decode the meshes of ``indices`` not decoded yet, in one batch."""
        missing = [int(i) for i in indices if int(i) not in self._vertices or int(i) not in self._keypoints]
        if not missing or self.decoder is None:
            return
        verts, kps, _ = self.decoder.decode(self.params[missing])
        for j, i in enumerate(missing):
            self._vertices[i] = verts[j]
            self._keypoints[i] = kps[j]

    def vertices(self, i: int) -> np.ndarray:
        """(V, 3) float32 metres, camera-oriented, no translation."""
        self.ensure_decoded([i])
        return self._vertices[int(i)]

    def keypoints(self, i: int) -> np.ndarray:
        """(17, 3) COCO-17 keypoints, metres, camera-oriented."""
        self.ensure_decoded([i])
        return self._keypoints[int(i)]

    def camera(self, i: int) -> np.ndarray:
        """(3,) weak-perspective (s, tx, ty) of candidate i."""
        i = int(i)
        if i not in self._cams:
            layout = self.decoder.layout if self.decoder is not None else ParamLayout()
            self._cams[i] = self.params[i, layout.rot_size + layout.num_betas:].astype(np.float64)
        return self._cams[i]

    def to_pixels(self, i: int, points: np.ndarray) -> np.ndarray:
        """Project points (K, 3) of candidate i (camera-oriented metres) to (K, 2) image pixels."""
        s, tx, ty = self.camera(i)
        return self.crop.to_image(s * (points[:, :2] + (tx, ty)))

    def vertices_px(self, i: int) -> np.ndarray:
        """(V, 2) image pixels of candidate i's vertices."""
        return self.to_pixels(i, self.vertices(i))

    def keypoints_px(self, i: int) -> np.ndarray:
        """(17, 2) image pixels of candidate i's COCO keypoints."""
        return self.to_pixels(i, self.keypoints(i))

    def vertex_errors(self, indices: Sequence[int], label_params: np.ndarray) -> dict[int, np.ndarray]:
        """Candidate index -> (V,) float32 mm from each vertex to the 3D label's (``label_params``
        (D,), the person's), both bodies aligned at their hips' midpoint (COCO 11, 12)."""
        if self._label is None:
            verts, kps, _ = self.decoder.decode(np.asarray(label_params, np.float32)[None])
            self._label = verts[0] - kps[0, 11:13].mean(0)
        out = {}
        for i in indices:
            v = self.vertices(i) - self.keypoints(i)[11:13].mean(0)
            out[int(i)] = (1000 * np.linalg.norm(v - self._label, axis=1)).astype(np.float32)
        return out

    def translation(self, i: int, focal: float, principal: np.ndarray) -> np.ndarray:
        """(3,) metres: where candidate i stands for a pinhole camera with ``focal`` px and
        ``principal`` (2,) px that sees it as the weak-perspective crop camera does."""
        t = translation_from_weak_perspective(
            torch.as_tensor(self.camera(i))[None], float(focal),
            torch.as_tensor(np.asarray(principal, np.float64))[None],
            torch.as_tensor(self.crop.center)[None], torch.tensor([self.crop.size], dtype=torch.float64))
        return t[0].numpy()
