"""Calibrated cameras and the Qualisys ``.qca.txt`` calibration format.

A :class:`Camera` is an OpenCV pinhole camera with Brown distortion: a world point X
(metres) goes to the camera frame as ``R @ X + t`` (OpenCV axes: x right, y down, z
forward), then to pixels through ``K`` and the distortion coefficients.

Qualisys writes one ``<camera>`` element per camera (the reading follows Pose2Sim's
``read_qca``, which its Demo_SinglePerson calibration was made with):

* ``fov_video`` left/top/right/bottom: the video's pixel window on the sensor (inclusive),
  so the frame is ``right - left + 1`` by ``bottom - top + 1`` pixels.
* ``intrinsic`` focalLengthU/V and centerPointU/V: in 1/64 pixel on the sensor; the
  principal point is then shifted by the window's left/top offset. Radial (k1, k2, k3)
  and tangential (p1, p2) distortion coefficients are stored times 64 as well.
* ``transform`` x, y, z: the camera centre in the world, millimetres; r11..r33: a matrix
  whose rows are the camera's axes in the world, with Qualisys' camera looking along
  its -z with y up. OpenCV's camera looks along +z with y down, so
  ``R = diag(1, -1, -1) @ [r_ij]`` and ``t = -R @ centre``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.errors import DataError, ShapeError

QCA_SUBPIXELS = 64.0
"""Qualisys stores sensor quantities in 1/64 pixel."""
QUALISYS_TO_OPENCV = np.diag([1.0, -1.0, -1.0])
"""A half turn about x: Qualisys' camera axes (y up, looking along -z) to OpenCV's."""


@dataclass(frozen=True, eq=False)
class Camera:
    """One calibrated camera (arrays are float64).

    name: the camera's label (Qualisys ``serial``). size: (width, height) pixels.
    K: (3, 3) intrinsics, pixels. dist: (5,) OpenCV k1, k2, p1, p2, k3.
    R: (3, 3) world-to-camera rotation (OpenCV axes). t: (3,) metres.
    """

    name: str
    size: tuple[int, int]
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray

    @property
    def centre(self) -> np.ndarray:
        """(3,) the camera's optical centre in the world, metres."""
        return -self.R.T @ self.t

    def projection_matrix(self) -> np.ndarray:
        """(3, 4) ``K [R | t]``: world metres to undistorted pixels (homogeneous)."""
        return self.K @ np.hstack([self.R, self.t[:, None]])

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 3) camera-frame metres."""
        return np.asarray(points, np.float64) @ self.R.T + self.t

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world metres -> (N, 2) distorted pixels, as the video shows them."""
        pts = np.asarray(points, np.float64).reshape(-1, 1, 3)
        rvec = cv2.Rodrigues(self.R)[0]
        px, _ = cv2.projectPoints(pts, rvec, self.t, self.K, self.dist)
        return px.reshape(-1, 2)

    def ray_rotation(self, pixel: np.ndarray) -> np.ndarray:
        """(2,) distorted pixel -> (3, 3) rotation from the axes of a camera looking
        through that pixel (its +z along the pixel's ray, turned the least from this
        camera) to this camera's axes.

        A body estimated in a person's crop is oriented as seen along the crop's ray,
        not along the optical axis: ``R @ X`` turns it into this camera's axes (a few
        degrees for a person off the image centre of a wide-angle view).
        """
        u, v = self.undistort(np.asarray(pixel, np.float64).reshape(1, 2))[0]
        ray = np.linalg.solve(self.K, np.array([u, v, 1.0]))
        ray /= np.linalg.norm(ray)
        axis = np.cross([0.0, 0.0, 1.0], ray)
        sin, cos = np.linalg.norm(axis), ray[2]
        if sin < 1e-12:
            return np.eye(3)
        k = axis / sin
        cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        return np.eye(3) + sin * cross + (1 - cos) * cross @ cross

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 2) distorted pixels -> (N, 2) pixels of the ideal pinhole camera ``K``."""
        pts = np.asarray(pixels, np.float64).reshape(-1, 1, 2)
        if len(pts) == 0:
            return np.zeros((0, 2))
        return cv2.undistortPoints(pts, self.K, self.dist, P=self.K).reshape(-1, 2)


def _float(path: Path, element: ET.Element, name: str) -> float:
    value = element.get(name)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(
            f"{path}: <{element.tag}> attribute {name!r} is {value!r}, expected a number"
        ) from None


def _child(path: Path, camera: ET.Element, tag: str) -> ET.Element:
    child = camera.find(tag)
    if child is None:
        raise DataError(f"{path}: camera {camera.get('serial')!r} has no <{tag}> element")
    return child


def _read_camera(path: Path, element: ET.Element) -> Camera:
    name = element.get("serial") or f"cam{len(element)}"
    fov = _child(path, element, "fov_video")
    left, top = _float(path, fov, "left"), _float(path, fov, "top")
    width = int(round(_float(path, fov, "right") - left + 1))
    height = int(round(_float(path, fov, "bottom") - top + 1))
    intr = _child(path, element, "intrinsic")
    q = {k: _float(path, intr, k) / QCA_SUBPIXELS for k in (
        "focalLengthU", "focalLengthV", "centerPointU", "centerPointV",
        "radialDistortion1", "radialDistortion2", "radialDistortion3",
        "tangentalDistortion1", "tangentalDistortion2",
    )}  # fmt: skip
    K = np.array([
        [q["focalLengthU"], 0.0, q["centerPointU"] - left],
        [0.0, q["focalLengthV"], q["centerPointV"] - top],
        [0.0, 0.0, 1.0],
    ])  # fmt: skip
    dist = np.array([
        q["radialDistortion1"], q["radialDistortion2"],
        q["tangentalDistortion1"], q["tangentalDistortion2"], q["radialDistortion3"],
    ])  # fmt: skip
    tr = _child(path, element, "transform")
    rows = np.array([[_float(path, tr, f"r{i}{j}") for j in (1, 2, 3)] for i in (1, 2, 3)])
    if not np.allclose(rows @ rows.T, np.eye(3), atol=1e-4):
        raise DataError(f"{path}: camera {name!r} has a transform that is not a rotation")
    R = QUALISYS_TO_OPENCV @ rows
    centre = np.array([_float(path, tr, k) for k in ("x", "y", "z")]) / 1000.0
    if width < 2 or height < 2 or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise DataError(f"{path}: camera {name!r} has an empty image or a non-positive focal length")
    return Camera(name, (width, height), K, dist, R, -R @ centre)


def read_qca(path: str | Path) -> tuple[Camera, ...]:
    """The active cameras of a Qualisys calibration, ordered by name.

    Raises:
        DataError: the file is missing, not XML, has no cameras, or a camera lacks a
            field or has a malformed one (the message names the file and the field).
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except OSError as exc:
        raise DataError(f"{path}: cannot read calibration ({exc.strerror or exc})") from None
    except ET.ParseError as exc:
        raise DataError(f"{path}: not a Qualisys calibration (XML error: {exc})") from None
    elements = [c for c in root.iter("camera") if c.get("active", "1") != "0"]
    if not elements:
        raise DataError(f"{path}: no active <camera> elements")
    cameras = [_read_camera(path, e) for e in elements]
    names = [c.name for c in cameras]
    if len(set(names)) != len(names):
        raise DataError(f"{path}: camera names repeat ({', '.join(names)})")
    return tuple(sorted(cameras, key=lambda c: _natural_key(c.name)))


def _natural_key(name: str) -> tuple:
    """Sort 'cam2' before 'cam10'."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name))


def check_frame_size(camera: Camera, width: int, height: int) -> None:
    """Check a video's frame size against a camera's calibrated window.

    A video a few pixels narrower than the calibrated window (encoders round widths to a
    multiple of 16 or crop the padding) keeps the calibration; anything else is an
    error, since the intrinsics would not fit its pixels.

    Raises:
        ShapeError: the frame differs from the calibrated size by more than 1 %.
    """
    cw, ch = camera.size
    if abs(width - cw) > 0.01 * cw or abs(height - ch) > 0.01 * ch:
        raise ShapeError(
            f"camera {camera.name!r}: video frames are {width}x{height}, calibration is {cw}x{ch}"
        )
