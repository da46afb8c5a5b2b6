"""Arrays as float32 blobs: little-endian IEEE float32 values in C order, no header.

The shape is not stored: each column has a fixed layout (documented where the column is
defined), and a 1-D vector's length is the blob's byte length / 4.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from engine.errors import ShapeError

_DTYPE = np.dtype("<f4")


def array_to_blob(a: ArrayLike, name: str = "array") -> bytes:
    """Encode a real-valued array of any shape as float32 bytes.

    a: numeric array, any shape; values must stay finite after the cast to float32.
    name: what the array is, for the error message.
    Raises ShapeError on non-numeric, complex or non-finite input.
    """
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ShapeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):  # overflow shows up as inf, rejected just below
        out = np.ascontiguousarray(arr, dtype=_DTYPE)
    if not np.isfinite(out).all():
        raise ShapeError(f"{name}: contains NaN or infinite values (or overflows float32)")
    return out.tobytes()


def blob_to_array(b: bytes, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Decode float32 bytes to a writable float32 array.

    shape: the layout to restore; one entry may be -1; None gives a 1-D vector.
    Raises ShapeError when the byte count does not fit the shape.
    """
    if len(b) % _DTYPE.itemsize:
        raise ShapeError(f"blob of {len(b)} bytes is not a whole number of float32 values")
    flat = np.frombuffer(b, dtype=_DTYPE).astype(np.float32)
    if shape is None:
        return flat
    try:
        return flat.reshape(shape)
    except ValueError:
        raise ShapeError(f"blob of {flat.size} float32 values does not fit shape {shape}") from None
