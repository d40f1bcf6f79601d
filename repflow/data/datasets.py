"""`ClipDataset`: a torch Dataset of clips cut from a `VideoList`, for training (one random clip, random crop
and flip) or testing (K uniform clips x 1 or 3 crops per video).

Randomness comes from generators seeded by (seed, epoch, index), so a sample is the same whichever
worker, rank or resumed run loads it. Each item opens its video once (`repflow.video.read_clip`).
Items are dicts: ``label``, ``index``, ``frame_indices`` (the frames read, clip after clip) and ``rgb``
(3, T, S, S) and/or ``flow`` (2, T-1, S, S); in test mode each tensor has a leading views dimension (K * crops).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset

from repflow.data.flow_cache import FlowCache
from repflow.data.sampling import random_clip, uniform_clips
from repflow.data.sources import VideoList
from repflow.data.transforms import (
    View,
    apply_view,
    apply_view_to_flow,
    eval_views,
    normalize,
    normalize_flow,
    random_view,
)
from repflow.video import VideoError, read_clip

STREAMS = ("rgb", "flow", "both")
MAX_SKIPS = 10

log = logging.getLogger(__name__)


def original_message(error: VideoError) -> str:
    """The error's own message, without the traceback a DataLoader worker wraps around it."""
    lines = str(error).strip().splitlines()
    if len(lines) == 1:
        return lines[0]
    last = lines[-1]
    prefix = f"{type(error).__module__}.{type(error).__name__}: "
    return last[len(prefix):] if last.startswith(prefix) else last


@contextmanager
def plain_video_errors() -> Iterator[None]:
    """Inside the block, a `VideoError` raised in a DataLoader worker is raised again with its own one-line
    message, without the worker's traceback that PyTorch wraps around it."""
    try:
        yield
    except VideoError as error:
        raise VideoError(original_message(error)) from None


@dataclass(frozen=True)
class ClipSpec:
    """How clips are cut: ``num_frames`` frames every ``stride`` frames, short side ``short_side``,
    square crops of ``crop_size``."""

    num_frames: int = 16
    stride: int = 1
    short_side: int = 128
    crop_size: int = 112

    def __post_init__(self) -> None:
        if self.num_frames < 2 or self.stride < 1:
            raise ValueError(f"clips need num_frames >= 2 and stride >= 1, got {self.num_frames}, {self.stride}")
        if not 1 <= self.crop_size <= self.short_side:
            raise ValueError(f"crop_size {self.crop_size} must be between 1 and short_side {self.short_side}")


class ClipDataset(Dataset):
    """Clips of the videos in ``videos``.

    Args:
        videos: labelled video files (see `repflow.data.sources`).
        spec: clip length, stride and sizes.
        train: random clip, crop and flip per item if True; ``num_clips`` x ``num_crops`` fixed views if False.
        stream: "rgb", "flow" (TV-L1 flow of the clip) or "both".
        seed: base seed of all randomness; `set_epoch` changes the draw per epoch.
        num_clips, num_crops: views per video in test mode (crops: 1 = centre, 3 = along the long side).
        flip: allow horizontal flips in training.
        flow_cache: where clip flows are kept (None: recompute each time).
        backend: video backend for `repflow.video.read_frames`.
        skip_unreadable: replace a video that fails to decode by the next one in the list (with a warning
            naming the file; the item then carries that video's own label and index) instead of raising.
    """

    def __init__(
        self,
        videos: VideoList,
        spec: ClipSpec,
        *,
        train: bool,
        stream: str = "rgb",
        seed: int = 0,
        num_clips: int = 1,
        num_crops: int = 1,
        flip: bool = True,
        flow_cache: FlowCache | None = None,
        backend: str = "auto",
        skip_unreadable: bool = False,
    ) -> None:
        if stream not in STREAMS:
            raise ValueError(f"stream must be one of {', '.join(STREAMS)}, got {stream!r}")
        self.videos = videos
        self.spec = spec
        self.train = train
        self.stream = stream
        self.seed = seed
        self.num_clips = num_clips
        self.num_crops = num_crops
        self.flip = flip
        self.flow_cache = flow_cache or FlowCache(None)
        self.backend = backend
        self.skip_unreadable = skip_unreadable
        self.epoch = 0

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in label order."""
        return self.videos.classes

    def set_epoch(self, epoch: int) -> None:
        """Draw different random clips/crops in each epoch (same draws for the same epoch and seed)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict:
        if not self.skip_unreadable:
            return self._item(index)
        for attempt in range(MAX_SKIPS + 1):
            candidate = (index + attempt) % len(self)
            try:
                return self._item(candidate)
            except VideoError as error:
                log.warning("skipping unreadable video (its neighbour in the list is used instead): %s", error)
        raise VideoError(f"{MAX_SKIPS + 1} videos in a row from {self.videos.records[index].path} are unreadable")

    def _item(self, index: int) -> dict:
        record = self.videos.records[index]
        spec = self.spec

        def choose(num_frames: int) -> np.ndarray:  # deterministic: may be called again by a fallback backend
            if self.train:
                clip_rng = np.random.default_rng([self.seed, self.epoch, index, 0])
                return random_clip(num_frames, spec.num_frames, spec.stride, clip_rng)
            return np.concatenate(uniform_clips(num_frames, spec.num_frames, spec.stride, self.num_clips))

        frames, indices = read_clip(record.path, choose, short_side=spec.short_side, backend=self.backend)
        height, width = frames.shape[1:3]
        crop_rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        rgb_views, flow_views = [], []
        for start in range(0, len(indices), spec.num_frames):
            clip_frames, clip_indices = (
                frames[start : start + spec.num_frames],
                indices[start : start + spec.num_frames],
            )
            if self.train:
                views = [random_view(height, width, spec.crop_size, crop_rng, flip=self.flip)]
            else:
                views = eval_views(height, width, spec.crop_size, self.num_crops)
            flow = None
            if self.stream != "rgb":
                flow = self.flow_cache.get(record.path, clip_indices, spec.short_side, clip_frames)
            for view in views:
                self._add_view(rgb_views, flow_views, clip_frames, flow, view)
        item = {"label": record.label, "index": index, "frame_indices": torch.as_tensor(indices)}
        if rgb_views:
            item["rgb"] = rgb_views[0] if self.train else torch.stack(rgb_views)
        if flow_views:
            item["flow"] = flow_views[0] if self.train else torch.stack(flow_views)
        return item

    def _add_view(self, rgb_views: list, flow_views: list, frames: np.ndarray, flow: np.ndarray | None,
                  view: View) -> None:
        if self.stream in ("rgb", "both"):
            rgb_views.append(normalize(apply_view(frames, view)))
        if flow is not None:
            flow_views.append(normalize_flow(apply_view_to_flow(flow, view)))
