"""The viewer's expensive work, each piece cached so that it runs once.

* a model is loaded once per source (file path, modification time, size, and how to load it:
  repflow checkpoint, TorchScript, or state dict + architecture) (``st.cache_resource``: shared, never copied);
* the probe points of a model are listed once per (model, frame count, input size);
* the forward pass with flow hooks (and the chosen flow probe) runs once per (model, clip bytes, frame window,
  input size, probe point, probe options) (``st.cache_data``); changing channel, step or a display option
  only re-draws;
* a bundled model's dataset dissection (``repflow.dissect``) is read once per version of its folder;
* the compare page's panels (input frame, flow) are drawn and encoded as PNG once per (analysis, layer, channel,
  step, display options) (:func:`panel_image`, :func:`frame_image`); the explorer's main row is drawn in the
  page (:mod:`viz_app.main_row`);
* classical TV-L1 runs once per pair of input frames (keyed by their content), and once per window for the
  channels' agreement with TV-L1 (on demand; the agreement itself once per analysis and layer); for the TV-L1
  panel, every pair of a shown window is also computed once in a background thread (``clip_classical``), so
  that a step change finds its pair ready (a window too large to keep: the shown pair, in the background too);
  a window's pairs run on every core at once (``TVL1_WORKERS``), at a lower priority (``lower_priority``), so that
  a page being opened or changed meanwhile is not slowed by them.

The cached model is shared by every browser session, and hooks change it while they run, so every hooked
forward pass holds ``MODEL_LOCK``. Checkpoint and state dict files are read only through
:mod:`repflow.checkpoint` (``weights_only=True``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from repflow import flowviz
from repflow.analysis import ClipAnalysis, analyse_clip
from repflow.checkpoint import TrainingClip, shortest_clip
from repflow.dissect import Dissection, bundled_dissection, default_channels, load_dissection
from repflow.probe import ProbeOptions, ProbePoint, list_probe_points
from viz_app.sources import (
    MIN_FRAMES,
    MIN_SIZE,
    ClipWindow,
    ModelSource,
    SourceError,
    class_names,
    file_digest,
    fit_window,
    window_defaults,
)

MODEL_LOCK = threading.Lock()


@dataclass(frozen=True)
class CheckpointSummary:
    """What the sidebar needs to know about a model without building it."""

    config: dict
    frames: int
    size: int
    stride: int
    crop: float
    class_names: list[str]
    min_frames: int = MIN_FRAMES  # the model's shortest clip
    notes: tuple[str, ...] = ()  # training-window values the app's ranges cannot hold, in words


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
    try:
        min_frames = shortest_clip(config)
    except (TypeError, ValueError) as error:
        raise SourceError(f"{path}: its model_config is not a repflow architecture ({error})") from error
    frames, clip_size, stride, crop, notes = window_defaults(TrainingClip.from_payload(payload), min_frames)
    names = class_names(payload, int(config.get("num_classes", 0)))
    return CheckpointSummary(config, frames, clip_size, stride, crop, names, min_frames, notes)


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_model(source: ModelSource, _name: str = ""):
    """The model of ``source``, in eval mode (a changed file has a new mtime and size, so it reloads);
    ``_name`` is the file name errors show (uploads are stored under their digest)."""
    if source.kind == "checkpoint":
        from repflow.checkpoint import load_model as load

        return load(source.file.path, map_location="cpu").eval()
    from viz_app.own_model import load_own_model

    return load_own_model(source, _name or source.file.name, address=server_address())


def server_address() -> str:
    """Where the server listens (Streamlit's ``server.address``; empty: every interface)."""
    return str(st.get_option("server.address") or "")


def summary_for(source: ModelSource) -> CheckpointSummary:
    """A checkpoint's own summary; your own model gets the app's defaults and no class names."""
    if source.kind == "checkpoint":
        file = source.file
        return summarise_checkpoint(file.path, file.mtime_ns, file.size)
    config = dict(source.architecture)
    min_frames = shortest_clip(config) if config else MIN_FRAMES  # a TorchScript model does not say
    frames, size, stride, crop, notes = window_defaults(TrainingClip(), min_frames)
    return CheckpointSummary(config, frames, size, stride, crop, [], min_frames, notes)


@st.cache_resource(show_spinner=False, max_entries=8)
def dissection(folder: str, stamp: int) -> Dissection:
    """A dissection folder read once per version (``stamp``: its summary.json's modification time)."""
    return load_dissection(folder)


@st.cache_data(show_spinner=False, max_entries=16)
def _bundled_dissection_folder(path: str, mtime_ns: int, size: int) -> str | None:
    folder = bundled_dissection(path)
    return str(folder) if folder else None


def dissection_of(source: ModelSource) -> Dissection | None:
    """The dataset dissection shipped beside a bundled checkpoint (``NAME.dissection/``), None for other models or
    when it cannot be read (the explorer then works without it)."""
    if source.kind != "checkpoint":
        return None
    folder = _bundled_dissection_folder(source.file.path, source.file.mtime_ns, source.file.size)
    if folder is None:
        return None
    try:
        return dissection(folder, (Path(folder) / "summary.json").stat().st_mtime_ns)
    except (OSError, ValueError):
        return None


def default_channels_of(source: ModelSource) -> dict[str, int]:
    """Per layer, the default channel of a bundled model (:func:`repflow.dissect.default_channels`, read from its
    dissection's summary); empty for other models."""
    if source.kind != "checkpoint":
        return {}
    return _default_channels(source.file.path, source.file.mtime_ns, source.file.size)


@st.cache_data(show_spinner=False, max_entries=16)
def _default_channels(path: str, mtime_ns: int, size: int) -> dict[str, int]:
    try:
        return default_channels(path)
    except (OSError, ValueError):  # an unreadable dissection: the explorer works without it
        return {}


def flow_layers(source: ModelSource) -> dict[str, str]:
    """Built-in flow layers of the model: name -> label, in forward order (none for a foreign model)."""
    from repflow.inspect import list_flow_layers

    return {info.name: info.label for info in list_flow_layers(load_model(source))}


@st.cache_data(show_spinner="Listing the layers a flow probe can watch…", max_entries=32)
def probe_points(source: ModelSource, frames: int, size: int) -> list[ProbePoint]:
    """Every probe point of the model for a clip of ``frames`` frames at ``size`` (one zero-clip forward pass)."""
    model = load_model(source)
    with MODEL_LOCK:
        return list_probe_points(model, frames=frames, size=size)


@st.cache_data(show_spinner=False, max_entries=256)
def check_clip(path: str, name: str, digest: str) -> ClipSource:
    """Check that ``path`` is a video with enough frames; raises VideoError / SourceError naming ``name``."""
    from repflow.video import check_frame_size

    info = check_frame_size(path, MIN_SIZE)  # as `repflow figure` refuses it: flows of an upscaled 1x1 clip are noise
    fit_window(ClipWindow(), info.num_frames, name)
    return ClipSource(path, name, digest, info.num_frames)


@st.cache_data(show_spinner="Running the model (and the flow probe) on the clip, once per choice…", max_entries=16)
def _analyse(
    source: ModelSource,
    clip_path: str,
    clip_digest: str,
    window: ClipWindow,
    probe: str | None,
    options: ProbeOptions | None,
) -> ClipAnalysis:
    from repflow.video import read_frames

    model = load_model(source)
    video = read_frames(clip_path, window.indices(), short_side=window.short_side)
    with MODEL_LOCK:
        return analyse_clip(
            model, video, size=window.size, short_side=window.short_side, probe=probe, probe_options=options
        )


def analyse(
    source: ModelSource,
    clip: ClipSource,
    window: ClipWindow,
    probe: str | None = None,
    options: ProbeOptions | None = None,
) -> ClipAnalysis:
    """Flows of every flow layer (and of the probe at ``probe``), input frames and class probabilities (cached)."""
    return _analyse(source, clip.path, clip.digest, window, probe, options)


@st.cache_data(show_spinner="Classical TV-L1 optical flow of this step…", max_entries=512)
def classical_flow(pair: np.ndarray) -> np.ndarray:
    """:func:`repflow.figure.pair_tvl1` (OpenCV Dual TV-L1 flow (H, W, 2), in pixels, from the first to the second
    of two frames (2, H, W, 3)), cached by the frames' content, so a different clip, window, resize or crop never
    meets a stale flow."""
    from repflow.figure import pair_tvl1

    return pair_tvl1(pair)


def png(image: np.ndarray) -> bytes:
    """An RGB image (H, W, 3) as PNG bytes (lossless: flow cells keep their exact colours)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def data_uri(png_bytes: bytes) -> str:
    """PNG bytes as a ``data:`` URI, which ``st.image`` puts in the page's message as it is (no HTTP fetch)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode()


def png_uri(image: np.ndarray) -> str:
    """An RGB image (H, W, 3) as a PNG ``data:`` URI."""
    return data_uri(png(image))


@st.cache_data(show_spinner=False, max_entries=1024)
def panel_image(
    key: tuple, layer: str, channel: int, step: int, options: flowviz.PanelOptions, _flows: np.ndarray,
    _frame: np.ndarray,
) -> tuple[bytes, float]:
    """(PNG, scale) of :func:`repflow.flowviz.render_panel` of ``channel`` at ``step`` of ``layer``; ``key``
    identifies the analysis (model, clip, window, probe), so ``_flows`` and ``_frame`` follow from the arguments."""
    image, scale = flowviz.render_panel(_flows, channel, step, options, frame=_frame)
    return png(image), scale


@st.cache_data(show_spinner=False, max_entries=256)
def frame_image(key: tuple, step: int, size: int, _frame: np.ndarray) -> bytes:
    """PNG of the input frame of ``step`` of the analysis ``key``, ``size`` pixels square."""
    return png(flowviz.resize_image(_frame, (size, size)))


TVL1_WORKERS = os.cpu_count() or 1  # a window's TV-L1 pairs computed at once (repflow.classical.tvl1's workers)
BACKGROUND_NICENESS = 10  # added to the niceness of the background TV-L1 thread (and the threads it starts)


def lower_priority() -> None:
    """Make the calling thread, and the threads it starts, yield the CPU to the rest of the server and to the
    browser: its niceness is raised by BACKGROUND_NICENESS (up to 19). Linux only, where niceness is per thread;
    elsewhere the priority is left as it is (there it would apply to the whole process)."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + BACKGROUND_NICENESS))
    except OSError:  # not permitted here (a sandbox): the job runs at the normal priority, which only costs speed
        pass


CLASSICAL_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repflow-classical", initializer=lower_priority)
CLASSICAL_KEPT = 8  # windows whose TV-L1 stays in memory
CLASSICAL_MAX_BYTES = 64 * 2**20  # larger windows get their TV-L1 pair by pair, when shown
_clip_classical: OrderedDict[bytes, Future] = OrderedDict()
_clip_classical_lock = threading.Lock()


def classical_kept(frames: np.ndarray) -> bool:
    """Whether the TV-L1 of the window ``frames`` takes at most CLASSICAL_MAX_BYTES, so is computed whole in the
    background; a larger window's pairs are computed one at a time, when shown."""
    return (len(frames) - 1) * frames.shape[1] * frames.shape[2] * 2 * 4 <= CLASSICAL_MAX_BYTES


def clip_classical(frames: np.ndarray) -> Future:
    """OpenCV TV-L1 (:func:`repflow.classical.tvl1`, the same flow as :func:`classical_flow`) of every consecutive
    pair of ``frames`` (T, H, W, 3), (T - 1, H, W, 2), started once per window (keyed by the frames' content) in a
    background thread, so no page run waits for it; shared by every session, the last CLASSICAL_KEPT windows kept
    (a failed job is started again by the next call). For a window that is not :func:`classical_kept`, ask for one
    pair at a time (``frames[t : t + 2]``)."""
    from repflow.classical import tvl1

    key = hashlib.blake2b(frames.tobytes(), digest_size=16).digest()
    with _clip_classical_lock:
        job = _clip_classical.get(key)
        if job is None or (job.done() and job.exception() is not None):  # a failed job is tried again
            _clip_classical[key] = CLASSICAL_WORKER.submit(tvl1, frames.copy(), workers=TVL1_WORKERS)
            while len(_clip_classical) > CLASSICAL_KEPT:
                _clip_classical.popitem(last=False)
        _clip_classical.move_to_end(key)
        return _clip_classical[key]


def classical_step(frames: np.ndarray, step: int) -> np.ndarray:
    """TV-L1 flow (H, W, 2) of frames ``step`` -> ``step + 1``: from the window's background job when it is done,
    else computed now (and cached) for this pair alone; either way the window's job is started when the window
    is :func:`classical_kept`."""
    if classical_kept(frames):
        job = clip_classical(frames)
        if job.done() and job.exception() is None:
            return job.result()[step]
    return classical_flow(frames[step : step + 2])


MOTION_SIDE = 56  # classical motion per step is measured on frames shrunk to at most this many pixels


@st.cache_data(show_spinner="Classical TV-L1 motion of each step…", max_entries=64)
def classical_motion(frames: np.ndarray) -> np.ndarray:
    """OpenCV TV-L1 flow magnitude (T - 1, h, w) between consecutive frames (T, H, W, 3), in input-crop pixels.

    It ranks steps, so it is measured on frames shrunk to at most MOTION_SIDE pixels with a two-level pyramid
    (about 20 ms a pair on one core instead of 0.1-1 s at full size), its pairs on every core at once."""
    import cv2

    from repflow.classical import tvl1

    scale = min(1.0, MOTION_SIDE / max(frames.shape[1:3]))
    if scale < 1:
        frames = np.stack([cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for f in frames])
    return np.linalg.norm(tvl1(frames, nscales=2, warps=2, workers=TVL1_WORKERS), axis=-1) / scale


@st.cache_data(show_spinner=False, max_entries=16)
def clip_motion(frames: np.ndarray) -> np.ndarray:
    """OpenCV TV-L1 flow magnitude (T - 1, H, W) between consecutive frames at full size, in input pixels
    (:func:`repflow.agreement.tvl1_magnitude`); cached by the frames' content, so every layer shares it."""
    from repflow.agreement import tvl1_magnitude

    return tvl1_magnitude(frames, workers=TVL1_WORKERS)


@st.cache_data(show_spinner=False, max_entries=64)
def channel_agreement(key: tuple, layer: str, _flows: np.ndarray, _frames: np.ndarray) -> np.ndarray:
    """Agreement with TV-L1 (:func:`repflow.agreement.channel_agreement`) of each channel of ``layer``, once per
    analysis ``key`` (model, clip, window, probe) and layer (``_flows`` and ``_frames`` follow from them)."""
    from repflow.agreement import channel_agreement as agreement

    return agreement(_flows, _frames, motion=clip_motion(_frames))


def clip_digest(path: str) -> str:
    """Digest of a clip's bytes, cached by path, modification time and size."""
    stat = Path(path).stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@st.cache_data(show_spinner=False, max_entries=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return file_digest(path)
