"""A deterministic, resumable sampler that shards each epoch's shuffled order across processes."""

from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import Sampler


class ShardedEpochSampler(Sampler[int]):
    """Epoch ``e`` visits a permutation drawn from (seed, e) (or the natural order when not shuffling),
    padded by wrapping so every rank gets the same count, and split rank::world_size.

    `set_epoch` picks the epoch (as with DistributedSampler) and `skip` drops the first samples of this
    rank's share, so a run resumed mid-epoch sees exactly the samples the interrupted run had left.
    """

    def __init__(self, size: int, *, rank: int = 0, world_size: int = 1, shuffle: bool = True, seed: int = 0,
                 pad: bool = True) -> None:
        if size < 1:
            raise ValueError("cannot sample from an empty dataset")
        self.size, self.rank, self.world_size = size, rank, world_size
        self.shuffle, self.seed, self.pad = shuffle, seed, pad
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, *, skip: int = 0) -> None:
        """Sample epoch ``epoch``, leaving out this rank's first ``skip`` samples."""
        self.epoch, self.start = epoch, skip

    def _shard(self) -> list[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        if self.pad:
            total = -(-self.size // self.world_size) * self.world_size
            order = (order * (total // self.size + 1))[:total]
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self._shard()[self.start :])

    def __len__(self) -> int:
        total = -(-self.size // self.world_size) * self.world_size if self.pad else self.size
        share = len(range(self.rank, total, self.world_size))
        return max(0, share - self.start)
