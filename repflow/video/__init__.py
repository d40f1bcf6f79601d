"""Reading and writing video files."""

from repflow.video.writer import write_video

__all__ = ["write_video"]
