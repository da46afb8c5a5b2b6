"""Every evaluated view reaches ``evaluate_recording``'s on_view, as the summary counts it."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from engine.detect import PoseDetector
from engine.multiview.calibration import Camera
from engine.multiview.evaluate import view_errors
from engine.multiview.methods import build_methods
from engine.multiview.recording import evaluate_recording

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_rig import rig, write_qca  # noqa: E402


def test_on_view_sees_each_view_with_its_reference(tmp_path):
    from engine.data.synth.generate import generate_dataset

    generate_dataset(tmp_path / "render", 1, "studio", seed=5, size=512)
    image = cv2.imread(str(next((tmp_path / "render" / "images").glob("*.jpg"))))
    K = np.array([[450.0, 0, 256], [0, 450.0, 256], [0, 0, 1]])
    cameras = [Camera(c.name, (512, 512), K, np.zeros(5), c.R, c.t) for c in rig()]
    write_qca(tmp_path / "calib.qca.txt", cameras)
    videos = []
    for cam in cameras:
        videos.append(tmp_path / f"{cam.name}.mp4")
        writer = cv2.VideoWriter(str(videos[-1]), cv2.VideoWriter_fourcc(*"mp4v"), 25, (512, 512))
        for _ in range(2):
            writer.write(image)
        writer.release()
    seen = []

    def on_view(names, hypotheses, reference, scores):
        seen.append((names, hypotheses, reference, scores))

    # The same picture in every camera does not triangulate well: let every frame through.
    result = evaluate_recording(tmp_path / "calib.qca.txt", videos, build_methods(("blazepose_world",)),
                                PoseDetector(), max_error_px=1e9, on_view=on_view)

    summary = result.methods["blazepose_world"]
    assert len(seen) == summary.views == 8
    assert all(n == ("blazepose_world",) and h.shape == (1, 12, 3) and r.shape == (12, 3) and s is None
               for n, h, r, s in seen)
    mean_pa = np.mean([view_errors(h, r)[1][0] for _, h, r, _ in seen])
    assert abs(mean_pa - summary.pa_mpjpe) < 1e-6
