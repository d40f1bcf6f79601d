"""Exceptions raised when a video file cannot be read; every message names the file."""

from __future__ import annotations


class VideoError(ValueError):
    """Base class: a video file could not be read as asked. Subclasses ValueError, so the CLI reports it cleanly."""


class VideoNotFoundError(VideoError, FileNotFoundError):
    """The path does not exist or is not a file."""


class NotAVideoError(VideoError):
    """The file exists but holds no video stream (not a media file, or audio only)."""


class UnsupportedCodecError(VideoError):
    """The file has a video stream whose codec no available decoder supports."""


class NoFramesError(VideoError):
    """The video stream exists but not a single frame could be decoded."""


class TooFewFramesError(VideoError):
    """The video has fewer frames than the requested frame indices need."""


class BackendError(VideoError):
    """A backend failed on a file another backend may read, or returned frames of the wrong shape or type
    (e.g. decord 0.6's 4-channel frames for some frame sizes)."""
