"""The body model: SMPL-family parameters to vertices, joints and COCO-17 keypoints.

smplx is the runtime body layer: the model is constructed as ``smplx.SMPL`` from the
file's arrays (``data_struct``), and the forward pass is smplx's linear blend skinning
(``blend_shapes``, ``batch_rigid_transform``; joint regression as one matmul) with two shortcuts
that keep the answer exact: pose correctives are skipped when the file has none, and
the skinning transforms are blended with dense matmuls over vertex chunks (much faster
on CPU than smplx's per-vertex 4x4 products for batches of 100 candidates), and the rest
joints come from the joint regressor folded into the template and shape directions.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import smplx
import torch
from smplx.lbs import batch_rigid_transform, blend_shapes
from smplx.utils import Struct

from engine.body.model_file import NUM_JOINTS, read_model_file
from engine.body.projection import project_weak_perspective
from engine.body.rotations import axis_angle_to_matrix, rotation_6d_to_matrix
from engine.errors import BodyModelError, ShapeError

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
OPEN_BODY_PATH = RESOURCES / "body" / "open_body.npz"
ENV_VAR = "ADHMR_BODY_MODEL"
NUM_BETAS = 10

SMPL_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

# Official SMPL topology (6890 vertices): face points from smplx's own vertex ids, body
# points from the joints, for users who bring a licensed SMPL file without a COCO regressor.
_SMPL_FACE_VERTICES = (332, 2800, 6260, 583, 4071)  # nose, left eye, right eye, left ear, right ear
_COCO_BODY_FROM_JOINTS = (16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8)


@dataclass(frozen=True)
class BodyOutput:
    """Posed bodies.

    vertices: (B, V, 3) float32, metres, camera-oriented, no translation; None when the
        forward pass was asked not to skin the mesh.
    joints: (B, 24, 3) SMPL joints, metres.
    keypoints: (B, 17, 3) COCO-17 keypoints, metres.
    joints_2d / keypoints_2d: (B, 24, 2) / (B, 17, 2) normalised crop coordinates, when a
        weak-perspective camera was given; else None.
    """

    vertices: torch.Tensor | None
    joints: torch.Tensor
    keypoints: torch.Tensor
    joints_2d: torch.Tensor | None = None
    keypoints_2d: torch.Tensor | None = None


def resolve_model_path(path: str | Path | None = None) -> Path:
    """The body model to use: the argument, else $ADHMR_BODY_MODEL, else the open body."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return OPEN_BODY_PATH


class BodyModel(torch.nn.Module):
    """An SMPL-format body model (24 joints, 10 betas), batched, on any device.

    Args:
        path: an SMPL-format ``.npz`` or ``.pkl``; None uses $ADHMR_BODY_MODEL or the
            bundled open body.
        device: where the buffers live.
    """

    # Buffers, declared so that type checkers see tensors rather than Module attributes.
    v_template: torch.Tensor
    shapedirs: torch.Tensor
    J_regressor: torch.Tensor
    parents: torch.Tensor
    posedirs: torch.Tensor
    lbs_weights: torch.Tensor
    coco_regressor: torch.Tensor
    J_template: torch.Tensor
    J_shapedirs: torch.Tensor
    coco_support: torch.Tensor
    coco_support_regressor: torch.Tensor

    def __init__(self, path: str | Path | None = None, device: str | torch.device = "cpu"):
        super().__init__()
        self.path = resolve_model_path(path)
        arrays = read_model_file(self.path)
        num_v = arrays["v_template"].shape[0]
        self.name = str(arrays["name"]) if "name" in arrays else self.path.stem
        if "posedirs" not in arrays:
            arrays["posedirs"] = np.zeros((num_v, 3, (NUM_JOINTS - 1) * 9), np.float32)
        parents = arrays["kintree_table"][0].astype(np.int64).copy()
        parents[0] = -1
        if tuple(parents.tolist()) != SMPL_PARENTS:
            raise BodyModelError(f"{self.path}: the kinematic tree is not SMPL's 24-joint tree")
        vertex_ids = _vertex_ids(arrays)
        # smplx prints a warning for models with 10 shape coefficients; it is expected here.
        with contextlib.redirect_stdout(io.StringIO()):
            layer = smplx.SMPL(
                model_path=str(self.path),
                data_struct=Struct(**arrays),
                vertex_ids=vertex_ids,
                create_betas=False, create_global_orient=False, create_body_pose=False, create_transl=False,
                num_betas=NUM_BETAS,
            )
        self.faces = np.asarray(arrays["f"], dtype=np.int64)
        self.num_vertices = num_v
        self.register_buffer("v_template", layer.v_template.clone())
        self.register_buffer("shapedirs", layer.shapedirs[:, :, :NUM_BETAS].clone())
        self.register_buffer("J_regressor", layer.J_regressor.clone())
        self.register_buffer("parents", torch.as_tensor(parents))
        posedirs = layer.posedirs.clone()
        self.has_pose_correctives = bool(posedirs.abs().max() > 0)
        self.register_buffer("posedirs", posedirs if self.has_pose_correctives else torch.zeros(0))
        self.register_buffer("lbs_weights", layer.lbs_weights.clone())
        coco = self._coco_regressor(arrays, num_v)
        self.register_buffer("coco_regressor", coco)
        # Rest joints are linear in the betas: J = J_regressor (v_template + shapedirs b).
        self.register_buffer("J_template", self.J_regressor @ self.v_template)
        self.register_buffer("J_shapedirs", torch.einsum("jv,vkb->jkb", self.J_regressor, self.shapedirs))
        # The vertices the COCO keypoints are regressed from: enough to skin when the
        # caller needs no mesh.
        support = torch.nonzero(coco.abs().sum(0) > 0)[:, 0]
        self.register_buffer("coco_support", support)
        self.register_buffer("coco_support_regressor", coco[:, support].contiguous())
        self.to(device)
        log.info("loaded body model %s (%d vertices) from %s", self.name, num_v, self.path)

    def _coco_regressor(self, arrays: dict, num_v: int) -> torch.Tensor:
        if "coco_regressor" in arrays:
            return torch.as_tensor(arrays["coco_regressor"], dtype=torch.float32)
        if num_v != 6890:
            raise BodyModelError(f"{self.path}: no coco_regressor and not the 6890-vertex SMPL topology")
        reg = np.zeros((17, num_v), np.float32)
        for row, vid in enumerate(_SMPL_FACE_VERTICES):
            reg[row, vid] = 1.0
        joint_reg = arrays["J_regressor"]
        for row, j in enumerate(_COCO_BODY_FROM_JOINTS, start=5):
            reg[row] = joint_reg[j]
        return torch.as_tensor(reg)

    @property
    def device(self) -> torch.device:
        return self.v_template.device

    def float64_copy(self) -> BodyModel:
        """A float64 copy whose derived buffers (rest joints) are recomputed in float64,
        not widened from float32 products whose last bits depend on the BLAS code path."""
        body = copy.deepcopy(self).double()
        body.J_template = body.J_regressor @ body.v_template
        body.J_shapedirs = torch.einsum("jv,vkb->jkb", body.J_regressor, body.shapedirs)
        return body

    def rotations_to_matrix(self, rotations: torch.Tensor, rotation_format: str) -> torch.Tensor:
        """Turn (B, 24, 6) / (B, 144) 6D, (B, 24, 3) / (B, 72) axis-angle or (B, 24, 3, 3)
        matrices into (B, 24, 3, 3)."""
        B = rotations.shape[0]
        try:
            if rotation_format == "6d":
                return rotation_6d_to_matrix(rotations.reshape(B, NUM_JOINTS, 6))
            if rotation_format == "axis_angle":
                return axis_angle_to_matrix(rotations.reshape(B, NUM_JOINTS, 3))
            if rotation_format == "matrix":
                return rotations.reshape(B, NUM_JOINTS, 3, 3)
        except RuntimeError:
            raise ShapeError(
                f"rotations: shape {tuple(rotations.shape)} does not hold 24 joints in {rotation_format!r} format"
            ) from None
        raise ShapeError(f"unknown rotation format {rotation_format!r} (use '6d', 'axis_angle' or 'matrix')")

    def forward(
        self,
        rotations: torch.Tensor,
        betas: torch.Tensor | None = None,
        cam: torch.Tensor | None = None,
        rotation_format: str = "6d",
        return_vertices: bool = True,
    ) -> BodyOutput:
        """Pose and shape a batch of bodies.

        Args:
            rotations: 24 joint rotations, global orientation first, in ``rotation_format``:
                '6d' (B, 24, 6), 'axis_angle' (B, 24, 3) or (B, 72), 'matrix' (B, 24, 3, 3).
            betas: (B, 10) shape coefficients; None = zeros (the average body).
            cam: (B, 3) weak-perspective (s, tx, ty) to project joints and keypoints.
            return_vertices: False skins only the vertices the COCO keypoints are
                regressed from (same joints and keypoints, much less work) and returns
                vertices=None.

        Returns:
            BodyOutput with vertices (B, V, 3) or None, joints (B, 24, 3), keypoints (B, 17, 3).
        """
        if not torch.is_tensor(rotations):
            raise ShapeError("rotations: expected a torch tensor")
        if not rotations.dtype.is_floating_point:
            raise ShapeError(f"rotations: expected floating point, got {rotations.dtype}")
        B = rotations.shape[0]
        # float32 unless the model was converted with .double() (the synthetic renderer's exact labels).
        dtype = self.v_template.dtype
        R = self.rotations_to_matrix(rotations.to(self.device, dtype), rotation_format)
        if betas is None:
            betas = torch.zeros(B, NUM_BETAS, device=self.device, dtype=dtype)
        if betas.shape != (B, NUM_BETAS):
            raise ShapeError(f"betas: expected shape ({B}, {NUM_BETAS}), got {tuple(betas.shape)}")
        betas = betas.to(self.device, dtype)
        if not (torch.isfinite(R).all() and torch.isfinite(betas).all()):
            raise ShapeError("rotations or betas hold NaN or infinite values")

        J = self.J_template + blend_shapes(betas, self.J_shapedirs)
        if return_vertices:
            v_template, shapedirs, posedirs, coco = self.v_template, self.shapedirs, self.posedirs, self.coco_regressor
        else:
            support = self.coco_support
            v_template, shapedirs, coco = self.v_template[support], self.shapedirs[support], self.coco_support_regressor
            posedirs = self.posedirs.reshape(-1, self.num_vertices, 3)[:, support] if self.has_pose_correctives else self.posedirs
        v_posed = v_template + blend_shapes(betas, shapedirs)
        if self.has_pose_correctives:
            eye = torch.eye(3, device=self.device, dtype=dtype)
            pose_feature = (R[:, 1:] - eye).reshape(B, -1)
            v_posed = v_posed + (pose_feature @ posedirs.reshape(pose_feature.shape[1], -1)).reshape(B, -1, 3)
        joints, A = batch_rigid_transform(R, J, self.parents, dtype=dtype)
        weights = self.lbs_weights if return_vertices else self.lbs_weights[self.coco_support]
        skinned, keypoints = _skin(v_posed, A, weights, coco)
        vertices = skinned if return_vertices else None
        out = BodyOutput(vertices=vertices, joints=joints, keypoints=keypoints)
        if cam is not None:
            if cam.shape != (B, 3):
                raise ShapeError(f"cam: expected shape ({B}, 3), got {tuple(cam.shape)}")
            cam = cam.to(self.device, dtype)
            out = BodyOutput(
                vertices=vertices,
                joints=joints,
                keypoints=keypoints,
                joints_2d=project_weak_perspective(joints, cam),
                keypoints_2d=project_weak_perspective(keypoints, cam),
            )
        return out



SKIN_CHUNK = 512
"""Vertices skinned per step: the blended (chunk, B, 3, 4) transforms then stay in cache."""


def _skin(
    v_posed: torch.Tensor, A: torch.Tensor, weights: torch.Tensor, regressor: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear blend skinning, and points regressed from the skinned vertices.

    Args:
        v_posed: (B, V, 3) rest vertices after shape (and pose) blend shapes.
        A: (B, 24, 4, 4) joint transforms relative to the rest pose.
        weights: (V, 24) skinning weights.
        regressor: (K, V) the points' weights over the vertices (COCO-17 keypoints).

    Returns:
        vertices: (B, V, 3); points: (B, K, 3).

    Per chunk of vertices, one (chunk, 24) x (24, B*12) GEMM blends the transforms,
    vertex-major, and three fused multiply-adds apply them; materialising all B*V
    blended transforms at once is memory-bound and several times slower. Each chunk,
    still vertex-major and in cache, is regressed at once by a (K, chunk) x (chunk, B*3)
    GEMM, which spares a transposed copy of the whole mesh batch afterwards.
    """
    B, V = v_posed.shape[:2]
    A12 = A[:, :, :3, :].reshape(B, NUM_JOINTS, 12).permute(1, 0, 2).reshape(NUM_JOINTS, B * 12)
    v = v_posed.transpose(0, 1)
    out = torch.empty(B, V, 3, dtype=v_posed.dtype, device=v_posed.device)
    out_vb = out.transpose(0, 1)
    points = torch.zeros(regressor.shape[0], B * 3, dtype=v_posed.dtype, device=v_posed.device)
    for s in range(0, V, SKIN_CHUNK):
        T = (weights[s : s + SKIN_CHUNK] @ A12).reshape(-1, B, 3, 4)
        x = v[s : s + SKIN_CHUNK]
        part = torch.addcmul(T[..., 3], T[..., 0], x[..., 0:1])
        part.addcmul_(T[..., 1], x[..., 1:2]).addcmul_(T[..., 2], x[..., 2:3])
        out_vb[s : s + SKIN_CHUNK] = part
        points.addmm_(regressor[:, s : s + SKIN_CHUNK], part.reshape(-1, B * 3))
    return out, points.reshape(-1, B, 3).permute(1, 0, 2)


def _vertex_ids(arrays: dict) -> dict[str, int]:
    """Extra-joint vertex ids for smplx: from the file, else smplx's SMPL defaults."""
    if "vertex_ids_names" in arrays and "vertex_ids_values" in arrays:
        return {str(n): int(v) for n, v in zip(arrays["vertex_ids_names"], arrays["vertex_ids_values"])}
    num_v = arrays["v_template"].shape[0]
    if num_v == 6890:
        from smplx.vertex_ids import vertex_ids

        return dict(vertex_ids["smplh"])
    raise BodyModelError(
        f"model file has {num_v} vertices but no vertex_ids_names/vertex_ids_values for its extra joints"
    )
