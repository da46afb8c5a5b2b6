"""Build the bundled open body: an SMPL-format model made from the `anny` package.

Run once, at build time only (``pip install -e .[build-body]``):

    python tools/build_open_body.py --out resources/body/open_body.npz

What it does, step by step:

1. Samples adult phenotypes of anny (gender, age from young adult up, muscle, weight,
   height, proportions) and takes each one's rest mesh and bone heads.
2. Re-poses each rest mesh from anny's A-pose to a T-pose with anny's own skinning
   weights (upper arm, forearm and hand aligned with the x axis), and turns anny's
   Z-up, facing -Y frame into SMPL's Y-up, facing +Z frame.
3. Mean mesh = v_template (the average adult); PCA over the meshes gives 10 shape
   directions scaled to unit variance (beta 0 signed so that it grows height).
4. SMPL's 24 joints are placed on anny's bone heads; a sparse non-negative joint
   regressor is fitted across all sampled bodies; anny's 104 bone weights are summed
   into the 24 SMPL joints (at most 4 per vertex).
5. anny's COCO keypoint regressor gives COCO-17; extra-joint vertex ids for smplx
   (face, toes, heels, finger tips) are picked on this topology.

Never call anny's SMPL conversion helpers: they download non-commercial data.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import nnls

log = logging.getLogger("build_open_body")

SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
PHENOTYPE_RANGES = {
    "gender": (0.0, 1.0),
    "age": (0.375, 0.875),  # MakeHuman ages, roughly 19 to 70 years
    "muscle": (0.0, 1.0),
    "weight": (0.0, 1.0),
    "height": (0.3, 0.7),
    "proportions": (0.0, 1.0),
}

# SMPL joint -> the anny bone(s) whose head(s) place it (means where several).
JOINT_BONES = {
    0: ["root"], 1: ["upperleg01.L"], 2: ["upperleg01.R"], 3: ["spine04"],
    4: ["lowerleg01.L"], 5: ["lowerleg01.R"], 6: ["spine02"], 7: ["foot.L"], 8: ["foot.R"],
    9: ["spine01"], 10: [f"toe{i}-1.L" for i in range(1, 6)], 11: [f"toe{i}-1.R" for i in range(1, 6)],
    12: ["neck01"], 13: ["clavicle.L"], 14: ["clavicle.R"], 15: ["head"],
    16: ["upperarm01.L"], 17: ["upperarm01.R"], 18: ["lowerarm01.L"], 19: ["lowerarm01.R"],
    20: ["wrist.L"], 21: ["wrist.R"],
    22: [f"finger{i}-1.L" for i in range(2, 6)], 23: [f"finger{i}-1.R" for i in range(2, 6)],
}
# anny bone -> SMPL joint whose rotation moves it; bones not listed follow their parent.
BONE_SEGMENT = {
    "root": 0, "spine05": 0, "pelvis.L": 0, "pelvis.R": 0,
    "upperleg01.L": 1, "upperleg01.R": 2, "spine04": 3, "lowerleg01.L": 4, "lowerleg01.R": 5,
    "spine02": 6, "foot.L": 7, "foot.R": 8, "spine01": 9,
    **{f"toe{i}-1.L": 10 for i in range(1, 6)}, **{f"toe{i}-1.R": 11 for i in range(1, 6)},
    "neck01": 12, "clavicle.L": 13, "clavicle.R": 14, "head": 15,
    "upperarm01.L": 16, "upperarm01.R": 17, "lowerarm01.L": 18, "lowerarm01.R": 19,
    "wrist.L": 20, "wrist.R": 21,
    **{f"metacarpal{i}.L": 22 for i in range(1, 5)}, **{f"metacarpal{i}.R": 23 for i in range(1, 5)},
    "finger1-1.L": 22, "finger1-1.R": 23,
}
# Bones straightened into the T-pose: bone -> (bone whose head it should point at, direction).
T_POSE_ALIGN = {
    "upperarm01.L": ("lowerarm01.L", (1.0, 0.0, 0.0)),
    "lowerarm01.L": ("wrist.L", (1.0, 0.0, 0.0)),
    "wrist.L": ("finger3-1.L", (1.0, 0.0, 0.0)),
    "upperarm01.R": ("lowerarm01.R", (-1.0, 0.0, 0.0)),
    "lowerarm01.R": ("wrist.R", (-1.0, 0.0, 0.0)),
    "wrist.R": ("finger3-1.R", (-1.0, 0.0, 0.0)),
}
# anny (x, y, z) Z-up facing -Y  ->  SMPL (x, z, -y) Y-up facing +Z.
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def sample_phenotypes(labels: list[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, len(labels)) phenotype values; labels outside PHENOTYPE_RANGES stay at 0.5."""
    out = np.full((n, len(labels)), 0.5)
    for i, label in enumerate(labels):
        if label in PHENOTYPE_RANGES:
            lo, hi = PHENOTYPE_RANGES[label]
            out[:, i] = rng.uniform(lo, hi, n)
    return out


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation (3, 3) taking direction a to direction b."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(a @ b)
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3)
    K = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + K + K @ K / (1 + c)


def t_pose_transforms(heads: np.ndarray, labels: list[str], parents: list[int]) -> np.ndarray:
    """World transforms (J, 4, 4) that straighten the arms of one rest body.

    heads: (J, 3) anny bone heads, metres, anny frame.
    """
    index = {name: i for i, name in enumerate(labels)}
    G = np.tile(np.eye(4), (len(labels), 1, 1))
    for b, name in enumerate(labels):
        p = parents[b]
        Gp = G[p] if p >= 0 else np.eye(4)
        if name in T_POSE_ALIGN:
            child, target = T_POSE_ALIGN[name]
            h = Gp[:3, :3] @ heads[b] + Gp[:3, 3]
            d = Gp[:3, :3] @ (heads[index[child]] - heads[b])
            R = rotation_between(d, np.array(target))
            local = np.eye(4)
            local[:3, :3] = R
            local[:3, 3] = h - R @ h
            G[b] = local @ Gp
        else:
            G[b] = Gp
    return G


def skin(vertices: np.ndarray, G: np.ndarray, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Linear blend skinning: vertices (V, 3), G (J, 4, 4), idx/w (V, K) -> (V, 3)."""
    T = (G[idx] * w[..., None, None]).sum(1)
    return np.einsum("vij,vj->vi", T[:, :3, :3], vertices) + T[:, :3, 3]


def bone_segments(labels: list[str], parents: list[int]) -> np.ndarray:
    """(J_anny,) SMPL joint for each anny bone: its own entry or its nearest listed ancestor's."""
    seg = np.zeros(len(labels), dtype=np.int64)
    for b, name in enumerate(labels):
        cur = b
        while labels[cur] not in BONE_SEGMENT:
            cur = parents[cur]
        seg[b] = BONE_SEGMENT[labels[cur]]
    return seg


def fit_joint_regressor(meshes: np.ndarray, joints: np.ndarray, k: int = 400) -> tuple[np.ndarray, float]:
    """Sparse rows, summing to one, regressing joints from meshes.

    Non-negative least squares over the k vertices nearest each joint, across all sampled
    bodies; where a joint lies deep inside the body the nearest vertices can sit on one
    side only, so candidates are taken from both sides of the joint along every axis.

    meshes: (N, V, 3); joints: (N, 24, 3). Returns (24, V) and the worst fit error in mm.
    """
    n, v, _ = meshes.shape
    mean = meshes.mean(0)
    reg = np.zeros((joints.shape[1], v))
    worst = 0.0
    for j in range(joints.shape[1]):
        centre = joints[:, j].mean(0)
        dist = np.linalg.norm(mean - centre, axis=1)
        near = set(np.argsort(dist)[:k].tolist())
        offset = mean - centre
        for axis in range(3):
            for sign in (1.0, -1.0):
                side = np.where(sign * offset[:, axis] > 0.3 * dist)[0]
                near.update(side[np.argsort(dist[side])[: k // 4]].tolist())
        near = np.array(sorted(near))
        A = meshes[:, near, :].transpose(0, 2, 1).reshape(n * 3, len(near))
        b = joints[:, j, :].reshape(n * 3)
        A = np.vstack([A, 100.0 * np.ones((1, len(near)))])
        b = np.concatenate([b, [100.0]])
        w, _ = nnls(A, b, maxiter=20000)
        reg[j, near] = w / w.sum()
        fit = np.einsum("k,nkc->nc", reg[j, near], meshes[:, near])
        err = float(np.linalg.norm(fit - joints[:, j], axis=1).max() * 1000)
        log.debug("joint %d: %d candidates, worst %.1f mm", j, len(near), err)
        worst = max(worst, err)
    return reg, worst


def build(n_samples: int, seed: int) -> dict[str, np.ndarray]:
    import anny

    model = anny.Anny().to(torch.float64)
    labels, parents = list(model.bone_labels), list(model.bone_parents)
    index = {name: i for i, name in enumerate(labels)}
    rng = np.random.default_rng(seed)
    phen = torch.as_tensor(sample_phenotypes(list(model.phenotype_labels), n_samples, rng))
    with torch.no_grad():
        coeffs = model._get_phenotype_blendshape_coefficients(
            phen, torch.zeros(n_samples, 0, dtype=phen.dtype), torch.zeros(n_samples, 0, dtype=phen.dtype)
        )
        rest = model.get_rest_model(coeffs)
    rest_v = rest["rest_vertices"].numpy()
    rest_heads = rest["rest_bone_heads"].numpy()
    idx = model.vertex_bone_indices.numpy()
    w = model.vertex_bone_weights.numpy()

    meshes = np.zeros_like(rest_v)
    joints = np.zeros((n_samples, 24, 3))
    for s in range(n_samples):
        G = t_pose_transforms(rest_heads[s], labels, parents)
        meshes[s] = skin(rest_v[s], G, idx, w) @ ANNY_TO_SMPL.T
        heads = np.einsum("jab,jb->ja", G[:, :3, :3], rest_heads[s]) + G[:, :3, 3]
        # A bone's head sits on its parent's frame: place it with the parent's transform.
        for b, p in enumerate(parents):
            if p >= 0:
                heads[b] = G[p, :3, :3] @ rest_heads[s, b] + G[p, :3, 3]
        heads = heads @ ANNY_TO_SMPL.T
        for j, bones in JOINT_BONES.items():
            joints[s, j] = heads[[index[b] for b in bones]].mean(0)

    v_template = meshes.mean(0)
    X = (meshes - v_template).reshape(n_samples, -1)
    _, sing, vt = np.linalg.svd(X, full_matrices=False)
    std = sing[:10] / np.sqrt(n_samples - 1)
    shapedirs = (vt[:10] * std[:, None]).reshape(10, -1, 3).transpose(1, 2, 0)
    top, bottom = v_template[:, 1].argmax(), v_template[:, 1].argmin()
    if shapedirs[top, 1, 0] - shapedirs[bottom, 1, 0] < 0:
        shapedirs[:, :, 0] *= -1
    explained = float((sing[:10] ** 2).sum() / (sing**2).sum())

    J_regressor, worst_mm = fit_joint_regressor(meshes, joints)
    seg = bone_segments(labels, parents)
    dense = np.zeros((v_template.shape[0], 24))
    np.add.at(dense, (np.repeat(np.arange(idx.shape[0]), idx.shape[1]), seg[idx].ravel()), w.ravel())
    order = np.argsort(-dense, axis=1)[:, 4:]
    np.put_along_axis(dense, order, 0.0, axis=1)
    weights = dense / dense.sum(1, keepdims=True)

    kr = anny.KeypointsRegressor.coco(model)
    kw, ki = kr.regression_weights.numpy(), kr.regression_indices.numpy()
    coco_full = np.zeros((kw.shape[0], v_template.shape[0]))
    for k in range(kw.shape[0]):
        np.add.at(coco_full[k], ki[k], kw[k])
    vertex_ids = {}
    for name, row in zip(("nose", "leye", "reye", "lear", "rear"), range(5)):
        vertex_ids[name] = int(coco_full[row].argmax())
    for name, row in zip(("LBigToe", "RBigToe", "LSmallToe", "RSmallToe", "LHeel", "RHeel"), range(17, 23)):
        vertex_ids[name] = int(coco_full[row].argmax())
    for side, prefix in (("L", "l"), ("R", "r")):
        for finger, tip in zip(range(1, 6), ("thumb", "index", "middle", "ring", "pinky")):
            bone = index[f"finger{finger}-3.{side}"]
            owned = np.where(idx[:, 0] == bone)[0] if (idx[:, 0] == bone).any() else np.where((idx == bone).any(1))[0]
            base = joints[:, 20 if side == "L" else 21].mean(0)
            vertex_ids[f"{prefix}{tip}"] = int(owned[np.linalg.norm(v_template[owned] - base, axis=1).argmax()])

    heights = meshes[:, :, 1].max(1) - meshes[:, :, 1].min(1)
    log.info(
        "%d bodies: height %.2f +- %.2f m (mean body %.2f m); PCA-10 explains %.1f%%; joint fit worst %.1f mm",
        n_samples, heights.mean(), heights.std(), np.ptp(v_template[:, 1]), 100 * explained, worst_mm,
    )
    kintree = np.stack([np.array(SMPL_PARENTS), np.arange(24)]).astype(np.int64)
    faces = model.get_triangular_faces().numpy() if hasattr(model, "get_triangular_faces") else model.faces.numpy()
    return {
        "name": np.array("adhmr-open-body"),
        "v_template": v_template.astype(np.float32),
        "shapedirs": shapedirs.astype(np.float32),
        "posedirs": np.zeros((v_template.shape[0], 3, 207), np.float32),
        "J_regressor": J_regressor.astype(np.float32),
        "kintree_table": kintree,
        "weights": weights.astype(np.float32),
        "f": faces.astype(np.int32),
        "coco_regressor": coco_full[:17].astype(np.float32),
        "vertex_ids_names": np.array(list(vertex_ids.keys())),
        "vertex_ids_values": np.array(list(vertex_ids.values()), dtype=np.int64),
        "shape_std": std.astype(np.float32),
        "heights": heights.astype(np.float32),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources/body/open_body.npz")
    parser.add_argument("--samples", type=int, default=600, help="phenotype samples for the PCA")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arrays = build(args.samples, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(args.out)
    log.info("wrote %s (%.1f MB)", args.out, args.out.stat().st_size / 1e6)


if __name__ == "__main__":
    main()
