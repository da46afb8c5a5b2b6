"""Known cameras around a known body, and a Qualisys file written from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.multiview.calibration import Camera


def look_at(centre, target=(0.0, 0.0, 1.0)) -> np.ndarray:
    """World-to-camera rotation (OpenCV axes) of a camera at ``centre`` looking at
    ``target`` with the world's +z (up) at the top of the image."""
    z = np.asarray(target, float) - np.asarray(centre, float)
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def rig(distortion: float = 0.05) -> tuple[Camera, ...]:
    """Four portrait 1088x1920 cameras about 3 m around the origin, each slightly
    different, with radial and tangential distortion."""
    cams = []
    for i, angle in enumerate(np.radians([30.0, 120.0, 215.0, 300.0])):
        centre = np.array([3.0 * np.cos(angle), 3.0 * np.sin(angle), 1.6 + 0.1 * i])
        R = look_at(centre)
        K = np.array([[1680.0 + 5 * i, 0, 540.0 - 3 * i], [0, 1678.0 + 4 * i, 955.0 + 2 * i], [0, 0, 1]])
        dist = np.array([-distortion, 2.5 * distortion, 0.001, -0.0007, 0.0])
        cams.append(Camera(f"cam{i + 1:02d}", (1088, 1920), K, dist, R, -R @ centre))
    return tuple(cams)


def body_points(rng: np.random.Generator, frames: int = 1) -> np.ndarray:
    """(frames, 12, 3) world metres: a standing person's 12 evaluation joints near the
    origin (z up), jittered per frame."""
    base = np.array([
        [0.18, 0.0, 1.45], [-0.18, 0.0, 1.45], [0.22, 0.05, 1.15], [-0.22, 0.05, 1.15],
        [0.25, 0.1, 0.9], [-0.25, 0.1, 0.9], [0.1, 0.0, 0.95], [-0.1, 0.0, 0.95],
        [0.11, 0.05, 0.5], [-0.11, 0.05, 0.5], [0.12, 0.0, 0.08], [-0.12, 0.0, 0.08],
    ])  # fmt: skip
    return base + rng.normal(scale=0.03, size=(frames, 12, 3))


def _num(value) -> str:
    """A number as its shortest exact decimal text."""
    return repr(float(value))


def write_qca(path: Path, cameras, offsets=None) -> None:
    """A Qualisys calibration of ``cameras``: the inverse of ``read_qca``'s conventions.

    offsets: per camera, the (left, top) of the video window on the sensor (default 0).
    """
    parts = ['<?xml version="1.0"?>\n<calibration type="regular">\n  <cameras>\n']
    for i, cam in enumerate(cameras):
        left, top = offsets[i] if offsets else (0, 0)
        w, h = cam.size
        rows = np.diag([1.0, -1.0, -1.0]) @ cam.R
        centre = cam.centre * 1000.0
        k1, k2, p1, p2, k3 = cam.dist * 64.0
        r = " ".join(f'r{a + 1}{b + 1}="{_num(rows[a, b])}"' for a in range(3) for b in range(3))
        parts.append(
            f'    <camera active="1" serial="{cam.name}" model="none">\n'
            f'      <fov_video left="{left}" top="{top}" right="{left + w - 1}" bottom="{top + h - 1}"/>\n'
            f'      <transform x="{_num(centre[0])}" y="{_num(centre[1])}" z="{_num(centre[2])}" {r}/>\n'
            f'      <intrinsic focalLengthU="{_num(cam.K[0, 0] * 64)}" focalLengthV="{_num(cam.K[1, 1] * 64)}"'
            f' centerPointU="{_num((cam.K[0, 2] + left) * 64)}" centerPointV="{_num((cam.K[1, 2] + top) * 64)}"'
            f' radialDistortion1="{_num(k1)}" radialDistortion2="{_num(k2)}" radialDistortion3="{_num(k3)}"'
            f' tangentalDistortion1="{_num(p1)}" tangentalDistortion2="{_num(p2)}"/>\n'
            "    </camera>\n"
        )
    parts.append("  </cameras>\n</calibration>\n")
    path.write_text("".join(parts))
