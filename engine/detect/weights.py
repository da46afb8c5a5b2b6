"""Finding the BlazePose `.tflite` files that the `mediapipe` wheel carries.

The wheel is installed only as a carrier of weights (``pip install --no-deps``) and is
never imported: importing it pulls jax, opencv-contrib and an old protobuf. The files are
found through the distribution's file list instead.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from ai_edge_litert.interpreter import Interpreter

from engine.errors import DetectorError

INSTALL_HINT = "pip install --no-deps mediapipe==0.10.14"
DETECTOR_FILE = "pose_detection.tflite"
LANDMARK_FILE = "pose_landmark_full.tflite"


@dataclass(frozen=True)
class ModelFiles:
    """Paths of the two BlazePose models."""

    detector: Path
    landmarks: Path


def _from_folder(folder: Path) -> ModelFiles:
    """Look for both files directly in ``folder`` or anywhere below it."""
    found: dict[str, Path] = {}
    if folder.is_dir():
        for name in (DETECTOR_FILE, LANDMARK_FILE):
            direct = folder / name
            hits = [direct] if direct.is_file() else sorted(folder.rglob(name))
            if hits:
                found[name] = hits[0]
    missing = [n for n in (DETECTOR_FILE, LANDMARK_FILE) if n not in found]
    if missing:
        raise DetectorError(
            f"{folder}: pose model weights not found ({', '.join(missing)}); "
            f"install them with `{INSTALL_HINT}` or point model_dir at a folder holding them"
        )
    return ModelFiles(found[DETECTOR_FILE], found[LANDMARK_FILE])


def _from_wheel() -> ModelFiles:
    """Locate the files listed in the installed `mediapipe` distribution."""
    try:
        dist = importlib.metadata.distribution("mediapipe")
    except importlib.metadata.PackageNotFoundError:
        raise DetectorError(
            f"pose model weights not installed: run `{INSTALL_HINT}`"
        ) from None
    found: dict[str, Path] = {}
    for entry in dist.files or ():
        name = Path(str(entry)).name
        if name in (DETECTOR_FILE, LANDMARK_FILE):
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                found[name] = path
    missing = [n for n in (DETECTOR_FILE, LANDMARK_FILE) if n not in found]
    if missing:
        raise DetectorError(
            f"mediapipe {dist.version} lacks {', '.join(missing)}: run `{INSTALL_HINT}`"
        )
    return ModelFiles(found[DETECTOR_FILE], found[LANDMARK_FILE])


def find_model_files(model_dir: str | Path | None = None) -> ModelFiles:
    """Paths of the detector and landmark models.

    Args:
        model_dir: a folder holding ``pose_detection.tflite`` and
            ``pose_landmark_full.tflite`` (searched recursively), or None to use the
            files of the installed ``mediapipe`` wheel.

    Raises:
        DetectorError: the files are missing; the message names the pip command.
    """
    if model_dir is not None:
        return _from_folder(Path(model_dir))
    return _from_wheel()


def open_interpreter(path: Path, num_threads: int) -> Interpreter:
    """A TFLite interpreter for one model file, tensors allocated.

    Raises:
        DetectorError: the file is not a readable TFLite model.
    """
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise DetectorError(f"{path}: not a usable TFLite model ({err})") from None
    return interpreter
