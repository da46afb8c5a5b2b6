"""Reduced-precision inference: bfloat16 autocast where the hardware runs it natively.

Sampling and scoring are matmul-bound; on CPUs with AVX-512 BF16, AMX or Arm BF16 and on CUDA
GPUs with bf16 support, autocast runs those matmuls in bfloat16. The scorer's rankings
are then almost unchanged and the sampled bodies move by about a millimetre, so
interactive front ends (``adhmr sample``, the app) use ``auto`` while evaluation and
training keep float32 for reproducible numbers.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

import torch

from engine.errors import ShapeError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16")


# CPU features that execute bfloat16 dot products in hardware: x86 AVX-512 BF16 and AMX,
# Arm's BF16 extension. oneDNN also says "bf16 supported" on plain AVX-512, where it
# emulates them: there bf16 took twice as long as float32 (issue 18), so its word is not used.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo ("flags" on x86, "Features" on Arm);
    empty where there is no such file (then bf16 is never chosen automatically)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def bf16_supported(device: torch.device | str, flags: frozenset[str] | None = None) -> bool:
    """Whether ``device`` runs bfloat16 matmuls natively (not emulated).

    flags: the CPU's feature flags (default: ``cpu_flags()``); tests inject other CPUs'.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        native = bool(NATIVE_BF16_FLAGS & (cpu_flags() if flags is None else flags))
        return native and torch.backends.mkldnn.is_available()
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
