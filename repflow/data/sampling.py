"""Which frames make a clip: T frames at a temporal stride, one random clip (training) or K uniform clips (testing)."""

from __future__ import annotations

import numpy as np


def clip_span(num_frames: int, stride: int) -> int:
    """How many source frames a clip of ``num_frames`` at ``stride`` covers."""
    if num_frames < 1 or stride < 1:
        raise ValueError(f"clip length and stride must be >= 1, got {num_frames} and {stride}")
    return (num_frames - 1) * stride + 1


def clip_indices(start: int, clip_len: int, stride: int, video_frames: int) -> np.ndarray:
    """Frame indices ``start, start + stride, ...``; a video shorter than the clip repeats its last frame."""
    indices = start + np.arange(clip_len) * stride
    return np.minimum(indices, video_frames - 1)


def random_clip(video_frames: int, clip_len: int, stride: int, rng: np.random.Generator) -> np.ndarray:
    """One clip starting uniformly at random among the starts that fit in the video."""
    last_start = max(0, video_frames - clip_span(clip_len, stride))
    return clip_indices(int(rng.integers(0, last_start + 1)), clip_len, stride, video_frames)


def uniform_clips(video_frames: int, clip_len: int, stride: int, num_clips: int) -> list[np.ndarray]:
    """``num_clips`` clips whose starts are spread evenly from the first to the last possible start."""
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    last_start = max(0, video_frames - clip_span(clip_len, stride))
    if num_clips == 1:
        starts = [last_start // 2]
    else:
        starts = np.linspace(0, last_start, num_clips).round().astype(int).tolist()
    return [clip_indices(start, clip_len, stride, video_frames) for start in starts]
