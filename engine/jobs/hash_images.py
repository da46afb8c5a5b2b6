"""The built-in "hash-images" job: record the sha256 of every image file of a dataset.

Resumable through the project itself: images that already have a hash are skipped, and
hashes are committed in small batches, so a crash loses at most one batch of work.
Missing or unreadable files are logged, counted and left unhashed (a later run retries).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.registry import register_job
from engine.store import get_dataset, image_files, record_image_hashes

KIND = "hash-images"
BATCH_IMAGES = 64
BATCH_S = 1.0
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_images(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: {"dataset": name or id}. Outputs: total, hashed (this attempt), skipped
    (hashed before), missing (files that could not be read)."""
    dataset = get_dataset(ctx.project, params["dataset"])
    total = len(image_files(ctx.project, dataset.id))
    todo = image_files(ctx.project, dataset.id, missing_hash=True)
    skipped = total - len(todo)
    batch: dict[int, str] = {}
    hashed = missing = 0
    last_commit = time.monotonic()
    try:
        for image_id, path in todo:
            ctx.check_cancel()
            try:
                batch[image_id] = sha256_file(path)
                hashed += 1
            except OSError as e:
                missing += 1
                ctx.log(f"image {image_id}: cannot read {path} ({e.strerror})")
            if len(batch) >= BATCH_IMAGES or time.monotonic() - last_commit >= BATCH_S:
                record_image_hashes(ctx.project, batch)
                batch.clear()
                last_commit = time.monotonic()
            done = skipped + hashed + missing
            ctx.progress(done / max(total, 1), f"{done}/{total} images of {dataset.name} hashed")
    finally:
        if batch:
            record_image_hashes(ctx.project, batch)
    return {
        "dataset": dataset.name,
        "total": total,
        "hashed": hashed,
        "skipped": skipped,
        "missing": missing,
    }


register_job(KIND, hash_images, writer=True)
