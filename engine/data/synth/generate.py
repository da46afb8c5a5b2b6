"""The synthetic dataset job: render N samples of a domain into a SPIN-style folder.

Layout of ``out_dir``::

    images/000000.jpg ...     JPEG, quality 92
    shards/00000.npz ...      per-shard annotation rows, written after the shard's images
    synth.json                the settings the folder was made with
    annotations.npz           the SPIN-style file, written atomically at the end

Every sample draws from its own generator seeded by (seed, domain, index), so the
result does not depend on ``workers``, and a stopped run resumes: shards whose file
exists (with all their images) are skipped.

``annotations.npz`` holds, per row, the SPIN keys ``imgname``, ``center`` (2,) px,
``scale`` (= side of the square around the person's tight box / 200; crops add their own
margin, ``engine.data.crops.DEFAULT_BOX_SCALE``), ``part`` (24, 3) SPIN-24 keypoints px +
confidence as observed in the domain, ``S`` (24, 4) SPIN-24 points in the camera frame
(metres, translation applied) + 1, ``pose`` (72,) camera-oriented axis-angle, ``shape``
(10,), ``has_smpl``, ``label_kind`` ('gt', or 'pseudo' when labels were corrupted),
``camera`` (3,) weak perspective for the square box + ``has_camera``; and the extra keys
``keypoints_coco`` (17, 3) (= ``part`` in COCO order), ``keypoints_coco_gt`` (17, 3)
exact projections + visibility, ``cam_t`` (3,) m, ``focal`` () px, ``principal`` (2,) px,
``bbox`` (4,) tight person box px, ``domain``; with corruption on also ``is_corrupted``,
``corruption_kind``, ``clean_pose`` (72,) and ``clean_shape`` (10,). ``S`` follows the
label: for a corrupted row it is the corrupted body's.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from engine.body.model import resolve_model_path
from engine.data.joint_sets import COCO17_FROM_SPIN24
from engine.data.records import PersonSample
from engine.data.spin_npz import write_spin_npz
from engine.data.synth.corruption import corrupt_labels
from engine.data.synth.domains import DomainConfig, get_domain
from engine.data.synth.keypoints import spin24_points
from engine.data.synth.render import SynthBody, exact, render_sample
from engine.errors import DataError, ImageError, JobCancelled
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

SHARD_SIZE = 32
JPEG_QUALITY = 92
_FORMAT = 1
_ROW_KEYS = ("center", "scale", "part", "S", "pose", "shape", "keypoints_coco", "keypoints_coco_gt",
             "cam_t", "focal", "principal", "camera", "bbox")

_worker_body: SynthBody | None = None


def image_name(index: int) -> str:
    """The image of sample ``index``, relative to the dataset folder."""
    return f"images/{index:06d}.jpg"


def write_jpeg(path: Path, image: np.ndarray) -> None:
    """Write (H, W, 3) uint8 RGB as JPEG (quality 92) through a temporary file."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ImageError(f"{path}: could not encode JPEG")
    tmp = path.with_name(path.name + ".tmp")
    buf.tofile(str(tmp))
    os.replace(tmp, path)


def _shard_path(out: Path, k: int) -> Path:
    return out / "shards" / f"{k:05d}.npz"


def _shard_done(out: Path, k: int, start: int, stop: int) -> bool:
    p = _shard_path(out, k)
    if not p.is_file():
        return False
    try:
        with np.load(p) as z:
            # A shard of a larger earlier run holds more rows; its first ones are the same.
            same = np.array_equal(z["index"][: stop - start], np.arange(start, stop))
    except (OSError, ValueError, KeyError):
        return False
    return same and all((out / image_name(i)).is_file() for i in range(start, stop))


def render_shard(sb: SynthBody, out: Path, cfg: DomainConfig, seed: int, size: int, start: int, stop: int) -> int:
    """Render samples [start, stop), write their images, then the shard's rows; returns the count."""
    rows: dict[str, list[np.ndarray]] = {k: [] for k in _ROW_KEYS}
    for i in range(start, stop):
        sample = render_sample(sb, cfg, seed, i, size)
        write_jpeg(out / image_name(i), sample.image)
        for k in _ROW_KEYS:
            rows[k].append(np.asarray(sample.row[k]))
    path = _shard_path(out, start // SHARD_SIZE)
    tmp = path.with_name(path.name + ".tmp")
    stacked: dict[str, Any] = {k: np.stack(v) for k, v in rows.items()}
    with open(tmp, "wb") as f:
        np.savez(f, index=np.arange(start, stop), **stacked)
    os.replace(tmp, path)
    return stop - start


def _init_worker(body_path: str | None, threads: int) -> None:
    global _worker_body
    # Each worker owns a share of the cores, as torch's own DataLoader workers do.
    torch.set_num_threads(threads)
    _worker_body = SynthBody.load(body_path)


def _worker_shard(args: tuple) -> int:
    out, domain, seed, size, start, stop = args
    assert _worker_body is not None  # set by _init_worker
    return render_shard(_worker_body, Path(out), get_domain(domain), seed, size, start, stop)


def _check_settings(out: Path, settings: dict) -> None:
    path = out / "synth.json"
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = {}
        old = old if isinstance(old, dict) else {}
        if old != settings:
            diff = ", ".join(f"{k}={old.get(k)!r}" for k in settings if old.get(k) != settings[k])
            raise DataError(f"{out}: holds a synthetic set made with other settings ({diff}); use another folder")
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(settings, indent=1))
    os.replace(tmp, path)


def _render_all(sb: SynthBody | None, out: Path, todo: list[tuple[int, int, int]], cfg: DomainConfig, seed: int,
                size: int, workers: int, body_path, done: int, n: int, progress: ProgressFn,
                should_cancel: CancelFn) -> None:
    def report(count: int) -> None:
        progress(ProgressEvent(0.95 * count / n, f"rendered {count}/{n}"))

    if workers <= 1 or len(todo) <= 1:
        for _, start, stop in todo:
            check_cancel(should_cancel)
            assert sb is not None  # loaded whenever there is something to render
            done += render_shard(sb, out, cfg, seed, size, start, stop)
            report(done)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = mp.get_context("spawn")
    tasks = [(str(out), cfg.name, seed, size, start, stop) for _, start, stop in todo]
    pool = ctx.Pool(min(workers, len(todo)), initializer=_init_worker,
                    initargs=(None if body_path is None else str(body_path), threads))
    try:
        results = pool.imap_unordered(_worker_shard, tasks)
        for _ in range(len(tasks)):
            while True:
                check_cancel(should_cancel)
                try:
                    done += results.next(timeout=0.25)
                    break
                except mp.TimeoutError:
                    continue
            report(done)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _label_joints(sb: SynthBody, pose: np.ndarray, betas: np.ndarray, cam_t: np.ndarray,
                  batch: int = 64) -> np.ndarray:
    """(N, 24, 4) SPIN-24 ``S`` of the given labels, camera frame with translation."""
    out = np.zeros((len(pose), 24, 4), np.float32)
    out[:, :, 3] = 1.0
    for s in range(0, len(pose), batch):
        with torch.no_grad():
            body = sb.body64(torch.from_numpy(pose[s:s + batch]).double(), torch.from_numpy(betas[s:s + batch]).double(),
                             rotation_format="axis_angle")
        v, j, kp = (exact(t.numpy()) for t in (body.vertices, body.joints, body.keypoints))
        for b in range(len(v)):
            out[s + b, :, :3] = spin24_points(j[b], kp[b], v[b], sb.top, sb.chin) + cam_t[s + b]
    return out


def _assemble(sb: SynthBody | None, out: Path, n: int, cfg: DomainConfig, seed: int, corrupt_fraction: float) -> Path:
    shards = []
    for k in range(math.ceil(n / SHARD_SIZE)):
        rows = min(n, (k + 1) * SHARD_SIZE) - k * SHARD_SIZE
        with np.load(_shard_path(out, k)) as z:
            shards.append({key: z[key][:rows] for key in _ROW_KEYS})
    cols = {k: np.concatenate([s[k] for s in shards]) for k in _ROW_KEYS}
    extra_cols = {k: cols[k] for k in ("part", "keypoints_coco", "keypoints_coco_gt", "cam_t", "focal",
                                       "principal", "bbox")}
    pose, betas, joints3d = cols["pose"], cols["shape"], cols["S"]
    label_kind = "gt"
    if corrupt_fraction > 0:
        rng = np.random.default_rng([int(seed), zlib.crc32(("corrupt:" + cfg.name).encode())])
        result = corrupt_labels(pose, betas, corrupt_fraction, rng)
        extra_cols.update(is_corrupted=result.mask, corruption_kind=result.kind, clean_pose=pose, clean_shape=betas)
        joints3d = joints3d.copy()
        corrupted = np.flatnonzero(result.mask)
        if len(corrupted):
            assert sb is not None  # loaded when labels are corrupted
            joints3d[corrupted] = _label_joints(sb, result.pose[corrupted], result.betas[corrupted],
                                                cols["cam_t"][corrupted])
        pose, betas, label_kind = result.pose, result.betas, "pseudo"
    coco = list(COCO17_FROM_SPIN24)
    records = []
    for i in range(n):
        c, half = cols["center"][i], float(cols["scale"][i]) * 100.0
        records.append(PersonSample(
            image_path=str(out / image_name(i)),
            box=np.array([c[0] - half, c[1] - half, c[0] + half, c[1] + half]),
            keypoints=cols["part"][i][coco],
            pose=pose[i], betas=betas[i], joints3d=joints3d[i], camera=cols["camera"][i],
            label_kind=label_kind, source=f"synth:{cfg.name}#{i}",
            extra={"domain": np.array(cfg.name), **{k: v[i] for k, v in extra_cols.items()}},
        ))
    target = out / "annotations.npz"
    write_spin_npz(target, records)
    return target


def generate_dataset(
    out_dir: str | Path,
    n: int,
    domain: str,
    seed: int = 0,
    size: int = 256,
    workers: int = 2,
    corrupt_fraction: float = 0.0,
    body_path: str | Path | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> Path:
    """Render ``n`` synthetic samples of ``domain`` ('studio' or 'wild') into ``out_dir``.

    Args:
        out_dir: dataset folder (created; a folder of an earlier run with the same
            domain, seed, size and body resumes, and can grow to a larger ``n``).
        seed: with domain and index, decides every sample.
        size: square image side in pixels.
        workers: processes; 1 renders in this process.
        corrupt_fraction: share of labels replaced with realistic errors (see
            ``corruption``); the images and 2D keypoints stay clean.
        body_path: SMPL-format body model (None: $ADHMR_BODY_MODEL or the open body).

    Returns:
        path of ``annotations.npz``.

    Raises:
        DataError: bad arguments, or ``out_dir`` holds a set made with other settings.
        JobCancelled: ``should_cancel`` returned True; the folder resumes on the next call.
    """
    cfg = get_domain(domain)
    if n < 1 or size < 32 or workers < 1:
        raise DataError(f"synth: need n >= 1, size >= 32 and workers >= 1 (got n={n}, size={size}, workers={workers})")
    if not 0.0 <= corrupt_fraction <= 1.0:
        raise DataError(f"synth: corrupt fraction must be in [0, 1], got {corrupt_fraction}")
    out = Path(out_dir).absolute()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "shards").mkdir(exist_ok=True)
    model = resolve_model_path(body_path)
    body_id = f"{model.name}:{model.stat().st_size}" if model.is_file() else str(model)
    _check_settings(out, {"format": _FORMAT, "domain": cfg.name, "seed": int(seed), "size": int(size),
                          "shard_size": SHARD_SIZE, "body": body_id})
    shards = [(k, k * SHARD_SIZE, min(n, (k + 1) * SHARD_SIZE)) for k in range(math.ceil(n / SHARD_SIZE))]
    todo = [s for s in shards if not _shard_done(out, *s)]
    done = n - sum(stop - start for _, start, stop in todo)
    log.info("synth %s: %d of %d samples to render in %s", cfg.name, n - done, n, out)
    progress(ProgressEvent(0.95 * done / n, f"rendered {done}/{n}"))
    # Loaded here even when workers render, so that a bad model file fails before they start.
    sb = SynthBody.load(body_path) if todo or corrupt_fraction > 0 else None
    try:
        _render_all(sb, out, todo, cfg, seed, size, workers, body_path, done, n, progress, should_cancel)
    except JobCancelled:
        log.info("synth %s: cancelled; %s resumes on the next run", cfg.name, out)
        raise
    check_cancel(should_cancel)
    progress(ProgressEvent(0.95, "writing annotations"))
    path = _assemble(sb, out, n, cfg, seed, corrupt_fraction)
    progress(ProgressEvent(1.0, f"wrote {n} samples"))
    return path
