"""repflow.data.datasets.ClipDataset: shapes, determinism under a seed, test views, flow stream and cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from repflow.data.datasets import ClipDataset, ClipSpec, original_message
from repflow.data.flow_cache import FlowCache
from repflow.data.sources import from_folders
from repflow.data.toy import write_toy_dataset
from repflow.video import NotAVideoError

SPEC = ClipSpec(num_frames=4, stride=2, short_side=36, crop_size=32)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    write_toy_dataset(root, num_classes=2, videos_per_class=2, num_frames=12, height=36, width=48)
    return from_folders(root)


def test_train_item(videos):
    item = ClipDataset(videos, SPEC, train=True)[1]
    assert item["rgb"].shape == (3, 4, 32, 32) and item["rgb"].dtype == torch.float32
    assert item["label"] == videos.records[1].label and item["index"] == 1
    assert "flow" not in item


def test_train_items_are_deterministic_per_seed_and_epoch(videos):
    a, b = ClipDataset(videos, SPEC, train=True, seed=3), ClipDataset(videos, SPEC, train=True, seed=3)
    assert torch.equal(a[2]["rgb"], b[2]["rgb"])
    draws = []
    for epoch in range(6):
        a.set_epoch(epoch)
        draws.append(a[2]["rgb"])
    assert any(not torch.equal(draws[0], d) for d in draws[1:])
    a.set_epoch(0)
    assert torch.equal(a[2]["rgb"], draws[0])


def test_loader_with_workers_matches_in_process(videos):
    dataset = ClipDataset(videos, SPEC, train=True, seed=5)
    direct = torch.stack([dataset[i]["rgb"] for i in range(len(dataset))])
    batch = next(iter(DataLoader(dataset, batch_size=len(dataset), num_workers=2)))
    assert torch.equal(batch["rgb"], direct)


def test_test_mode_views(videos):
    dataset = ClipDataset(videos, SPEC, train=False, num_clips=2, num_crops=3)
    item = dataset[0]
    assert item["rgb"].shape == (6, 3, 4, 32, 32)
    assert torch.equal(item["rgb"], dataset[0]["rgb"])
    assert not torch.equal(item["rgb"][0], item["rgb"][3])  # different clips in time


def test_unreadable_video_raises_naming_it(videos, tmp_path):
    broken = tmp_path / "class_0" / "broken.mp4"
    broken.parent.mkdir()
    broken.write_bytes(b"\0" * 100)
    (tmp_path / "class_1").mkdir()
    dataset = ClipDataset(from_folders(tmp_path), SPEC, train=True)
    with pytest.raises(NotAVideoError, match="broken.mp4"):
        dataset[0]


def test_flow_stream_and_cache(videos, tmp_path):
    cache = FlowCache(tmp_path / "flows")
    dataset = ClipDataset(videos, SPEC, train=False, stream="both", flow_cache=cache)
    item = dataset[0]
    assert item["rgb"].shape == (1, 3, 4, 32, 32)
    assert item["flow"].shape == (1, 2, 3, 32, 32)
    assert float(item["flow"].abs().max()) <= 1.0
    stored = list((tmp_path / "flows").rglob("*.npy"))
    assert len(stored) == 1
    np.save(stored[0], np.full(np.load(stored[0]).shape, 8.0, np.float16))  # a cache hit must be used
    assert torch.allclose(dataset[0]["flow"], torch.full_like(item["flow"], 8.0 / 20.0))


def test_flow_direction_matches_motion(tmp_path):
    """class_0 of a 2-class toy set moves right (+x): its mean TV-L1 flow x must be clearly positive."""
    write_toy_dataset(tmp_path, num_classes=2, videos_per_class=1, num_frames=8, height=36, width=48, speed=2.0)
    dataset = ClipDataset(from_folders(tmp_path), SPEC, train=False, stream="flow")
    right, left = dataset[0]["flow"][0], dataset[1]["flow"][0]
    assert right[0].mean() > 0.05 and left[0].mean() < -0.05
    assert abs(float(right[1].mean())) < 0.05


def test_bad_arguments(videos):
    with pytest.raises(ValueError, match="stream"):
        ClipDataset(videos, SPEC, train=True, stream="depth")
    with pytest.raises(ValueError, match="crop_size"):
        ClipSpec(num_frames=4, short_side=32, crop_size=40)


def _with_broken_video(videos, tmp_path):
    """The toy videos plus an unreadable file in class_0."""
    from repflow.data.sources import VideoList, VideoRecord

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0" * 100)
    return VideoList((VideoRecord(broken, 0), *videos.records), videos.classes)


def test_skip_unreadable_uses_the_next_video_with_its_own_label(videos, tmp_path, caplog):
    dataset = ClipDataset(_with_broken_video(videos, tmp_path), SPEC, train=True, skip_unreadable=True)
    item = dataset[0]
    assert item["index"] == 1 and item["label"] == videos.records[0].label
    assert "broken.mp4" in caplog.text


def test_worker_errors_keep_a_clean_message(videos, tmp_path):
    dataset = ClipDataset(_with_broken_video(videos, tmp_path), SPEC, train=True)
    with pytest.raises(NotAVideoError) as caught:
        next(iter(DataLoader(dataset, batch_size=1, num_workers=1)))
    assert "Traceback" in str(caught.value)  # what DataLoader does to worker errors
    message = original_message(caught.value)
    assert message.startswith(str(tmp_path / "broken.mp4")) and "Traceback" not in message
