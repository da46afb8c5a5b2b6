"""Checking a device name ("auto", "cpu", "cuda", "cuda:1", ...) before any work starts.

torch's own errors for a bad name or a CUDA-less build are tracebacks from deep inside
the first tensor move (an AssertionError, a RuntimeError listing twenty device types);
this says in one line what is wrong and what would work.
"""

from __future__ import annotations

import torch

from engine.errors import DeviceError

USABLE = "auto, cpu, cuda or cuda:N"


def check_device(name: str | None) -> torch.device:
    """The device ``name`` means on this machine; None or 'auto' = CUDA when available.

    Raises DeviceError for a name torch does not parse, a device type the engine does
    not run on, or a CUDA device this torch build or machine lacks.
    """
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise DeviceError(f"unknown device {name!r} (use {USABLE})") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA device is visible"
            raise DeviceError(f"device {name!r}: {why} (use cpu or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r}: there are only {torch.cuda.device_count()} CUDA devices")
    elif device.type != "cpu":
        raise DeviceError(f"device {name!r}: the engine runs on CPU or CUDA only (use {USABLE})")
    return device


def pick_device(name: str | None = "auto", local_rank: int = 0) -> torch.device:
    """The device to run on: ``check_device(name)``, with a CUDA device that names no
    index ('auto', 'cuda') made this process's GPU (``local_rank`` under torchrun).

    The one device helper of the engine: training, sampling, scoring and evaluation all
    call it. Raises DeviceError as ``check_device``.
    """
    device = check_device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device(f"cuda:{local_rank}")
    return device
