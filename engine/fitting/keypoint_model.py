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
from smplx.lbs import batch_rigid_transform, blend_shapes


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

    def forward(self, R: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """R: (B, 24, 3, 3) joint rotations, root first; betas: (B, 10).

        Returns keypoints (B, 17, 3) and joints (B, 24, 3), metres, camera-oriented, no
        translation -- equal to ``BodyModel(...).keypoints`` and ``.joints``.
        """
        B = R.shape[0]
        J = self.J_template + blend_shapes(betas, self.J_shapedirs)
        joints, A = batch_rigid_transform(R, J, self.parents, dtype=R.dtype)
        rest = self.T + torch.einsum("kjcb,nb->nkjc", self.S, betas)
        if self.has_pose_correctives:
            eye = torch.eye(3, dtype=R.dtype, device=R.device)
            pose_feature = (R[:, 1:] - eye).reshape(B, -1)
            rest = rest + torch.einsum("kjcp,np->nkjc", self.P, pose_feature)
        rot, trans = A[:, :, :3, :3], A[:, :, :3, 3]
        kp = torch.einsum("njcd,nkjd->nkc", rot, rest) + torch.einsum("njc,kj->nkc", trans, self.W)
        return kp, joints
