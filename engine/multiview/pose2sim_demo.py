"""Pose2Sim's four-camera ``Demo_SinglePerson`` recording, fetched on first use.

Pose2Sim (BSD-3-Clause) ships four synchronised, calibrated videos of one person (about
100 frames each, 1088x1920) and their Qualisys calibration inside its wheel. The first
call fetches the wheel with ``pip download --no-deps pose2sim==0.10.49`` into the cache
folder and unzips the five files needed; nothing is committed.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import platformdirs

from engine.errors import DataError

WHEEL = "pose2sim==0.10.49"
DEMO = "Pose2Sim/Demo_SinglePerson"
MEMBERS = ["calibration/Calib.qca.txt"] + [f"videos/cam0{i}.mp4" for i in range(1, 5)]


def default_data_dir() -> Path:
    """The user cache folder the recording is kept in."""
    return Path(platformdirs.user_cache_dir("adhmr-studio")) / "pose2sim"


def fetch_demo(data_dir: Path) -> Path:
    """The Demo_SinglePerson folder under ``data_dir``, downloaded and unzipped if needed.

    Raises DataError when the wheel cannot be downloaded (no network, no pip).
    """
    demo = data_dir / DEMO
    if all((demo / m).is_file() for m in MEMBERS):
        return demo
    data_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(data_dir.glob("pose2sim-0.10.49-*.whl"))
    if not wheels:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", WHEEL, "-d", str(data_dir)],
                              capture_output=True, text=True)
        wheels = sorted(data_dir.glob("pose2sim-0.10.49-*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise DataError(f"{data_dir}: could not download {WHEEL} for the Pose2Sim recording ({last})")
    with zipfile.ZipFile(wheels[0]) as wheel:
        for member in MEMBERS:
            wheel.extract(f"{DEMO}/{member}", data_dir)
    return demo


def demo_files(demo: Path) -> tuple[Path, list[Path]]:
    """(calibration, the four videos) of a fetched demo folder."""
    return demo / MEMBERS[0], [demo / m for m in MEMBERS[1:]]
