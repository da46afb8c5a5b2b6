"""Helpers shared by the store tests (a module name no other test folder uses)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import store as st

REPO = Path(__file__).resolve().parents[3]
D = 157  # parameter vector length used throughout (any D works)


@dataclass(frozen=True)
class Filled:
    dataset_id: int
    image_ids: list[int]
    person_ids: list[int]
    run_ids: list[int]
    params: dict[int, np.ndarray]  # run id -> (M, D) float32 as sampled


def fill(db, n_images: int = 3, m: int = 4, seed: int = 0) -> Filled:
    """A dataset of ``n_images`` images with one person each and one run of M candidates
    on the first ``n_images - 1`` persons (the last image stays unsampled)."""
    rng = np.random.default_rng(seed)
    ds = st.add_dataset(db, "demo", "folder", "/data/demo")
    images, persons, runs, params = [], [], [], {}
    for i in range(n_images):
        image = st.add_image(db, ds, f"img_{i:03d}.jpg", width=640, height=480)
        kp = np.concatenate([rng.uniform(0, 400, (17, 2)), rng.uniform(0, 1, (17, 1))], axis=1)
        person = st.add_person(
            db,
            image,
            (10.0 + i, 20.0, 300.0, 460.0),
            kp,
            label_params=rng.normal(size=D),
            label_source="pseudo",
        )
        images.append(image)
        persons.append(person)
        if i < n_images - 1:
            p = rng.normal(size=(m, D)).astype(np.float32)
            run = st.add_sample_run(db, person, p, seed=i, steps=4, scores=rng.uniform(size=m))
            runs.append(run)
            params[run] = p
    return Filled(ds, images, persons, runs, params)


def python_child(script: str, *args: str, **popen) -> subprocess.Popen:
    """Start ``script`` (a file beside the tests) in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name(script)), *args], env=env, text=True, **popen
    )
