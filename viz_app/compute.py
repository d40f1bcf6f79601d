"""The viewer's expensive work, each piece cached so that it runs once.

* a model is loaded once per checkpoint file version (``st.cache_resource``: shared, never copied);
* the forward pass with flow hooks runs once per (model file, clip bytes, frame window, input size)
  (``st.cache_data``); changing layer, channel, step or a display option only re-draws;
* classical TV-L1 runs once per (clip, window, step).

Checkpoint files are read only through :mod:`repflow.checkpoint` (``weights_only=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from repflow.figure import ClipAnalysis, analyse_clip
from viz_app.sources import ClipWindow, ModelFile, SourceError, class_names, clip_settings, file_digest, fit_window


@dataclass(frozen=True)
class CheckpointSummary:
    """What the sidebar needs to know about a checkpoint without building its model."""

    config: dict
    frames: int
    size: int
    class_names: list[str]


@dataclass(frozen=True)
class ClipSource:
    """A readable clip: its path, the name shown to the user, its bytes' digest and frame count."""

    path: str
    name: str
    digest: str
    num_frames: int


@st.cache_data(show_spinner=False, max_entries=64)
def summarise_checkpoint(path: str, mtime_ns: int, size: int) -> CheckpointSummary:
    """Read a checkpoint's config, clip settings and class names (raises CheckpointError / SourceError)."""
    from repflow.checkpoint import load_checkpoint

    payload = load_checkpoint(path)
    config = payload.get("model_config")
    if not isinstance(config, dict) or "model" not in payload:
        raise SourceError(f"{path}: not a repflow model checkpoint (no 'model_config' and 'model' entries)")
    frames, clip_size = clip_settings(payload)
    return CheckpointSummary(config, frames, clip_size, class_names(payload, int(config.get("num_classes", 0))))


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_model(path: str, mtime_ns: int, size: int):
    """The model of a checkpoint, in eval mode (``mtime_ns`` and ``size`` reload a changed file)."""
    from repflow.checkpoint import load_model as load

    return load(path, map_location="cpu").eval()


def model_for(model_file: ModelFile):
    return load_model(model_file.path, model_file.mtime_ns, model_file.size)


def summary_for(model_file: ModelFile) -> CheckpointSummary:
    return summarise_checkpoint(model_file.path, model_file.mtime_ns, model_file.size)


@st.cache_data(show_spinner=False, max_entries=256)
def probe_clip(path: str, name: str, digest: str) -> ClipSource:
    """Check that ``path`` is a video with enough frames; raises VideoError / SourceError naming ``name``."""
    from repflow.video import video_info

    info = video_info(path)
    fit_window(ClipWindow(), info.num_frames, name)
    return ClipSource(path, name, digest, info.num_frames)


@st.cache_data(show_spinner="Running the model on the clip (once per clip)…", max_entries=16)
def _analyse(
    model_path: str, model_mtime_ns: int, model_size: int, clip_path: str, clip_digest: str, start: int, frames: int, size: int
) -> ClipAnalysis:
    from repflow.video import read_frames

    model = load_model(model_path, model_mtime_ns, model_size)
    video = read_frames(clip_path, list(range(start, start + frames)), short_side=size)
    return analyse_clip(model, video, size=size)


def analyse(model_file: ModelFile, clip: ClipSource, window: ClipWindow) -> ClipAnalysis:
    """Flows of every flow layer, input frames and class probabilities of ``clip`` (cached)."""
    return _analyse(
        model_file.path, model_file.mtime_ns, model_file.size, clip.path, clip.digest, window.start, window.frames, window.size
    )


@st.cache_data(show_spinner="Classical TV-L1 optical flow of this step…", max_entries=512)
def classical_flow(clip_digest: str, start: int, size: int, step: int, _pair: np.ndarray) -> np.ndarray:
    """OpenCV Dual TV-L1 flow (H, W, 2), in pixels, from frame ``start + step`` of the clip to the next
    (``_pair`` holds the two input-crop frames; the other arguments are the cache key)."""
    from repflow.classical import tvl1

    return tvl1(_pair)[0]


def clip_digest(path: str) -> str:
    """Digest of a clip's bytes, cached by path, modification time and size."""
    stat = Path(path).stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@st.cache_data(show_spinner=False, max_entries=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return file_digest(path)
