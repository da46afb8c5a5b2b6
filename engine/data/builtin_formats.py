"""The formats ADHMR Studio reads and writes itself: SPIN and ProHMR npz, COCO keypoints
JSON (registered in ``engine.data.formats`` on its first use)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.coco_json import read_coco_json, write_coco_json
from engine.data.formats import DatasetFormat, register_format
from engine.data.prohmr_npz import read_prohmr_npz, write_prohmr_npz
from engine.data.spin_npz import read_spin_npz, write_spin_npz
from engine.errors import DataError

# Keys only ProHMR's layout has; an npz with none of them is read as SPIN's.
_PROHMR_KEYS = frozenset({
    "body_pose", "has_body_pose", "betas", "has_betas", "body_keypoints_2d",
    "extra_keypoints_2d", "body_keypoints_3d", "extra_keypoints_3d",
})


def npz_keys(path: str | Path) -> set[str]:
    """The key names of an npz archive.

    Raises:
        DataError: missing file or not a readable npz archive.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        with np.load(p, allow_pickle=False) as z:
            return set(z.files) if isinstance(z, np.lib.npyio.NpzFile) else set()
    # Untrusted bytes: zipfile and numpy raise many types on corrupt archives.
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{p}: not a readable .npz file ({type(exc).__name__})") from None


register_format(DatasetFormat("spin", "SPIN npz", ("*.npz",), read_spin_npz, write_spin_npz,
                              sniff=lambda p: not npz_keys(p) & _PROHMR_KEYS))
register_format(DatasetFormat("prohmr", "ProHMR npz", ("*.npz",), read_prohmr_npz, write_prohmr_npz,
                              sniff=lambda p: bool(npz_keys(p) & _PROHMR_KEYS)))
register_format(DatasetFormat("coco", "COCO keypoints JSON", ("*.json",), read_coco_json, write_coco_json))
