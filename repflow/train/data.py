"""Build the train / validation `ClipDataset`s a `TrainConfig` describes."""

from __future__ import annotations

import os
import sys

import numpy as np

from repflow.data.datasets import ClipDataset, ClipSpec
from repflow.data.flow_cache import run_flow_cache
from repflow.data.sampling import clip_span
from repflow.data.sources import DataSettings, VideoList, video_list
from repflow.train.config import TrainConfig, config_to_dict
from repflow.video import VideoError, video_info


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
    check_clip_length(train_videos, clip_spec(config), backend=config.video_backend)
    common = dict(stream=config.stream, flow_cache=run_flow_cache(config.flow_cache, config.out_dir),
                  backend=config.video_backend)
    train_set = ClipDataset(train_videos, clip_spec(config), train=True, seed=config.seed, flip=config.flip,
                            skip_unreadable=config.skip_unreadable, **common)
    val_set = None
    if val_videos is not None:
        val_set = ClipDataset(val_videos, clip_spec(config), train=False, num_clips=1, num_crops=1, **common)
    return train_set, val_set


CHECKED_VIDEOS = 16  # videos whose length check_clip_length reads, spread over the list


def check_clip_length(videos: VideoList, spec: ClipSpec, *, backend: str = "auto") -> None:
    """Before training: ValueError when none of (up to ``CHECKED_VIDEOS``, spread over the list) training videos is
    as long as one clip (``num_frames`` at ``stride``: every clip would repeat a video's last frame), and a warning
    line on stderr when some are shorter."""
    span = clip_span(spec.num_frames, spec.stride)
    picked = sorted({round(i) for i in np.linspace(0, len(videos.records) - 1, min(CHECKED_VIDEOS, len(videos)))})
    lengths = []
    for index in picked:
        try:
            lengths.append(video_info(videos.records[index].path, backend=backend).num_frames)
        except VideoError:  # unreadable videos are reported (or skipped) by the dataset itself
            continue
    if not lengths:
        return
    what = f"num_frames {spec.num_frames} at stride {spec.stride} covers {span} frames"
    short = sum(length < span for length in lengths)
    if short == len(lengths):
        raise ValueError(f"{what}, but none of the {len(lengths)} training videos checked is that long (the longest "
                         f"has {max(lengths)}): lower --num-frames or --stride")
    if short and os.environ.get("RANK", "0") == "0":
        print(f"warning: {what}; {short} of the {len(lengths)} training videos checked are shorter (their last frame "
              "is repeated to fill a clip)", file=sys.stderr)
