"""Multi-process training with PyTorch DDP, set up from ``torchrun``'s environment.

``torchrun --nproc_per_node=K -m engine.cli train-base ...`` sets RANK, WORLD_SIZE and
LOCAL_RANK; without them training runs in one process. Backend: NCCL on CUDA, gloo on
CPU. Only rank 0 writes checkpoints and reports progress.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterator, cast

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler, Sampler

from engine.devices import pick_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """rank, world_size, local_rank of this process; device it computes on; whether
    init_distributed created the process group (and shutdown_distributed should end it)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the process group described by the environment (no-op for one process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local)
    owns = world > 1 and not dist.is_initialized()
    if owns:
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
        log.info("joined process group: rank %d of %d on %s", rank, world, dev)
    return DistInfo(rank, world, local, dev, owns)


def shutdown_distributed(info: DistInfo) -> None:
    """Leave the process group if init_distributed created it."""
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def wait_for_all(info: DistInfo) -> None:
    """Every process waits here until all have arrived (no-op for one process). Called
    when training has finished on every rank and before the group is left: a rank that
    tore down its gloo group while rank 0 was still writing the last checkpoint was
    sometimes aborted ("terminate called without an active exception")."""
    if info.distributed and dist.is_initialized():
        dist.barrier()


def all_reduce_mean(values: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Average scalars over the processes (for logging); every process passes the same keys."""
    if not info.distributed or not values:
        return values
    keys = list(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return {k: float(v) / info.world_size for k, v in zip(keys, t.tolist())}


def any_process(flag: bool, info: DistInfo) -> bool:
    """True on every process when any of them passes True (a cancel request, say)."""
    if not info.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(t)
    return bool(t.item() > 0)


class ResumableSampler(Sampler[int]):
    """A DistributedSampler's shard of an epoch, starting at a given batch.

    Each epoch's order depends only on (seed, epoch), so an interrupted run that resumes
    at (epoch, batch) sees exactly the samples the uninterrupted run would have.
    """

    def __init__(self, size: int, info: DistInfo, batch_size: int, seed: int = 0):
        # The sampler only reads the length of what it shards.
        self.inner: DistributedSampler[int] = DistributedSampler(
            cast("Dataset[int]", range(size)), num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=seed, drop_last=True)
        self.batch_size = batch_size
        self.start_batch = 0

    def set_position(self, epoch: int, start_batch: int = 0) -> None:
        self.inner.set_epoch(epoch)
        self.start_batch = start_batch

    @property
    def batches_per_epoch(self) -> int:
        return len(self.inner) // self.batch_size

    def __iter__(self) -> Iterator[int]:
        indices = list(self.inner)[self.start_batch * self.batch_size : self.batches_per_epoch * self.batch_size]
        return iter(indices)

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.batch_size
