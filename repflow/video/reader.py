"""Read frames from a video file: one interface over two backends (decord by default, PyAV as fallback).

`read_frames` checks every backend's output (shape, dtype, frame count) and, when the backend was picked
automatically, falls back to PyAV if decord fails or returns bad frames, so a caller never gets a black or
malformed clip. Every error is a `repflow.video.VideoError` naming the file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from repflow.video.backends import BACKENDS, VideoInfo
from repflow.video.errors import BackendError, VideoError, VideoNotFoundError

BACKEND_NAMES = ("auto", "decord", "pyav")

log = logging.getLogger(__name__)


def video_info(path: str | Path, *, backend: str = "auto") -> VideoInfo:
    """Frame count, fps, width and height of the video at ``path``."""
    path = _existing_file(path)
    return _with_fallback(path, backend, lambda chosen: chosen.probe(path))


def check_frame_size(path: str | Path, min_size: int, *, info: VideoInfo | None = None) -> VideoInfo:
    """``path``'s `VideoInfo` (``info`` if already known); VideoError naming the file when its frames are smaller
    than ``min_size`` pixels on a side (an upscaled tiny clip has no motion to show: its "flows" are noise)."""
    info = info or video_info(path)
    if min(info.width, info.height) < min_size:
        raise VideoError(
            f"{path}: frames are {info.width}x{info.height} px; this model needs at least {min_size}x{min_size} px "
            "(an upscaled smaller clip has no motion to show)"
        )
    return info


def read_frames(
    path: str | Path,
    indices: Sequence[int] | np.ndarray | None = None,
    *,
    short_side: int | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Decode the frames at ``indices`` (every frame when None) of the video at ``path``.

    Args:
        path: a video file (anything FFmpeg reads: mp4, avi, mkv, webm, ...).
        indices: 0-based frame numbers, in any order, repeats allowed.
        short_side: if given, frames are scaled on read so their shorter side has this many pixels.
        backend: "auto" (decord if installed, PyAV when decord fails), "decord" or "pyav".

    Returns:
        uint8 array (T, H, W, 3) in RGB order; grayscale videos come back as three equal channels.

    Raises:
        VideoNotFoundError, NotAVideoError, UnsupportedCodecError, NoFramesError, TooFewFramesError,
        BackendError (all `VideoError`): the message names the file and what was wrong.
    """
    path = _existing_file(path)
    wanted = None if indices is None else _as_indices(indices)

    def read(chosen) -> np.ndarray:
        return _checked(path, chosen.read(path, wanted, short_side), wanted, short_side, chosen.name)

    return _with_fallback(path, backend, read)


def read_clip(
    path: str | Path,
    choose: Callable[[int], Sequence[int] | np.ndarray],
    *,
    short_side: int | None = None,
    backend: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Open the video once, let ``choose(num_frames)`` pick the frame indices, and decode them.

    Saves the separate `video_info` call a sampler would otherwise need. ``choose`` must be deterministic
    (it is called again if the first backend fails). Returns (frames as in `read_frames`, the indices).
    """
    path = _existing_file(path)
    chosen: list[np.ndarray] = []

    def pick(num_frames: int) -> np.ndarray:
        chosen.append(_as_indices(choose(num_frames)))
        return chosen[-1]

    def read(chosen_backend) -> np.ndarray:
        frames = chosen_backend.read(path, pick, short_side)
        return _checked(path, frames, chosen[-1], short_side, chosen_backend.name)

    frames = _with_fallback(path, backend, read)
    return frames, chosen[-1]


def _with_fallback(path: Path, backend: str, action):
    if backend not in BACKEND_NAMES:
        raise ValueError(f"unknown video backend {backend!r}; choose one of {', '.join(BACKEND_NAMES)}")
    if backend == "auto":
        if BACKENDS["decord"].available():
            try:
                return action(BACKENDS["decord"])
            except BackendError as error:
                log.info("falling back to PyAV: %s", error)
        return action(BACKENDS["pyav"])
    chosen = BACKENDS[backend]
    if not chosen.available():
        raise ValueError(f"video backend {backend!r} is not installed (pip install {backend})")
    try:
        return action(chosen)
    except BackendError:
        BACKENDS["pyav"].read(path, np.array([0]), None)  # raises the specific error (codec, no frames, ...) if any
        raise


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a video file" if path.is_dir() else "does not exist"
        raise VideoNotFoundError(f"{path}: {what}")
    return path


def _as_indices(indices: Sequence[int] | np.ndarray) -> np.ndarray:
    array = np.asarray(indices)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"frame indices must be a non-empty 1-D sequence, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"frame indices must be integers, got {array.dtype}")
    if array.min() < 0:
        raise ValueError(f"frame indices must be >= 0, got {int(array.min())}")
    return array.astype(np.int64)


def _checked(
    path: Path, frames: np.ndarray, indices: np.ndarray | None, short_side: int | None, backend: str
) -> np.ndarray:
    """Reject anything but uint8 (T, H, W, 3) with the asked-for T and short side."""
    ok = frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[-1] == 3
    ok = ok and (indices is None or len(frames) == len(indices))
    ok = ok and (short_side is None or min(frames.shape[1:3]) == short_side)
    if not ok:
        expected_t = "T" if indices is None else str(len(indices))
        raise BackendError(
            f"{path}: {backend} returned frames {frames.dtype} {frames.shape}, expected uint8 ({expected_t}, H, W, 3)"
            + (f" with short side {short_side}" if short_side else "")
        )
    return frames


