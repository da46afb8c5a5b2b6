"""``adhmr experiment --track real --budget tiny``: the real track end to end.

On Pose2Sim's recording when it is in the user cache (``python -m benchmarks.bench_real``
fetches it), else on a four-camera recording made here: one rendered studio person in
every frame of every camera (whole, so the real detector sees every joint; the views do
not agree geometrically, which the tiny budget's error bound lets through).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.cli import main
from engine.data.load import load_dataset
from engine.experiments.real_report import REAL_HEADING
from engine.multiview.calibration import Camera
from engine.multiview.pose2sim_demo import MEMBERS, default_data_dir, fetch_demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "multiview"))
from synthetic_rig import rig, write_qca  # noqa: E402


def _rendered_recording(folder: Path, frames: int = 81) -> Path:
    """A Demo_SinglePerson-shaped folder: calibration and cam01..cam04.mp4 of 512x512 frames."""
    from engine.data.synth.generate import generate_dataset

    generate_dataset(folder / "render", 1, "studio", seed=5, size=512)
    image = cv2.imread(str(next((folder / "render" / "images").glob("*.jpg"))))
    K = np.array([[450.0, 0, 256], [0, 450.0, 256], [0, 0, 1]])
    cameras = [Camera(c.name, (512, 512), K, np.zeros(5), c.R, c.t) for c in rig()]
    (folder / "calibration").mkdir(parents=True)
    (folder / "videos").mkdir()
    write_qca(folder / MEMBERS[0], cameras)
    for member in MEMBERS[1:]:
        writer = cv2.VideoWriter(str(folder / member), cv2.VideoWriter_fourcc(*"mp4v"), 25, (512, 512))
        for _ in range(frames):
            writer.write(image)
        writer.release()
    return folder


@pytest.fixture
def recording(tmp_path):
    cached = default_data_dir()
    if all((cached / "Pose2Sim/Demo_SinglePerson" / m).is_file() for m in MEMBERS):
        return fetch_demo(cached)
    return _rendered_recording(tmp_path / "recording")


def test_the_tiny_real_track_writes_its_findings_beside_the_synthetic_ones(
        tmp_path, tiny_detector_checkpoints, recording, capsys):
    base, scorer = tiny_detector_checkpoints
    docs = tmp_path / "docs"
    docs.mkdir()
    # What the synthetic track wrote before: the real track must keep it.
    (docs / "findings.json").write_text(json.dumps({"settings": {"budget": "small"}, "finding1": {"verdict": "x"}}))
    (docs / "findings.md").write_text("# ADHMR's findings in miniature (synthetic two-domain benchmark)\n\nkept\n")
    args = ["experiment", "--track", "real", "--budget", "tiny", "--base", str(base), "--scorer", str(scorer),
            "--cache", str(tmp_path / "cache"), "--out", str(docs), "--recording", str(recording)]

    assert main(args) == 0

    out = capsys.readouterr().out
    assert out.count("real: ") == 3 and out.count("reproduced") == 3 and "wrote" in out
    findings = json.loads((docs / "findings.json").read_text())
    assert findings["finding1"] == {"verdict": "x"}  # the synthetic track's, untouched
    real = findings["real"]
    assert real["settings"]["seeds"] == [0, 1, 2] and real["settings"]["detector_inputs"] is True
    data = real["settings"]["data"]
    assert data["pool_people"] == 8 and data["test_views"] == 8  # frames 0, 30 / 60, 80 of four cameras
    select = real["finding1"]["rows"]["Select"]
    assert set(select) == {"MPJPE", "PA-MPJPE"} and len(select["MPJPE"]["values"]) == 3
    assert select["PA-MPJPE"]["max"] <= select["MPJPE"]["max"] + 1e-6 and 0 < select["MPJPE"]["mean"] < 5000
    assert set(real["finding2"]["rows"]) == {f"{m} / {r}" for m in ("base", "DPO", "control (2D reprojection)")
                                            for r in ("Zero-noise", "Select")}
    assert real["finding3"]["kept"] == {"all": 8, "top80": 6, "top60": 5} and real["finding3"]["pseudo_labels"] == 8
    text = (docs / "findings.md").read_text()
    assert text.startswith("# ADHMR's findings in miniature") and "\nkept\n" in text
    assert text.count(REAL_HEADING) == 1 and text.count("| Select |") == 1 and "## 3." in text

    # The people are the detector's, with what a detector-conditioned model reads, and
    # every pair keeps the landmark tokens its candidates were sampled with.
    (folder,) = (tmp_path / "cache").glob("real-pool*")
    pool = load_dataset(folder / "pool" / "annotations.npz").records
    assert all(r.world_landmarks is not None and r.landmark_visibility is not None for r in pool)
    assert all(Path(r.image_path).suffix == ".jpg" and Path(r.image_path).is_file() for r in pool)
    (work,) = (tmp_path / "cache" / "runs").glob("real-tiny-*")
    pairs = [json.loads(line) for line in (work / "seed0" / "pairs.jsonl").read_text().splitlines()]
    assert pairs and all(np.shape(p["landmarks"]) == (33, 6) for p in pairs)
    assert load_dataset(work / "pseudo" / "annotations.npz").records[0].label_kind == "pseudo"

    # Run again: every stage comes from the work folder, none is redone or rewritten.
    stages = {f: f.stat().st_mtime_ns for f in (tmp_path / "cache").rglob("*") if f.is_file()}
    assert main(args) == 0
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "cache").rglob("*") if f.is_file()} == stages


def test_a_setting_no_track_has_is_refused(tmp_path, capsys):
    code = main(["experiment", "--track", "synthetic", "--budget", "tiny", "--set", "pool_stride=3",
                 "--cache", str(tmp_path)])
    assert code == 1
    assert "unknown setting pool_stride" in capsys.readouterr().err
