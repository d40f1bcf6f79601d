"""Reading and writing video files."""

from repflow.video.backends import VideoInfo, scaled_size
from repflow.video.errors import (
    BackendError,
    NoFramesError,
    NotAVideoError,
    TooFewFramesError,
    UnsupportedCodecError,
    VideoError,
    VideoNotFoundError,
)
from repflow.video.reader import BACKEND_NAMES, check_frame_size, read_clip, read_frames, video_info
from repflow.video.writer import write_video

__all__ = [
    "BACKEND_NAMES",
    "BackendError",
    "NoFramesError",
    "NotAVideoError",
    "TooFewFramesError",
    "UnsupportedCodecError",
    "VideoError",
    "VideoInfo",
    "VideoNotFoundError",
    "check_frame_size",
    "read_clip",
    "read_frames",
    "scaled_size",
    "video_info",
    "write_video",
]
