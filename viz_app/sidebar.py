"""The sidebar: model, clip, frame window, flow layer, channel (with a motion-energy ranking), time step
(with play) and display options. Each function draws its widgets and returns what was chosen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from repflow import flowviz
from repflow.figure import ClipAnalysis
from viz_app import compute
from viz_app.sources import (
    MAX_FRAMES,
    MAX_UPLOAD_MB,
    MIN_FRAMES,
    VIDEO_SUFFIXES,
    ClipWindow,
    ModelFile,
    describe_config,
    default_model_index,
    find_clips,
    find_models,
    models_dir,
    samples_dir,
    store_upload,
)

NORMALISATION_LABELS = {"frame": "per frame", "clip": "per clip (channel over time)", "fixed": "fixed max"}
RANKED_SHOWN = 8


@dataclass(frozen=True)
class Candidate:
    """A model or clip the user asked for, with the name to show; ``load`` errors name it."""

    kind: str  # "upload" or "bundled"
    path: str
    name: str


@dataclass(frozen=True)
class ViewOptions:
    """How flows are drawn; changing any of these re-draws without re-running the network."""

    normalisation: flowviz.Normalisation
    fixed_max: float
    style: flowviz.FlowStyle
    panel_px: int


def apply_pending(key: str) -> None:
    """Move a value queued under ``_next_<key>`` into the widget state ``key`` (widgets can only be set
    before they are drawn, so callbacks and the play loop queue their changes)."""
    pending = f"_next_{key}"
    if pending in st.session_state:
        st.session_state[key] = st.session_state.pop(pending)


def model_candidates() -> list[Candidate]:
    """The uploaded checkpoint (if any) and the chosen bundled one, in that order of preference."""
    st.sidebar.header("Model")
    folder = models_dir()
    files = find_models(folder)
    candidates = []
    upload = st.sidebar.file_uploader(
        "Upload a checkpoint (.pt)", type=["pt", "pth"], key="model_upload", max_upload_size=MAX_UPLOAD_MB,
        help="A repflow checkpoint (a dict with 'model_config' and 'model'), read with torch.load(weights_only=True).",
    )
    if upload is not None:
        try:
            candidates.append(Candidate("upload", str(store_upload(upload.name, upload.getvalue(), kind="models")), upload.name))
        except ValueError as error:
            st.error(f"Checkpoint upload refused: {error}")
    if files:
        labels = {str(path): model_label(path) for path in files}
        paths = list(labels)
        configs = [summary_config(path) for path in files]
        chosen = st.sidebar.selectbox(
            f"Bundled model ({folder})", paths, index=default_model_index(configs), format_func=labels.get, key="model_choice"
        )
        candidates.append(Candidate("bundled", chosen, Path(chosen).name))
    return candidates


def summary_config(path: Path) -> dict | None:
    try:
        return compute.summary_for(ModelFile.of(path)).config
    except Exception:  # an unreadable file is labelled as such in the list, and refused when chosen
        return None


def model_label(path: Path) -> str:
    config = summary_config(path)
    return f"{path.name} — {describe_config(config)}" if config else f"{path.name} — (not a readable repflow checkpoint)"


def clip_candidates() -> list[Candidate]:
    """The uploaded video (if any) and the chosen sample clip, in that order of preference."""
    st.sidebar.header("Clip")
    folder = samples_dir()
    clips = find_clips(folder)
    candidates = []
    upload = st.sidebar.file_uploader(
        "Upload a video", type=[suffix.lstrip(".") for suffix in VIDEO_SUFFIXES], key="clip_upload",
        max_upload_size=MAX_UPLOAD_MB, help=f"Up to {MAX_UPLOAD_MB} MB; long videos are cut to the window chosen below.",
    )
    if upload is not None:
        try:
            candidates.append(Candidate("upload", str(store_upload(upload.name, upload.getvalue(), kind="clips")), upload.name))
        except ValueError as error:
            st.error(f"Video upload refused: {error}")
    if clips:
        chosen = st.sidebar.selectbox(f"Sample clip ({folder})", [str(p) for p in clips], format_func=lambda p: Path(p).name, key="clip_choice")
        candidates.append(Candidate("bundled", chosen, Path(chosen).name))
    return candidates


def window_controls(clip: compute.ClipSource, summary: compute.CheckpointSummary) -> ClipWindow:
    """Frame window and input size; defaults come from the checkpoint's training clip."""
    longest = min(MAX_FRAMES, clip.num_frames)
    st.session_state.setdefault("frames", min(summary.frames, longest))
    st.session_state.setdefault("size", summary.size)
    st.session_state["frames"] = int(np.clip(st.session_state["frames"], MIN_FRAMES, longest))
    frames = st.sidebar.number_input(
        "Frames through the model", MIN_FRAMES, longest, key="frames",
        help=f"At most {MAX_FRAMES}; the clip has {clip.num_frames}.",
    )
    last_start = clip.num_frames - frames
    st.session_state["start"] = int(np.clip(st.session_state.get("start", 0), 0, last_start))
    start = st.sidebar.number_input("First frame", 0, last_start, key="start", disabled=last_start == 0)
    size = st.sidebar.number_input("Input size (pixels)", 32, 448, step=16, key="size", help="Short side resize, centre crop.")
    return ClipWindow(start=int(start), frames=int(frames), size=int(size))


def layer_controls(analysis: ClipAnalysis) -> tuple[str, int, int]:
    """Flow layer, channel (with a one-click ranking by motion energy) and time step (with play)."""
    st.sidebar.header("Flow")
    names = list(analysis.flows)
    if st.session_state.get("layer") not in names:
        st.session_state["layer"] = names[-1]
    layer = st.sidebar.selectbox("Flow layer", names, format_func=analysis.layer_labels.get, key="layer")
    flows = analysis.flows[layer]
    n_channels, n_steps = flows.shape[:2]

    apply_pending("channel")
    st.session_state["channel"] = int(np.clip(st.session_state.get("channel", 0), 0, n_channels - 1))
    channel = st.sidebar.number_input(f"Channel (0–{n_channels - 1})", 0, n_channels - 1, key="channel")
    ranked = flowviz.rank_by_energy(flows)[:RANKED_SHOWN]
    energy = flowviz.motion_energy(flows)
    st.sidebar.caption("Most moving channels (motion energy over the clip):")
    columns = st.sidebar.columns(4)
    for position, index in enumerate(ranked):
        columns[position % 4].button(
            f"{index}", key=f"rank_{position}", on_click=queue, args=("channel", int(index)),
            help=f"channel {index}: energy {energy[index]:.3g}", type="primary" if index == channel else "secondary",
        )

    apply_pending("step")
    apply_pending("play")
    st.session_state["step"] = int(np.clip(st.session_state.get("step", 0), 0, n_steps - 1))
    if n_steps > 1:
        step = st.sidebar.slider("Time step", 0, n_steps - 1, key="step", help=f"{n_steps} flow steps in this layer.")
        left, right = st.sidebar.columns([1, 2])
        left.toggle("▶ Play", key="play", on_change=rewind_if_at_end, args=(n_steps,))
        right.select_slider("Steps per second", [1, 2, 4, 8, 16], value=4, key="play_speed", label_visibility="collapsed")
    else:
        step = 0
        st.sidebar.caption("This layer has a single time step.")
    return layer, int(channel), int(step)


def rewind_if_at_end(n_steps: int) -> None:
    """Callback of "Play": starting at the last step plays from the first."""
    if st.session_state.get("play") and st.session_state.get("step", 0) >= n_steps - 1:
        st.session_state["step"] = 0


def queue(key: str, value) -> None:
    """Callback: set widget ``key`` to ``value`` on the next run."""
    st.session_state[f"_next_{key}"] = value


def view_controls() -> ViewOptions:
    """Normalisation, colouring, arrows, upsampling, overlay, legend and panel size."""
    st.sidebar.header("Display")
    normalisation = st.sidebar.radio(
        "Normalisation", list(NORMALISATION_LABELS), format_func=NORMALISATION_LABELS.get, key="normalisation"
    )
    fixed_max = st.sidebar.number_input(
        "Fixed max (flow magnitude)", min_value=1e-4, value=1.0, format="%.4f", key="fixed_max",
        disabled=normalisation != "fixed", help="Magnitude drawn at full saturation; longer vectors are drawn darker.",
    )
    colouring = st.sidebar.radio(
        "Colouring", ["direction", "magnitude"], key="colouring", horizontal=True,
        format_func={"direction": "direction (colour wheel)", "magnitude": "magnitude heat map"}.get,
    )
    arrows = st.sidebar.checkbox("Arrows (quiver)", key="arrows")
    spacing = st.sidebar.slider("Arrow spacing (px)", 8, 64, 16, step=4, key="arrow_spacing", disabled=not arrows)
    smooth = st.sidebar.checkbox("Smooth upsampling", key="smooth", help="Bilinear instead of nearest (feature-map cells).")
    opacity = st.sidebar.slider("Flow opacity over the frame", 0.0, 1.0, 1.0, step=0.05, key="opacity")
    legend = st.sidebar.checkbox("Colour-wheel legend", value=True, key="legend")
    panel_px = st.sidebar.select_slider("Panel size (px)", [160, 224, 288, 384], value=224, key="panel_px")
    style = flowviz.FlowStyle(
        colouring=colouring, smooth=smooth, arrow_spacing=spacing if arrows else 0, opacity=opacity, legend=legend
    )
    return ViewOptions(normalisation=normalisation, fixed_max=float(fixed_max), style=style, panel_px=int(panel_px))

