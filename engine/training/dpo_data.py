"""Batches for DPO fine-tuning: pair crops, and step-addressed batch order.

Which items a step trains on depends only on (seed, step, rank): each epoch is a seeded
permutation, split between the processes, so a run resumed at step k draws exactly the
batches the uninterrupted run would have drawn from step k on.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from engine.data.crops import crop_image, transform_keypoints
from engine.data.dataset import normalise_image
from engine.data.landmark_tokens import landmark_tokens
from engine.errors import DataError
from engine.image_io import load_image
from engine.models.param_layout import Normalizer
from engine.training.pairs import PreferencePair

CROP_CACHE = 2048
"""Pair crops kept in memory per process (pairs of one person share a crop)."""


class StepBatches(Sampler[list[int]]):
    """Index batches of steps [start, stop) for one process of ``world``.

    Epoch e is ``randperm(n)`` seeded by (seed, e); process r takes every world-th item
    of it (the tail that does not fill a batch on every process is dropped).
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1,
                 start: int = 0, stop: int = 0):
        self.per_epoch = n // (batch_size * world)
        if self.per_epoch < 1:
            raise DataError(f"{n} items are fewer than one batch of {batch_size} x {world} processes")
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.start, self.stop = start, stop

    def batch(self, step: int) -> list[int]:
        epoch, b = divmod(step, self.per_epoch)
        perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))
        mine = perm[self.rank :: self.world]
        return mine[b * self.batch_size : (b + 1) * self.batch_size].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            yield self.batch(step)

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


class PairDataset(Dataset):
    """Items of preference pairs as the model reads them.

    Each item: image (3, S, S) normalised crop; keypoints (17, 3) normalised crop
    coordinates + confidence; winner, loser (D,) normalised parameter vectors (the
    model's Normalizer); landmarks (33, 6) the detector's landmark tokens (all zeros,
    'not found', for a pair without them; only a detector-conditioned model reads
    them); index () int64.
    """

    def __init__(self, pairs: Sequence[PreferencePair], crop_size: int, normalizer: Normalizer):
        if not pairs:
            raise DataError("no preference pairs to train on")
        self.pairs = list(pairs)
        self.crop_size = int(crop_size)
        self.mean = torch.as_tensor(np.asarray(normalizer.mean), dtype=torch.float32)
        self.std = torch.as_tensor(np.asarray(normalizer.std), dtype=torch.float32)
        self._cache: OrderedDict[tuple, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.pairs)

    def _crop(self, p: PreferencePair) -> tuple[torch.Tensor, torch.Tensor]:
        key = (p.image, float(p.crop_center[0]), float(p.crop_center[1]), p.crop_size, p.keypoints.tobytes())
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        crop = p.crop(self.crop_size)
        value = (normalise_image(crop_image(load_image(p.image), crop)),
                 torch.from_numpy(transform_keypoints(p.keypoints, crop)))
        self._cache[key] = value
        if len(self._cache) > CROP_CACHE:
            self._cache.popitem(last=False)
        return value

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        p = self.pairs[index]
        image, keypoints = self._crop(p)
        return {
            "image": image,
            "keypoints": keypoints,
            "winner": (torch.from_numpy(p.winner.copy()) - self.mean) / self.std,
            "loser": (torch.from_numpy(p.loser.copy()) - self.mean) / self.std,
            "landmarks": torch.from_numpy(p.landmarks.copy() if p.landmarks is not None
                                          else landmark_tokens(None, None, None)),
            "index": torch.tensor(index, dtype=torch.int64),
        }


def check_pair_images(pairs: Sequence[PreferencePair]) -> None:
    """DataError naming the first pair whose image file is missing (before any training)."""
    import os

    seen: dict[str, bool] = {}
    for i, p in enumerate(pairs):
        if p.image not in seen:
            seen[p.image] = os.path.isfile(p.image)
        if not seen[p.image]:
            raise DataError(f"pair {i}: image not found: {p.image}")
