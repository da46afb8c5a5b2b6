"""The body's COCO-17 keypoints without skinning the mesh: exact, and fast enough to fit.

A keypoint is a fixed linear combination of skinned vertices (``coco_regressor``), and
linear blend skinning is linear in each vertex's rest position, which is linear in the
shape (and pose-corrective) coefficients. So the regressor can be folded through the
skinning weights once, per keypoint k and joint j:

    W[k, j] = sum_v C[k, v] w[v, j]                    (how much joint j moves keypoint k)
    R[k, j] = sum_v C[k, v] w[v, j] (t_v + S_v b + P_v p)

and then keypoint_k = sum_j A_j[:3, :3] R[k, j] + A_j[:3, 3] W[k, j], with A_j the joint
transforms. This is the same number as posing the body and regressing (no
approximation), for 17 x 24 points instead of the thousands of vertices the regressor
reads; the fit's steps then cost milliseconds.
"""

from __future__ import annotations

import torch
from smplx.lbs import blend_shapes


def _levels(parents: list[int]) -> list[tuple[list[int], list[int]]]:
    """The kinematic tree by depth: per level below the root, (joints, each one's parent's
    position in the previous level's list)."""
    depth = [0] * len(parents)
    for j in range(1, len(parents)):
        depth[j] = depth[parents[j]] + 1
    levels = [[j for j in range(len(parents)) if depth[j] == d] for d in range(max(depth) + 1)]
    return [(levels[d], [levels[d - 1].index(parents[j]) for j in levels[d]]) for d in range(1, len(levels))]


class KeypointModel(torch.nn.Module):
    """COCO-17 keypoints of a BodyModel, folded (see the module docstring).

    Buffers (on the body's device, float64: the fit runs in double precision so that a
    person's result does not depend on the batch's rounding, see ``smplify``): W (17, 24); T (17, 24, 3); S (17, 24, 3, 10);
    P (17, 24, 3, 207) or empty when the body has no pose correctives.
    """

    # Buffers, declared so that type checkers see tensors rather than Module attributes.
    W: torch.Tensor
    T: torch.Tensor
    S: torch.Tensor
    P: torch.Tensor
    J_template: torch.Tensor
    J_shapedirs: torch.Tensor
    parents: torch.Tensor
    unsort: torch.Tensor

    def __init__(self, body) -> None:
        super().__init__()
        C = body.coco_regressor.double()
        w = body.lbs_weights.double()
        Cw = C[:, :, None] * w[None]  # (17, V, 24)
        self.register_buffer("W", Cw.sum(1))
        self.register_buffer("T", torch.einsum("kvj,vc->kjc", Cw, body.v_template.double()))
        self.register_buffer("S", torch.einsum("kvj,vcb->kjcb", Cw, body.shapedirs.double()))
        self.has_pose_correctives = body.has_pose_correctives
        if self.has_pose_correctives:
            V = body.num_vertices
            posedirs = body.posedirs.double().reshape(-1, V, 3)  # (207, V, 3)
            self.register_buffer("P", torch.einsum("kvj,pvc->kjcp", Cw, posedirs))
        else:
            self.register_buffer("P", torch.zeros(0, dtype=torch.float64))
        self.register_buffer("J_template", (body.J_regressor.double() @ body.v_template.double()))
        self.register_buffer("J_shapedirs", torch.einsum("jv,vkb->jkb", body.J_regressor.double(), body.shapedirs.double()))
        self.register_buffer("parents", body.parents.clone())
        self.levels = _levels(body.parents.tolist())
        order = [0] + [j for joints, _ in self.levels for j in joints]
        self.register_buffer("unsort", torch.as_tensor([order.index(j) for j in range(len(order))]))

    def forward(self, R: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """R: (B, 24, 3, 3) joint rotations, root first; betas: (B, 10).

        Returns keypoints (B, 17, 3) and joints (B, 24, 3), metres, camera-oriented, no
        translation -- equal to ``BodyModel(...).keypoints`` and ``.joints``.
        """
        B = R.shape[0]
        J = self.J_template + blend_shapes(betas, self.J_shapedirs)
        rot, joints = self._chain(R, J)
        rest = self.T + torch.einsum("kjcb,nb->nkjc", self.S, betas)
        if self.has_pose_correctives:
            eye = torch.eye(3, dtype=R.dtype, device=R.device)
            pose_feature = (R[:, 1:] - eye).reshape(B, -1)
            rest = rest + torch.einsum("kjcp,np->nkjc", self.P, pose_feature)
        # Skinning transform of joint j: x -> rot_j (x - J_j) + joints_j.
        trans = joints - torch.einsum("njcd,njd->njc", rot, J.expand(B, -1, -1))
        kp = torch.einsum("njcd,nkjd->nkc", rot, rest) + torch.einsum("njc,kj->nkc", trans, self.W)
        return kp, joints

    def _chain(self, R: torch.Tensor, J: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward kinematics a tree level at a time (a handful of batched products instead
        of one per joint): world rotations (B, 24, 3, 3) and posed joints (B, 24, 3)."""
        B = R.shape[0]
        rel = J - torch.cat([torch.zeros_like(J[:, :1]), J[:, self.parents[1:]]], dim=1)
        rots, pos = [R[:, :1]], [rel[:, :1].expand(B, -1, -1)]
        for joints, parent_at in self.levels:
            parent_rot, parent_pos = rots[-1][:, parent_at], pos[-1][:, parent_at]
            rots.append(parent_rot @ R[:, joints])
            pos.append(parent_pos + torch.einsum("njcd,njd->njc", parent_rot, rel[:, joints].expand(B, -1, -1)))
        return torch.cat(rots, 1)[:, self.unsort], torch.cat(pos, 1)[:, self.unsort]
