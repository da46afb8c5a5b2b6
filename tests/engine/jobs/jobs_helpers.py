"""Helpers shared by the job tests (a module name no other test folder uses)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from engine import store as st

REPO = Path(__file__).resolve().parents[3]


def image_dataset(
    project: st.Project, n: int, size: int = 4096, name: str = "imgs"
) -> dict[int, str]:
    """A dataset of ``n`` files of random bytes; returns image id -> expected sha256."""
    root = project.path.parent / name
    root.mkdir()
    rng = np.random.default_rng(n)
    expected = {}
    with project.session() as s:
        ds = st.add_dataset(s, name, "folder", name)
        for i in range(n):
            data = rng.bytes(size)
            (root / f"{i:04d}.bin").write_bytes(data)
            expected[st.add_image(s, ds, f"{i:04d}.bin")] = hashlib.sha256(data).hexdigest()
    return expected


def stored_hashes(project: st.Project, name: str = "imgs") -> dict[int, str | None]:
    ds = st.get_dataset(project, name).id
    return {i.id: i.sha256 for i in st.list_images(project, ds)}


def python_child(script: str, *args: str, **popen) -> subprocess.Popen:
    """Start ``script`` (a file beside the tests) in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name(script)), *args], env=env, text=True, **popen
    )
