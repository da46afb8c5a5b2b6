"""Reading SMPL-format model files (.npz or .pkl) safely.

An SMPL-format file holds: v_template (V, 3), shapedirs (V, 3, >=10), posedirs
(V, 3, 207) or (V*3, 207), J_regressor (24, V), kintree_table (2, 24), weights (V, 24),
f (F, 3). The bundled open body adds coco_regressor (17, V) and vertex_ids_* entries.

Official SMPL pickles hold chumpy objects; chumpy does not import on numpy 2. The
restricted unpickler below turns each chumpy object into the plain array it wraps, so
those files load without chumpy and without running arbitrary pickled code.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from engine.errors import BodyModelError

REQUIRED_KEYS = ("v_template", "shapedirs", "J_regressor", "kintree_table", "weights", "f")
NUM_JOINTS = 24


class _ChumpyPlaceholder:
    """Stands in for a chumpy object; keeps the array it wrapped."""

    def __setstate__(self, state):
        self.state = state

    def to_array(self) -> np.ndarray:
        state = self.state if isinstance(self.state, dict) else {}
        for key in ("x", "a", "r"):
            if key in state:
                value = state[key]
                return value.to_array() if isinstance(value, _ChumpyPlaceholder) else np.asarray(value)
        raise BodyModelError("a chumpy object in the pickle holds no array")


def _allowed_classes() -> dict[tuple[str, str], object]:
    """The exact (module, name) pairs an SMPL pickle may name, and what each becomes.

    Only what official SMPL files (written by Python 2 with numpy, scipy and chumpy) and
    numpy 2's own pickles need. A prefix rule is not enough: a module such as
    ``numpy.lib._npyio_impl`` imports ``os``, and protocol 4 resolves dotted names, so
    ``(numpy.lib._npyio_impl, os.system)`` would reach a shell.
    """
    import copyreg

    import scipy.sparse

    # numpy's own reducers, found the same way on numpy 1.26 (numpy.core) and 2 (numpy._core).
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("builtins", "slice"): slice,
        ("__builtin__", "slice"): slice,
        ("builtins", "object"): object,
        ("__builtin__", "object"): object,
        # A private copyreg helper that typeshed does not declare; old pickles name it.
        ("copy_reg", "_reconstructor"): getattr(copyreg, "_reconstructor"),
        ("copyreg", "_reconstructor"): getattr(copyreg, "_reconstructor"),
        # Python 2 bytes arrive as latin-1 text re-encoded by _codecs.encode.
        ("_codecs", "encode"): _latin1_encode,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
        allowed[(module, "scalar")] = scalar
    for kind, cls in (("csc", scipy.sparse.csc_matrix), ("csr", scipy.sparse.csr_matrix)):
        for module in (f"scipy.sparse.{kind}", f"scipy.sparse._{kind}", "scipy.sparse"):
            allowed[(module, f"{kind}_matrix")] = cls
    for module, names in _CHUMPY_CLASSES.items():
        for name in names:
            allowed[(module, name)] = _ChumpyPlaceholder
    return allowed


# chumpy classes that SMPL-family pickles hold; each becomes the array it wraps.
_CHUMPY_CLASSES = {
    "chumpy.ch": ("Ch",),
    "chumpy.reordering": ("Select", "Reshape", "transpose", "Concatenate", "Permute", "Ravel"),
    "chumpy.ch_ops": ("add", "subtract", "multiply", "divide", "dot", "negative"),
}


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """What ``_codecs.encode`` does for Python 2 byte strings, limited to that use."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


class _SafeUnpickler(pickle.Unpickler):
    """Resolves exactly the (module, name) pairs in ``_allowed_classes`` and nothing else."""

    _allowed: dict[tuple[str, str], object] | None = None

    def find_class(self, module: str, name: str):
        if _SafeUnpickler._allowed is None:
            _SafeUnpickler._allowed = _allowed_classes()
        found = _SafeUnpickler._allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return found


def _to_plain(value):
    if isinstance(value, _ChumpyPlaceholder):
        return value.to_array()
    if hasattr(value, "toarray") and hasattr(value, "tocsr"):
        return np.asarray(value.toarray())
    return value


def read_model_file(path: str | Path) -> dict[str, np.ndarray]:
    """Read and validate an SMPL-format model file.

    Returns:
        arrays: plain numpy arrays; ``J_regressor`` made dense, ``posedirs`` as
        (V, 3, P), ``f`` as int64.

    Raises:
        BodyModelError: the file is missing, unreadable, or lacks a required array.
    """
    p = Path(path)
    if not p.is_file():
        raise BodyModelError(f"{p}: body model file not found")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
        elif p.suffix == ".pkl":
            with open(p, "rb") as fh:
                raw = _SafeUnpickler(io.BytesIO(fh.read()), encoding="latin1").load()
            if not isinstance(raw, dict):
                raise BodyModelError(f"{p}: the pickle does not hold a dictionary of arrays")
            raw = {k: _to_plain(v) for k, v in raw.items()}
        else:
            raise BodyModelError(f"{p}: unknown body model format {p.suffix!r} (use .npz or .pkl)")
    except BodyModelError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, AttributeError, KeyError, TypeError) as exc:
        raise BodyModelError(f"{p}: not a readable SMPL-format model file ({exc})") from None
    return _validate(p, raw)


def _validate(p: Path, raw: dict) -> dict[str, np.ndarray]:
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise BodyModelError(f"{p}: missing arrays {', '.join(missing)} (not an SMPL-format model)")
    out: dict[str, np.ndarray] = {}
    for key, value in raw.items():
        if isinstance(value, (np.ndarray, list, tuple)) or np.isscalar(value):
            try:
                out[key] = np.asarray(value)
            except ValueError:
                continue
    v = out["v_template"]
    if v.ndim != 2 or v.shape[1] != 3:
        raise BodyModelError(f"{p}: v_template has shape {v.shape}, expected (V, 3)")
    num_v = v.shape[0]
    checks = {
        "shapedirs": lambda a: a.ndim == 3 and a.shape[:2] == (num_v, 3) and a.shape[2] >= 10,
        "J_regressor": lambda a: a.shape == (NUM_JOINTS, num_v),
        "kintree_table": lambda a: a.shape == (2, NUM_JOINTS),
        "weights": lambda a: a.shape == (num_v, NUM_JOINTS),
        "f": lambda a: a.ndim == 2 and a.shape[1] == 3 and a.size > 0,
    }
    for key, ok in checks.items():
        if not ok(out[key]):
            raise BodyModelError(f"{p}: {key} has shape {out[key].shape}, which does not fit {num_v} vertices and 24 joints")
    if "posedirs" in out:
        pd = out["posedirs"]
        if pd.ndim == 2 and pd.shape[0] == num_v * 3:
            pd = pd.reshape(num_v, 3, -1)
        if pd.shape[:2] != (num_v, 3) or pd.shape[2] != (NUM_JOINTS - 1) * 9:
            raise BodyModelError(f"{p}: posedirs has shape {out['posedirs'].shape}, expected ({num_v}, 3, 207)")
        out["posedirs"] = pd
    if "coco_regressor" in out and out["coco_regressor"].shape != (17, num_v):
        raise BodyModelError(f"{p}: coco_regressor has shape {out['coco_regressor'].shape}, expected (17, {num_v})")
    for key in ("v_template", "shapedirs", "J_regressor", "weights"):
        out[key] = out[key].astype(np.float32)
        if not np.isfinite(out[key]).all():
            raise BodyModelError(f"{p}: {key} holds NaN or infinite values")
    out["f"] = out["f"].astype(np.int64)
    if out["f"].min() < 0 or out["f"].max() >= num_v:
        raise BodyModelError(f"{p}: faces index vertices outside 0..{num_v - 1}")
    return out
