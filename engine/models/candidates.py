"""Candidate bodies: sampled parameter vectors decoded into meshes, joints and 2D points.

N persons x M hypotheses each. Everything downstream (scoring, overlays, preference
pairs, metrics) works from one :class:`Candidates`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import torch

from engine.body.model import BodyModel
from engine.body.projection import crop_to_image
from engine.errors import ShapeError
from engine.models.param_layout import ParamLayout


@dataclass(frozen=True, eq=False)
class Candidates:
    """Decoded hypotheses of N persons, M each (float32 tensors on the CPU).

    params: (N, M, D) raw parameter vectors (``ParamLayout``).
    pose_aa: (N, M, 72) axis-angle, radians. betas: (N, M, 10). cam: (N, M, 3) (s, tx, ty).
    vertices: (N, M, V, 3) metres, camera-oriented, no translation; None if not decoded.
    joints: (N, M, 24, 3) SMPL joints, metres. keypoints3d: (N, M, 17, 3) COCO-17, metres.
    joints_crop / keypoints_crop: (N, M, 24 | 17, 2) normalised crop coordinates.
    joints_px / keypoints_px: (N, M, 24 | 17, 2) full-image pixels.
    scores: (N, M) the scorer's scores in [0, 1] (higher is better), or None.
    """

    params: torch.Tensor
    pose_aa: torch.Tensor
    betas: torch.Tensor
    cam: torch.Tensor
    vertices: torch.Tensor | None
    joints: torch.Tensor
    keypoints3d: torch.Tensor
    joints_crop: torch.Tensor
    keypoints_crop: torch.Tensor
    joints_px: torch.Tensor
    keypoints_px: torch.Tensor
    scores: torch.Tensor | None = None

    @property
    def num_persons(self) -> int:
        return self.params.shape[0]

    @property
    def num_hypotheses(self) -> int:
        return self.params.shape[1]

    @property
    def joints_2d(self) -> torch.Tensor:
        """joints_crop, under the name ``BodyOutput`` uses."""
        return self.joints_crop

    @property
    def keypoints_2d(self) -> torch.Tensor:
        """keypoints_crop, under the name ``BodyOutput`` uses."""
        return self.keypoints_crop

    def with_scores(self, scores: torch.Tensor) -> "Candidates":
        """A copy holding scores: (N, M)."""
        scores = torch.as_tensor(scores, dtype=torch.float32).cpu()
        if tuple(scores.shape) != tuple(self.params.shape[:2]):
            raise ShapeError(f"scores: expected shape {tuple(self.params.shape[:2])}, got {tuple(scores.shape)}")
        return replace(self, scores=scores)

    def hypotheses(self, which: slice) -> "Candidates":
        """The hypotheses ``which`` (a slice along M) of every person."""
        picked: dict[str, Any] = {}
        for f in fields(Candidates):
            value = getattr(self, f.name)
            picked[f.name] = None if value is None else value[:, which]
        return Candidates(**picked)

    @staticmethod
    def concat(parts: "list[Candidates]") -> "Candidates":
        """Chunks of the same persons' hypotheses joined along M."""
        if len(parts) == 1:
            return parts[0]
        joined: dict[str, Any] = {}
        for f in fields(Candidates):
            values = [getattr(p, f.name) for p in parts]
            joined[f.name] = None if values[0] is None else torch.cat(values, dim=1)
        return Candidates(**joined)

    def ranking(self) -> torch.Tensor:
        """(N, M) long: hypothesis indices best first by score (by index when unscored)."""
        if self.scores is None:
            return torch.arange(self.num_hypotheses).expand(self.num_persons, -1).clone()
        return torch.argsort(self.scores, dim=1, descending=True, stable=True)


@torch.no_grad()
def decode_candidates(
    params: torch.Tensor,
    layout: ParamLayout,
    body: BodyModel,
    crop_center: torch.Tensor,
    crop_size: torch.Tensor,
    with_vertices: bool = True,
    chunk_size: int = 1024,
) -> Candidates:
    """Decode raw parameter vectors with the body model.

    params: (N, M, D) raw. body: a BodyModel. crop_center: (N, 2) px and crop_size: (N,)
    px, each person's crop in the full image. with_vertices: keep the meshes (they cost
    V x 12 bytes a candidate). chunk_size: body-model rows per call.
    """
    params = torch.as_tensor(params)
    if params.ndim != 3 or params.shape[-1] != layout.dim:
        raise ShapeError(f"params: expected (N, M, {layout.dim}), got {tuple(params.shape)}")
    N, M, D = params.shape
    crop_center = torch.as_tensor(crop_center, dtype=torch.float32).reshape(N, 2)
    crop_size = torch.as_tensor(crop_size, dtype=torch.float32).reshape(N)
    flat = params.to(body.device, torch.float32).reshape(N * M, D)
    rot, betas, cam = layout.split(flat)
    verts, joints, kp3d, j2d, k2d = [], [], [], [], []
    for start in range(0, N * M, chunk_size):
        sl = slice(start, start + chunk_size)
        out = body(rot[sl], betas[sl], cam[sl], return_vertices=with_vertices)
        if with_vertices:
            verts.append(out.vertices.cpu())
        joints.append(out.joints.cpu())
        kp3d.append(out.keypoints.cpu())
        j2d.append(out.joints_2d.cpu())
        k2d.append(out.keypoints_2d.cpu())
    pose_aa, _, _ = layout.to_axis_angle(flat)

    def grid(parts: list[torch.Tensor]) -> torch.Tensor:
        x = parts[0] if len(parts) == 1 else torch.cat(parts)  # one chunk: no 12 V bytes a candidate copied
        return x.reshape(N, M, *x.shape[1:])

    joints_crop, keypoints_crop = grid(j2d), grid(k2d)
    centre = crop_center.repeat_interleave(M, 0)
    size = crop_size.repeat_interleave(M, 0)
    return Candidates(
        params=flat.cpu().reshape(N, M, D),
        pose_aa=pose_aa.cpu().reshape(N, M, -1),
        betas=betas.cpu().reshape(N, M, -1),
        cam=cam.cpu().reshape(N, M, -1),
        vertices=grid(verts) if with_vertices else None,
        joints=grid(joints),
        keypoints3d=grid(kp3d),
        joints_crop=joints_crop,
        keypoints_crop=keypoints_crop,
        joints_px=crop_to_image(joints_crop.reshape(N * M, -1, 2), centre, size).reshape(N, M, -1, 2),
        keypoints_px=crop_to_image(keypoints_crop.reshape(N * M, -1, 2), centre, size).reshape(N, M, -1, 2),
    )
