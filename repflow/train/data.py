"""Build the train / validation `ClipDataset`s a `TrainConfig` describes."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from repflow.data.datasets import ClipDataset, ClipSpec
from repflow.data.flow_cache import FlowCache
from repflow.data.sources import VideoList, load_videos
from repflow.train.config import TrainConfig


def clip_spec(config: TrainConfig) -> ClipSpec:
    """The clip length, stride and sizes of ``config``."""
    return ClipSpec(num_frames=config.num_frames, stride=config.stride, short_side=config.short_side,
                    crop_size=config.crop_size)


def video_list(config: TrainConfig, subset: str, *, classes: Sequence[str] | None = None) -> VideoList | None:
    """The videos of ``subset`` ("train" or "val"); None when the config names no validation data."""
    if subset == "val":
        no_kinetics_val = config.dataset == "kinetics400" and not (Path(config.data_root) / "val").is_dir()
        if no_kinetics_val or (config.dataset in ("folders", "list") and not config.val_data):
            return None
    return load_videos(config.dataset, subset, location=config.train_data if subset == "train" else config.val_data,
                       data_root=config.data_root, split=config.split, splits_dir=config.splits_dir or None,
                       csv_file=(config.train_csv if subset == "train" else config.val_csv) or None, classes=classes)


def flow_cache(config: TrainConfig) -> FlowCache:
    """The on-disk TV-L1 flow cache (only used by stream=flow)."""
    return FlowCache(config.flow_cache or Path(config.out_dir) / "flow_cache")


def build_datasets(config: TrainConfig) -> tuple[ClipDataset, ClipDataset | None]:
    """Training set (random clips) and validation set (one centre clip per video), sharing class names."""
    train_videos = video_list(config, "train")
    val_videos = video_list(config, "val", classes=train_videos.classes)
    if val_videos is not None and val_videos.classes != train_videos.classes:
        raise ValueError(f"validation classes ({len(val_videos.classes)}) differ from training classes "
                         f"({len(train_videos.classes)})")
    common = dict(stream=config.stream, flow_cache=flow_cache(config), backend=config.video_backend)
    train_set = ClipDataset(train_videos, clip_spec(config), train=True, seed=config.seed, flip=config.flip,
                            skip_unreadable=config.skip_unreadable, **common)
    val_set = None
    if val_videos is not None:
        val_set = ClipDataset(val_videos, clip_spec(config), train=False, num_clips=1, num_crops=1, **common)
    return train_set, val_set
