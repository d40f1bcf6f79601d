"""Build the train / validation `ClipDataset`s a `TrainConfig` describes."""

from __future__ import annotations

from repflow.data.datasets import ClipDataset, ClipSpec
from repflow.data.flow_cache import run_flow_cache
from repflow.data.sources import DataSettings, video_list
from repflow.train.config import TrainConfig, config_to_dict


def clip_spec(config: TrainConfig) -> ClipSpec:
    """The clip length, stride and sizes of ``config``."""
    return ClipSpec(num_frames=config.num_frames, stride=config.stride, short_side=config.short_side,
                    crop_size=config.crop_size)


def build_datasets(config: TrainConfig) -> tuple[ClipDataset, ClipDataset | None]:
    """Training set (random clips) and validation set (one centre clip per video), sharing class names."""
    data = DataSettings.from_mapping(config_to_dict(config))
    train_videos = video_list(data, "train")
    val_videos = video_list(data, "val", classes=train_videos.classes)
    if val_videos is not None and val_videos.classes != train_videos.classes:
        raise ValueError(f"validation classes ({len(val_videos.classes)}) differ from training classes "
                         f"({len(train_videos.classes)})")
    common = dict(stream=config.stream, flow_cache=run_flow_cache(config.flow_cache, config.out_dir),
                  backend=config.video_backend)
    train_set = ClipDataset(train_videos, clip_spec(config), train=True, seed=config.seed, flip=config.flip,
                            skip_unreadable=config.skip_unreadable, **common)
    val_set = None
    if val_videos is not None:
        val_set = ClipDataset(val_videos, clip_spec(config), train=False, num_clips=1, num_crops=1, **common)
    return train_set, val_set
