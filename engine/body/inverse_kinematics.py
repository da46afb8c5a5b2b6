"""HybrIK's analytic inverse kinematics: 29 joints + 23 twist angles -> SMPL's 24 rotations.

ScoreHypo and ADHMR's base model predict a body as 29 joint positions plus one twist angle
per non-root SMPL joint (Li et al., HybrIK, CVPR 2021), not as rotations. The rotations
follow analytically, parent before child:

* the pelvis and spine3, which have three children each, get the rotation that best
  maps their rest bones onto the posed bones (Kabsch, directions only);
* every other joint j with its one child c: in the frame of j's parent, the *swing* is
  the smallest rotation taking the rest bone t = J_rest[c] - J_rest[j] onto the posed bone,
  the *twist* a rotation by the joint's twist angle about t; R_j = swing @ twist.

The twist angles of spine3 (index 8 of the 23) are read and ignored, as in HybrIK.

The 29 joints are SMPL's 24 and five leaves, each the tip of a chain that otherwise ends
in a joint with no bone to swing: head top (child of head, 15), left and right middle
finger tips (children of the hands, 22 and 23), left and right big toes (children of the
feet, 10 and 11). Like HybrIK they are mesh vertices: on the 6890-vertex SMPL the ones
HybrIK uses (411, 2445, 5905, 3216, 6617); on another body (the bundled open body) the
file's named extra-joint vertices ``lmiddle``, ``rmiddle``, ``LBigToe``, ``RBigToe`` and,
for the head top, the highest rest vertex (Y up) whose largest skinning weight is the head's.
A leaf is skinned, not rigidly attached, so the head, hand and foot rotations recovered
from skinned leaves are close, not exact; the other 19 rotations and all 24 joint
positions are exact up to float rounding.

Positions are camera-oriented metres (x right, y down, z forward), any origin (only
differences are used). :func:`joints_from_uvd` turns the (u, v, depth) form into them.
"""

from __future__ import annotations

import torch

from engine.body.model import SMPL_PARENTS, BodyModel
from engine.body.model_file import read_model_file
from engine.body.rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_quaternion
from engine.errors import BodyModelError, ShapeError

NUM_JOINTS_29 = 29
NUM_TWISTS = 23
LEAF_NAMES = ("head_top", "left_middle_tip", "right_middle_tip", "left_big_toe", "right_big_toe")
LEAF_PARENTS = (15, 22, 23, 10, 11)
PARENTS_29 = SMPL_PARENTS + LEAF_PARENTS
SMPL_LEAF_VERTICES = (411, 2445, 5905, 3216, 6617)
"""HybrIK's leaf vertices on the official 6890-vertex SMPL mesh."""
_NAMED_LEAVES = ("lmiddle", "rmiddle", "LBigToe", "RBigToe")
HEAD = 15
_MULTI_CHILD = {0: (1, 2, 3), 9: (12, 13, 14)}
# The one child whose bone a joint swings; pelvis and spine3 use all three (Kabsch).
CHILD = tuple(
    next(c for c in range(NUM_JOINTS_29) if PARENTS_29[c] == j) if j not in _MULTI_CHILD else -1
    for j in range(24)
)


def leaf_vertices(body: BodyModel) -> tuple[int, ...]:
    """The vertex ids of the five leaf joints on ``body`` (see the module docstring)."""
    if body.num_vertices == 6890:
        return SMPL_LEAF_VERTICES
    arrays = read_model_file(body.path)
    names = [str(n) for n in arrays.get("vertex_ids_names", [])]
    missing = [n for n in _NAMED_LEAVES if n not in names]
    if missing:
        raise BodyModelError(f"{body.path}: no vertex ids named {', '.join(missing)} for the 29-joint skeleton")
    values = arrays["vertex_ids_values"]
    named = [int(values[names.index(n)]) for n in _NAMED_LEAVES]
    head_region = torch.nonzero(body.lbs_weights.argmax(dim=1) == HEAD)[:, 0]
    top = head_region[body.v_template[head_region, 1].argmax()]
    return (int(top), *named)


def _rest_joints29(body: BodyModel, betas: torch.Tensor, leaves: tuple[int, ...]) -> torch.Tensor:
    """Rest joints (B, 29, 3) in float64 for betas (B, 10)."""
    b64 = betas.to(body.device, torch.float64)
    joints = body.J_template.double() + torch.einsum("jkb,nb->njk", body.J_shapedirs.double(), b64)
    ids = torch.as_tensor(leaves, device=body.device)
    tips = body.v_template[ids].double() + torch.einsum("jkb,nb->njk", body.shapedirs[ids].double(), b64)
    return torch.cat([joints, tips], dim=1)


def _betas(betas: torch.Tensor | None, batch: int, body: BodyModel) -> torch.Tensor:
    if betas is None:
        return torch.zeros(batch, 10, dtype=torch.float64, device=body.device)
    if betas.shape != (batch, 10):
        raise ShapeError(f"betas: expected shape ({batch}, 10), got {tuple(betas.shape)}")
    return betas.to(body.device, torch.float64)


def pose_to_joints_and_twists(
    body: BodyModel, pose: torch.Tensor, betas: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The forward direction: what ScoreHypo would predict for a posed body.

    Args:
        pose: (B, 72) or (B, 24, 3) axis-angle, global orientation first.
        betas: (B, 10) or None (zeros).

    Returns:
        joints: (B, 29, 3) float64 posed joints, metres (the body's own origin).
        twists: (B, 23) float64 twist angles in radians of joints 1..23, in (-pi, pi].
    """
    B = pose.shape[0]
    aa = pose.reshape(B, 24, 3).to(body.device, torch.float64)
    b64 = _betas(betas, B, body)
    leaves = leaf_vertices(body)
    body64 = body.float64_copy()
    out = body64(aa, b64, rotation_format="axis_angle")
    assert out.vertices is not None
    joints = torch.cat([out.joints, out.vertices[:, list(leaves)]], dim=1)
    rest = _rest_joints29(body, b64, leaves)
    R = axis_angle_to_matrix(aa)
    twists = torch.zeros(B, NUM_TWISTS, dtype=torch.float64, device=body.device)
    for j in range(1, 24):
        child = CHILD[j] if CHILD[j] >= 0 else 12
        axis = rest[:, child] - rest[:, j]
        axis = axis / axis.norm(dim=-1, keepdim=True)
        q = matrix_to_quaternion(R[:, j])
        # q = q_swing q_twist with the swing axis normal to the bone: the twist half-angle
        # is atan2(v . axis, w) (the swing's cosine factor cancels).
        twists[:, j - 1] = 2 * torch.atan2((q[:, 1:] * axis).sum(-1), q[:, 0])
    twists = torch.remainder(twists + torch.pi, 2 * torch.pi) - torch.pi
    return joints, twists


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def _kabsch(rest: torch.Tensor, posed: torch.Tensor) -> torch.Tensor:
    """The rotation (B, 3, 3) best mapping unit rest directions (B, K, 3) onto posed ones."""
    H = rest.transpose(1, 2) @ posed
    U, _, Vh = torch.linalg.svd(H)
    V = Vh.transpose(1, 2)
    d = torch.linalg.det(V @ U.transpose(1, 2))
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], dim=-1))
    return V @ D @ U.transpose(1, 2)


def _swing(t: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """The smallest rotation (B, 3, 3) taking unit vectors t (B, 3) onto unit p (B, 3)."""
    cross = torch.cross(t, p, dim=-1)
    sin = cross.norm(dim=-1, keepdim=True)
    cos = (t * p).sum(-1, keepdim=True)
    # Antiparallel bones have no unique axis: any axis normal to t does.
    least = torch.nn.functional.one_hot(t.abs().argmin(dim=-1), 3).to(t.dtype)
    fallback = _unit(torch.cross(t, least, dim=-1))
    axis = torch.where(sin > 1e-9, cross / sin.clamp(min=1e-12), fallback)
    return axis_angle_to_matrix(axis * torch.atan2(sin, cos))


def twist_angles(twists: torch.Tensor) -> torch.Tensor:
    """Twists as (B, 23) radians or HybrIK's (B, 23, 2) (cos, sin) pairs -> (B, 23) radians."""
    if twists.ndim == 3 and twists.shape[1:] == (NUM_TWISTS, 2):
        return torch.atan2(twists[..., 1], twists[..., 0])
    if twists.ndim == 2 and twists.shape[1] == NUM_TWISTS:
        return twists
    raise ShapeError(f"twists: expected shape (B, 23) radians or (B, 23, 2) cos/sin, got {tuple(twists.shape)}")


def inverse_kinematics(
    body: BodyModel, joints: torch.Tensor, twists: torch.Tensor, betas: torch.Tensor | None = None
) -> torch.Tensor:
    """SMPL rotations from 29 joints and 23 twists (HybrIK's analytic IK).

    Args:
        joints: (B, 29, 3) posed joints, metres, camera-oriented, any origin.
        twists: (B, 23) radians or (B, 23, 2) (cos, sin), joints 1..23 in SMPL order.
        betas: (B, 10) the body's shape or None (zeros); gives the rest bones.

    Returns:
        pose: (B, 72) float64 axis-angle, global orientation first.
    """
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS_29, 3):
        raise ShapeError(f"joints: expected shape (B, 29, 3), got {tuple(joints.shape)}")
    B = joints.shape[0]
    phi = twist_angles(twists).to(body.device, torch.float64)
    if phi.shape[0] != B:
        raise ShapeError(f"twists: {phi.shape[0]} rows for {B} bodies")
    X = joints.to(body.device, torch.float64)
    if not (torch.isfinite(X).all() and torch.isfinite(phi).all()):
        raise ShapeError("joints or twists hold NaN or infinite values")
    rest = _rest_joints29(body, _betas(betas, B, body), leaf_vertices(body))
    local: list[torch.Tensor] = [torch.empty(0)] * 24
    glob: list[torch.Tensor] = [torch.empty(0)] * 24
    for j in range(24):
        parent = SMPL_PARENTS[j]
        G_parent = glob[parent] if parent >= 0 else torch.eye(3, dtype=X.dtype, device=X.device).expand(B, 3, 3)
        if j in _MULTI_CHILD:
            kids = list(_MULTI_CHILD[j])
            t = _unit(rest[:, kids] - rest[:, j : j + 1])
            p = _unit(X[:, kids] - X[:, j : j + 1])
            G = _kabsch(t, p)
            R = G_parent.transpose(1, 2) @ G
        else:
            c = CHILD[j]
            t = _unit(rest[:, c] - rest[:, j])
            p = _unit((G_parent.transpose(1, 2) @ (X[:, c] - X[:, j])[..., None])[..., 0])
            R = _swing(t, p) @ axis_angle_to_matrix(t * phi[:, j - 1 : j])
            G = G_parent @ R
        local[j], glob[j] = R, G
    return matrix_to_axis_angle(torch.stack(local, dim=1)).reshape(B, 72)


def joints_from_uvd(uvd: torch.Tensor, cam: torch.Tensor, body: BodyModel | None = None) -> torch.Tensor:
    """Back-project the (u, v, depth) form to camera-oriented joints under the crop's
    weak-perspective camera (engine.body.projection): x = u / s - tx, y = v / s - ty, z = depth.

    Args:
        uvd: (B, 29, 3) u, v in normalised crop coordinates (-1..1), depth in metres
            relative to the pelvis (positive away from the camera).
        cam: (B, 3) weak-perspective (s, tx, ty), s > 0.

    Returns:
        joints: (B, 29, 3) float64 metres, the body's origin at the camera's (tx, ty) offset.
    """
    if uvd.ndim != 3 or uvd.shape[1:] != (NUM_JOINTS_29, 3):
        raise ShapeError(f"uvd: expected shape (B, 29, 3), got {tuple(uvd.shape)}")
    if cam.shape != (uvd.shape[0], 3):
        raise ShapeError(f"cam: expected shape ({uvd.shape[0]}, 3), got {tuple(cam.shape)}")
    u64, c64 = uvd.double(), cam.double()
    if not bool((c64[:, 0] > 0).all()):
        raise ShapeError("cam: the scale s must be positive")
    xy = u64[..., :2] / c64[:, None, :1] - c64[:, None, 1:]
    return torch.cat([xy, u64[..., 2:]], dim=-1)


def uvd_from_joints(joints: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`joints_from_uvd`: joints (B, 29, 3), cam (B, 3) -> (B, 29, 3)
    u, v (normalised crop) and depth relative to the pelvis."""
    j64, c64 = joints.double(), cam.double()
    uv = c64[:, None, :1] * (j64[..., :2] + c64[:, None, 1:])
    return torch.cat([uv, j64[..., 2:] - j64[:, :1, 2:]], dim=-1)

