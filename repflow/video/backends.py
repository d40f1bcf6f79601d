"""The two decoding backends behind `repflow.video.read_frames`: decord (fast, random access) and PyAV.

Each backend opens the file anew on every call, so nothing is shared between DataLoader workers
(decord readers are not safe to share). Backends raise `VideoError` subclasses; decord's own
exceptions become `BackendError`, which `read_frames` answers by falling back to PyAV.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Union

import cv2
import numpy as np

from repflow.video.errors import (
    BackendError,
    NoFramesError,
    NotAVideoError,
    TooFewFramesError,
    UnsupportedCodecError,
)

# Which frames to read: all (None), these indices, or a function of the frame count returning indices.
Selection = Union[np.ndarray, None, Callable[[int], np.ndarray]]


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds: frame count, frame rate, frame size, and the backend that measured them."""

    num_frames: int
    fps: float
    width: int
    height: int
    backend: str

    @property
    def duration(self) -> float:
        """Length in seconds (0 when the frame rate is unknown)."""
        return self.num_frames / self.fps if self.fps > 0 else 0.0


def scaled_size(height: int, width: int, short_side: int | None) -> tuple[int, int]:
    """(height, width) after scaling so the shorter side is ``short_side``, keeping the aspect ratio."""
    if short_side is None:
        return height, width
    if short_side < 1:
        raise ValueError(f"short_side must be a positive number of pixels, got {short_side}")
    scale = short_side / min(height, width)
    new_height = short_side if height <= width else max(1, round(height * scale))
    new_width = short_side if width < height else max(1, round(width * scale))
    return new_height, new_width


def _check_indices(path: Path, indices: np.ndarray, num_frames: int) -> None:
    if num_frames == 0:
        raise NoFramesError(f"{path}: the video stream has no frames")
    if indices.max() >= num_frames:
        raise TooFewFramesError(
            f"{path}: asked for frame index {int(indices.max())} but the video has only {num_frames} frames"
        )


def _resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = size
    if frames.shape[1:3] == (height, width):
        return frames
    shrinking = height < frames.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.stack([cv2.resize(frame, (width, height), interpolation=interpolation) for frame in frames])


class DecordBackend:
    """Random-access reading with decord (`pip install decord`)."""

    name = "decord"

    @staticmethod
    def available() -> bool:
        """True when decord can be imported."""
        try:
            import decord  # noqa: F401
        except ImportError:
            return False
        return True

    def _open(self, path: Path):
        import decord

        try:
            with native_stderr_silenced():  # decord and FFmpeg print their own C++ error lines for a bad file
                return decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
        except (RuntimeError, decord.DECORDError) as error:
            raise BackendError(f"{path}: decord could not open the file ({_first_line(error)})") from error

    def probe(self, path: Path) -> VideoInfo:
        """Frame count, fps and size of ``path``."""
        reader = self._open(path)
        num_frames = len(reader)
        if num_frames == 0:
            raise NoFramesError(f"{path}: the video stream has no frames")
        height, width = self._decode(path, reader, np.array([0]))[0].shape[:2]
        return VideoInfo(num_frames, float(reader.get_avg_fps()), width, height, self.name)

    def read(self, path: Path, indices: Selection, short_side: int | None) -> np.ndarray:
        """Frames at ``indices`` as uint8 RGB, short side scaled to ``short_side``; the file is opened once."""
        reader = self._open(path)
        if indices is None:
            indices = np.arange(len(reader))
        elif callable(indices):
            indices = indices(len(reader))
        _check_indices(path, indices, len(reader))
        frames = self._decode(path, reader, indices)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise BackendError(f"{path}: decord returned frames of shape {frames.shape}, expected (T, H, W, 3)")
        return _resize(frames, scaled_size(*frames.shape[1:3], short_side))

    @staticmethod
    def _decode(path: Path, reader, indices: np.ndarray) -> np.ndarray:
        import decord

        try:
            with native_stderr_silenced():
                return reader.get_batch(indices.tolist()).asnumpy()
        except (RuntimeError, decord.DECORDError) as error:
            raise BackendError(f"{path}: decord failed to decode frames ({_first_line(error)})") from error


class PyAVBackend:
    """Sequential decoding with PyAV (FFmpeg); slower for clips late in long videos, but reads anything FFmpeg reads."""

    name = "pyav"

    @staticmethod
    def available() -> bool:
        """PyAV is a hard dependency of repflow."""
        return True

    def _open(self, path: Path):
        import av

        try:
            container = av.open(str(path))
        except av.error.FFmpegError as error:
            raise NotAVideoError(f"{path}: not a readable media file ({error.strerror or error})") from error
        if not container.streams.video:
            kinds = ", ".join(stream.type for stream in container.streams) or "none"
            container.close()
            raise NotAVideoError(f"{path}: the file has no video stream (streams found: {kinds})")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            container.close()
            raise UnsupportedCodecError(f"{path}: FFmpeg has no decoder for this file's video codec")
        return container, stream

    def probe(self, path: Path) -> VideoInfo:
        """Frame count (from the header, or by counting packets when the header has none), fps and size."""
        container, stream = self._open(path)
        with container:
            num_frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
            rate = stream.average_rate or stream.guessed_rate
            info = VideoInfo(num_frames, float(rate or 0.0), stream.codec_context.width,
                             stream.codec_context.height, self.name)
        if num_frames == 0:
            raise NoFramesError(f"{path}: the video stream has no frames")
        return info

    def read(self, path: Path, indices: Selection, short_side: int | None) -> np.ndarray:
        """Decode from the start up to the last wanted frame, keeping the frames at ``indices``."""
        import av

        if callable(indices):
            indices = indices(self.probe(path).num_frames)
        container, stream = self._open(path)
        wanted = None if indices is None else set(indices.tolist())
        last = None if indices is None else int(indices.max(initial=-1))
        decoded: dict[int, np.ndarray] = {}
        count = 0
        with container:
            height, width = scaled_size(stream.codec_context.height, stream.codec_context.width, short_side)
            try:
                for frame in container.decode(stream):
                    if wanted is None or count in wanted:
                        decoded[count] = frame.to_ndarray(format="rgb24", width=width, height=height)
                    count += 1
                    if last is not None and count > last:
                        break
            except av.error.FFmpegError as error:
                if count == 0:
                    raise NoFramesError(f"{path}: no frame could be decoded ({error.strerror or error})") from error
        if count == 0:
            raise NoFramesError(f"{path}: the video stream has no decodable frames")
        if indices is None:
            indices = np.arange(count)
        if last is not None and last >= count:
            raise TooFewFramesError(
                f"{path}: asked for frame index {last} but only {count} frames could be decoded"
            )
        return np.stack([decoded[int(i)] for i in indices])


_STDERR_LOCK = threading.Lock()


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native code writes to the process's stderr (file descriptor 2) to /dev/null while the block runs:
    the decoders' own log lines ("video_reader.cc:83: ERROR opening ...") would come before, and repeat, the one
    clear line the caller reports. Python's ``sys.stderr`` object is untouched; one block at a time."""
    sys.stderr.flush()  # what Python already wrote goes out before the descriptor is swapped
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to silence
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(error).__name__


BACKENDS = {"decord": DecordBackend(), "pyav": PyAVBackend()}
