"""Reduced-precision inference: bfloat16 autocast where the hardware runs it natively.

Sampling and scoring are matmul-bound; on CPUs with AVX-512 BF16 (or AMX) and on CUDA
GPUs with bf16 support, autocast runs those matmuls in bfloat16. The scorer's rankings
are then almost unchanged and the sampled bodies move by about a millimetre, so
interactive front ends (``adhmr sample``, the app) use ``auto`` while evaluation and
training keep float32 for reproducible numbers.
"""

from __future__ import annotations

import contextlib
import logging

import torch

from engine.errors import ShapeError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16")


def bf16_supported(device: torch.device | str) -> bool:
    """Whether ``device`` runs bfloat16 matmuls natively (not emulated)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """'auto' -> 'bf16' where supported, else 'fp32'; 'fp32' / 'bf16' as given.

    Raises ShapeError for an unknown name.
    """
    if precision not in PRECISIONS:
        raise ShapeError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_supported(device) else "fp32"
    return precision


def inference_precision(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager:
    """A context in which the models' forward passes run at ``precision``.

    Outputs of autocast regions may be bfloat16: callers convert with ``.float()``.
    """
    device = torch.device(device)
    if resolve_precision(precision, device) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
