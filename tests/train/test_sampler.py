"""repflow.train.sampler.ShardedEpochSampler: seeded epochs, disjoint shards, mid-epoch skip."""

from __future__ import annotations

import pytest

from repflow.train.sampler import ShardedEpochSampler


def test_epochs_are_seeded_permutations():
    sampler = ShardedEpochSampler(10, seed=1)
    first = list(sampler)
    assert sorted(first) == list(range(10))
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first == list(ShardedEpochSampler(10, seed=1))


def test_shards_cover_the_epoch_evenly():
    shards = [ShardedEpochSampler(7, rank=r, world_size=3, seed=4) for r in range(3)]
    lists = [list(s) for s in shards]
    assert [len(s) for s in shards] == [3, 3, 3] == [len(x) for x in lists]
    assert set().union(*lists) == set(range(7))


def test_unpadded_shards_are_exact():
    lists = [list(ShardedEpochSampler(7, rank=r, world_size=3, shuffle=False, pad=False)) for r in range(3)]
    assert sorted(sum(lists, [])) == list(range(7))


def test_skip_resumes_mid_epoch():
    sampler = ShardedEpochSampler(9, seed=2)
    sampler.set_epoch(3)
    full = list(sampler)
    sampler.set_epoch(3, skip=4)
    assert list(sampler) == full[4:] and len(sampler) == 5


def test_empty_dataset_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        ShardedEpochSampler(0)
