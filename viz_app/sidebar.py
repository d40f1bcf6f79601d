"""The sidebar: model (a repflow checkpoint or your own model), clip, frame window, flow layer or probe point
(with the probe's settings), channel ranking (motion energy or agreement with TV-L1), channel, time step (with
play) and display options. Each function draws its widgets and returns what was chosen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from repflow import flowviz
from repflow.agreement import counted_steps
from repflow.analysis import PROBE_PREFIX, ClipAnalysis, probe_key
from repflow.checkpoint import ARCHITECTURE_CHOICES, default_architecture
from repflow.inspect import FLOW_KIND_LABELS
from repflow.probe import FEATURE_N_ITER, INPUT, INPUT_N_ITER, REDUCTIONS, ProbeOptions, ProbePoint
from viz_app import compute
from viz_app.ranking import RANKING_HELP, RANKINGS, Ranking
from viz_app.sources import (
    MAX_FRAMES,
    MAX_SIZE,
    MAX_STRIDE,
    MAX_UPLOAD_MB,
    MIN_FRAMES,
    MIN_SIZE,
    VIDEO_SUFFIXES,
    ClipWindow,
    ModelFile,
    ModelSource,
    cached_upload,
    default_clip_index,
    default_model_index,
    describe_config,
    escape_markdown,
    find_clips,
    find_models,
    models_dir,
    samples_dir,
    store_upload,
)

NORMALISATION_LABELS = {
    "clip": "per channel over the clip (robust max)", "frame": "per frame (amounts not comparable)", "fixed": "fixed",
}
RANKED_SHOWN = 8
COLOURINGS = ("direction", "magnitude")
PANEL_SIZES = (160, 224, 288, 384)
# The labels of the controls the explorer's main row follows in the page (viz_app.main_row); the channel box's
# label goes on with its range, "Channel (0–15)".
CONTROL_LABELS = {
    "channel": "Channel (", "step": "Time step", "layer": "Flow layer or probe point", "normalisation": "Colour scale",
    "fixed_max": f"Fixed scale ({flowviz.FLOW_UNITS_SHORT})", "colouring": "Colouring", "arrows": "Arrows (quiver)",
    "arrow_spacing": "Arrow spacing (px)", "smooth": "Smooth upsampling", "opacity": "Flow opacity over the frame",
    "legend": "Colour-wheel legend", "panel_px": "Panel size (px)",
}
MODEL_SOURCES = {"checkpoint": "repflow checkpoint", "own": "your own model"}
OWN_FORMATS = {"torchscript": "TorchScript file", "state_dict": "state dict + architecture"}
REDUCTION_LABELS = {"energy": "most moving channels", "pca": "principal components", "none": "first channels"}


@dataclass(frozen=True)
class Candidate:
    """A model or clip the user asked for, with the name to show; ``load`` errors name it."""

    kind: str  # "upload" or "bundled"
    path: str
    name: str
    loader: str = "checkpoint"  # how to load it: a ModelSource kind
    architecture: tuple[tuple[str, object], ...] = ()  # for loader "state_dict"


def initial(key: str, default, *, reset: bool = False, fit=None) -> dict:
    """Give widget ``key`` its value for this run; returns the keyword arguments to draw it with.

    The first time the widget is drawn in a session, ``default`` goes to it as its own default
    (``{"value": default}``) and nothing is written: a page that reconnects after a server restart starts a new
    session and sends the values its widgets show, which the script cannot read before drawing them, and
    writing the state would overwrite them (the user's first action after a restart was lost). Afterwards the
    widget state is written when it changes (and ``{}`` returned): a value queued under ``_next_<key>``, else
    ``default`` if ``reset``, else its current value passed through ``fit`` (e.g. clipped to the widget's range).
    An unchanged value is not written: Streamlit sends a written value back to the page, where it would overwrite
    a change the user made meanwhile (a step key pressed while the previous one's run was still on)."""
    if key not in st.session_state:
        return {"value": default}
    pending = f"_next_{key}"
    if pending in st.session_state:
        value = st.session_state.pop(pending)
    else:
        value = default if reset else st.session_state[key]
    value = fit(value) if fit else value
    if value != st.session_state[key]:
        st.session_state[key] = value
    return {}


def clipped(low: int, high: int):
    """A ``fit`` for ``initial``: the int nearest to the value in [low, high]."""
    return lambda value: int(np.clip(value, low, high))


def model_candidates() -> list[Candidate]:
    """The uploaded model (a repflow checkpoint or your own model, if any) and the chosen bundled one, in that
    order of preference."""
    st.sidebar.header("Model")
    files = find_models(models_dir())
    source = st.sidebar.radio(
        "Model source", list(MODEL_SOURCES), format_func=MODEL_SOURCES.get, key="model_source", horizontal=True
    )
    candidates = [] if source == "checkpoint" else own_model_candidates()
    upload = None
    if source == "checkpoint":
        upload = st.sidebar.file_uploader(
            "Upload a checkpoint (.pt)",
            type=["pt", "pth"],
            key="model_upload",
            max_upload_size=MAX_UPLOAD_MB,
            help="A repflow checkpoint (a dict with 'model_config' and 'model'), "
            "read with torch.load(weights_only=True).",
        )
    if upload is not None:
        try:
            candidates.append(
                Candidate("upload", str(store_upload(upload.name, upload.getvalue(), kind="models")), upload.name)
            )
        except ValueError as error:
            candidates += refused_upload("Checkpoint", upload.name, error, "model")
    if files:
        paths = [str(path) for path in files]
        chosen = st.sidebar.selectbox(
            "Bundled model",
            paths,
            index=default_model_index([path.name for path in files], lambda: [summary_config(path) for path in files]),
            format_func=lambda p: Path(p).name,
            key="model_choice",
            help="The checkpoints in the app's models folder (REPFLOW_MODELS_DIR overrides it).",
        )
        candidates.append(Candidate("bundled", chosen, Path(chosen).name))
    return candidates


def refused_upload(what: str, name: str, error: Exception, kind: str) -> list[Candidate]:
    """Say why the upload ``name`` of ``kind`` ("model" or "clip") was refused; returns the upload shown before it,
    if any, which stays on screen (a refused file is no reason to fall back to a bundled one)."""
    st.error(f"{what} upload refused: {str(error).replace(name, escape_markdown(name))}")
    previous = st.session_state.get(f"good_{kind}_upload")
    return [previous] if previous is not None else []


def own_model_candidates() -> list[Candidate]:
    """Your own model: a TorchScript file, or a state dict with the repflow architecture it fits."""
    fmt = st.sidebar.radio("Format", list(OWN_FORMATS), format_func=OWN_FORMATS.get, key="own_format", horizontal=True)
    architecture: tuple[tuple[str, object], ...] = ()
    if fmt == "torchscript":
        from viz_app.own_model import torchscript_refusal

        if refusal := torchscript_refusal(compute.server_address()):
            st.sidebar.info(refusal)
            return []
        st.sidebar.warning("A TorchScript file runs the model's own code: load only files you trust.", icon="⚠️")
        label, help_text = "Upload a TorchScript file", "Written by torch.jit.save of a scripted or traced model."
    else:
        architecture = architecture_controls()
        label = "Upload a state dict"
        help_text = (
            "Parameter name -> tensor (or a dict holding one under 'model' / 'state_dict'), "
            "read with torch.load(weights_only=True)."
        )
    upload = st.sidebar.file_uploader(
        label, type=["pt", "pth", "ts"], key="own_upload", max_upload_size=MAX_UPLOAD_MB, help=help_text
    )
    if upload is None:
        st.sidebar.caption("Until you upload a file, the bundled model below is shown.")
        return []
    try:
        path = store_upload(upload.name, upload.getvalue(), kind="models")
    except ValueError as error:
        return refused_upload("Model", upload.name, error, "model")
    return [Candidate("upload", str(path), upload.name, loader=fmt, architecture=architecture)]


def architecture_controls() -> tuple[tuple[str, object], ...]:
    """The repflow architecture a state dict is for (its number of classes is read from the weights)."""
    left, right = st.sidebar.columns(2)
    choices, default = ARCHITECTURE_CHOICES, default_architecture()
    depth = left.selectbox("Depth", choices["depth"], format_func=lambda d: f"R(2+1)D-{d}", key="own_depth")
    flow = right.selectbox("Flow", choices["flow"], format_func=FLOW_KIND_LABELS.get, key="own_flow")
    flow_after = left.selectbox("Flow after", choices["flow_after"], index=choices["flow_after"].index(
        default["flow_after"]), key="own_flow_after", disabled=flow == "none")
    width = right.number_input("Base width", 1, 256, default["width"], key="own_width",
                               help=f"{default['width']} = standard (stage widths: 1, 2, 4, 8 x it).")
    flow_channels = left.number_input("Flow channels", 1, 512, default["flow_channels"], key="own_flow_channels",
                                      disabled=flow == "none")
    n_iter = right.number_input("TV-L1 iterations", 1, 200, default["n_iter"], key="own_n_iter",
                                disabled=flow == "none")
    config = {"depth": depth, "flow": flow, "flow_after": flow_after, "width": int(width)}
    config.update(flow_channels=int(flow_channels), n_iter=int(n_iter))
    return tuple(sorted(config.items()))


def summary_config(path: Path) -> dict | None:
    try:
        return compute.summary_for(ModelSource(ModelFile.of(path))).config
    except Exception:  # an unreadable file is labelled as such in the list, and refused when chosen
        return None


def describe_shown_model(candidate: Candidate, config: dict) -> None:
    """Say under the model choices which model is shown and what it is (an upload, when one is shown, not the
    bundled choice above it)."""
    what = describe_config(config) if config.get("num_classes") else OWN_FORMATS.get(candidate.loader, "")
    if candidate.kind == "upload":
        name = escape_markdown(candidate.name)
        st.sidebar.caption(f"Shown: your upload {name} · {what}" if what else f"Shown: your upload {name}")
    else:
        st.sidebar.caption(what)


def describe_shown_clip(candidate: Candidate) -> None:
    """Say under the clip choices that an uploaded clip is shown (not the sample clip named above it)."""
    if candidate.kind == "upload" and candidate != st.session_state.get("restored_clip"):
        st.sidebar.caption(f"Shown: your upload {escape_markdown(candidate.name)}; remove it to see the sample clip.")


def clip_candidates() -> list[Candidate]:
    """The uploaded video (if any) and the chosen sample clip, in that order of preference."""
    st.sidebar.header("Clip")
    clips = find_clips(samples_dir())
    candidates = []
    upload = st.sidebar.file_uploader(
        "Upload a video", type=[suffix.lstrip(".") for suffix in VIDEO_SUFFIXES], key="clip_upload",
        max_upload_size=MAX_UPLOAD_MB,
        help=f"{', '.join(s.lstrip('.').upper() for s in VIDEO_SUFFIXES)}, up to {MAX_UPLOAD_MB} MB; long videos are "
        "cut to the window chosen below.",
    )
    if upload is not None:
        st.session_state["restored_clip"] = None  # a new upload replaces the one the address named
        try:
            candidates.append(
                Candidate("upload", str(store_upload(upload.name, upload.getvalue(), kind="clips")), upload.name)
            )
        except ValueError as error:
            candidates += refused_upload("Video", upload.name, error, "clip")
    elif (restored := restored_clip()) is not None:
        candidates.append(restored)
        st.sidebar.caption(f"Showing your earlier upload {escape_markdown(restored.name)}, kept on the server. "
                           "Upload a video or choose a sample clip to change.")
    if clips:
        chosen = st.sidebar.selectbox(
            "Sample clip", [str(p) for p in clips], format_func=lambda p: Path(p).name, key="clip_choice",
            index=default_clip_index(clips),
            help="The videos in the app's sample folder (REPFLOW_SAMPLES_DIR overrides it).",
            on_change=st.session_state.__setitem__, args=("restored_clip", None),
        )
        candidates.append(Candidate("bundled", chosen, Path(chosen).name))
    return candidates


def restored_clip() -> Candidate | None:
    """The uploaded clip the page's address names (``?clip=...&clip_name=...``, set by ``show_in_address``), from
    the upload cache, read once per session: the server keeps uploads in memory, so a page reopened or
    reconnected after a restart still lists the user's clip but the server no longer has it."""
    if "restored_clip" not in st.session_state:
        wanted = st.query_params.get("clip", "")
        path = cached_upload("clips", wanted)
        name = st.query_params.get("clip_name", "") or wanted
        if wanted and path is None:
            st.warning(
                f"Your earlier upload {escape_markdown(name)} is no longer kept on the server: upload it again."
            )
        st.session_state["restored_clip"] = Candidate("upload", str(path), name) if path else None
    return st.session_state["restored_clip"]


def show_in_address(clip: Candidate) -> None:
    """Name the shown clip in the page's address when it is an upload (``restored_clip`` reads it back), else
    take it out of the address."""
    wanted = {"clip": Path(clip.path).name, "clip_name": clip.name} if clip.kind == "upload" else {}
    for key in ("clip", "clip_name"):
        if key not in wanted and key in st.query_params:
            del st.query_params[key]
        elif key in wanted and st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]


def changed(name: str, value) -> bool:
    """Whether ``value`` (e.g. the model shown) differs from the one this session saw under ``name`` on its previous
    run (False on the first); remembers it."""
    key = f"_seen_{name}"
    before = st.session_state.get(key, value)
    st.session_state[key] = value
    return before != value


def window_controls(clip: compute.ClipSource, summary: compute.CheckpointSummary, *, model=None) -> ClipWindow:
    """Frame window and input size. They open at the window the model was trained with (``summary``: frames,
    stride, input size, crop; at least the model's shortest clip) and start there again for each new ``model`` or
    clip, so a checkpoint is shown as ``repflow figure`` draws it; a note says what the app or the clip cannot
    hold of the trained window."""
    fresh = changed("window", (model, clip.digest))
    for note in summary.notes:
        st.sidebar.info(note)
    min_frames = max(MIN_FRAMES, summary.min_frames)
    largest_stride = max(1, min(MAX_STRIDE, (clip.num_frames - 1) // (min_frames - 1)))
    stride = st.sidebar.number_input(
        "Frame stride", 1, largest_stride, key="stride",
        help="Every n-th frame goes through the model; the default is the stride the checkpoint was trained with.",
        **initial("stride", min(summary.stride, largest_stride), reset=fresh, fit=clipped(1, largest_stride)),
    )
    longest = min(MAX_FRAMES, (clip.num_frames - 1) // stride + 1)
    fewest = min(min_frames, longest)  # a clip too short for the model is refused when it runs, naming the clip
    frames = st.sidebar.number_input(
        "Frames through the model", fewest, longest, key="frames",
        help=f"{min_frames}–{MAX_FRAMES} for this model; the clip has {clip.num_frames}.",
        **initial("frames", min(summary.frames, longest), reset=fresh, fit=clipped(fewest, longest)),
    )
    if min(summary.frames, longest) < summary.frames or largest_stride < summary.stride:
        st.sidebar.caption(
            f"{escape_markdown(clip.name)} has {clip.num_frames} frames, too few for the model's window of "
            f"{summary.frames}{f' every {summary.stride}' if summary.stride > 1 else ''}, so the window is shorter."
        )
    last_start = clip.num_frames - ClipWindow(frames=int(frames), stride=int(stride)).span
    start = st.sidebar.number_input(
        "First frame", 0, last_start, key="start", disabled=last_start == 0,
        **initial("start", 0, reset=fresh, fit=clipped(0, last_start)),
    )
    size = st.sidebar.number_input(
        "Input size (pixels)", MIN_SIZE, MAX_SIZE, step=16, key="size",
        help=f"Centre crop of the resized frames; it covers {summary.crop:.0%} of the short side, as in training.",
        **initial("size", summary.size, reset=fresh),
    )
    return ClipWindow(start=int(start), frames=int(frames), size=int(size), stride=int(stride), crop=summary.crop)


def probes_wanted(*, always: bool) -> bool:
    """Whether the layer list offers probe points: always for your own model; for a repflow checkpoint when
    asked (listing them costs one forward pass, so the first view of a checkpoint does not wait for it)."""
    st.sidebar.header("Flow")
    if always:
        return True
    return st.sidebar.toggle(
        "Flow probes on any layer", key="probes",
        help="Add every layer's output to the list below: a frozen TV-L1 probe shows the motion of its features.",
    )


def layer_picker(
    flow_layers: dict[str, str], points: list[ProbePoint], *, first: bool = False, model=None,
    probe_default: str | None = None,
) -> tuple[str, dict[str, str]] | None:
    """The model's flow layers and the probe points (``probe_key(name)``) in one list; deep probe points
    (more than one dot in the name) only behind "Show all probe points". Returns the chosen entry and every
    entry's label as the list shows it (the main row reads the list by them), or None if there is nothing to show.

    A new ``model`` opens on its default: its first flow layer if ``first`` (a bundled model: the finest flow),
    else its last, else the probe at ``probe_default`` (when listed), else the first entry."""
    show_all = bool(points) and st.sidebar.toggle(
        "Show all probe points",
        key="all_probes",
        help=f"{len(points)} points; by default only names with at most one dot.",
    )
    shown = [point for point in points if show_all or point.name.count(".") <= 1]
    labels = {**flow_layers, **{probe_key(point.name): f"probe · {point.label}" for point in shown}}
    if not labels:
        return None
    default = list(flow_layers)[0 if first else -1] if flow_layers else next(iter(labels))
    if not flow_layers and probe_default is not None and probe_key(probe_default) in labels:
        default = probe_key(probe_default)
    fresh = changed("layer_model", model)
    chosen = initial("layer", default, reset=fresh, fit=lambda layer: layer if layer in labels else default)
    layer = st.sidebar.selectbox(
        CONTROL_LABELS["layer"], list(labels), format_func=labels.get, key="layer",
        help="A probe computes frozen TV-L1 flow (initial θ, λ, τ; no training) on that layer's output.",
        index=list(labels).index(chosen["value"]) if chosen else 0,
    )
    return layer, labels


def probe_point(layer: str) -> str | None:
    """The probe point of a layer-picker choice, or None for a built-in flow layer."""
    return layer.removeprefix(PROBE_PREFIX) if layer.startswith(PROBE_PREFIX) else None


def probe_controls(point: str) -> ProbeOptions:
    """Settings of the flow probe at ``point``. The "input" probe computes flow on the clip's first principal
    component (its brightness), so it is classical single-scale TV-L1 of the frames."""
    with st.sidebar.expander("Probe settings"):
        if point == INPUT:
            st.caption(
                "Input probe: TV-L1 of the frames' brightness (first principal component), to compare with OpenCV."
            )
            n_iter = st.number_input("TV-L1 iterations", 1, 500, INPUT_N_ITER, key="probe_input_iter")
            return ProbeOptions(channels=1, reduce="pca", n_iter=int(n_iter))
        reduce = st.radio("Channels", REDUCTIONS, format_func=REDUCTION_LABELS.get, key="probe_reduce")
        channels = st.number_input("How many channels", 1, 64, 8, key="probe_channels")
        n_iter = st.number_input("TV-L1 iterations", 1, 500, FEATURE_N_ITER, key="probe_iter")
        return ProbeOptions(channels=int(channels), reduce=reduce, n_iter=int(n_iter))


def ranking_choice() -> str:
    """How the channel buttons (and the export's default rows and the channel browser's ordered slider) rank
    channels: "energy" (the default: free, so a new view opens at once) or "agreement" (with TV-L1)."""
    return st.sidebar.radio(
        "Rank channels by", list(RANKINGS), format_func=RANKINGS.get, key="rank_by", help=RANKING_HELP
    )


def channel_controls(analysis: ClipAnalysis, layer: str, ranked: Ranking, *, view: tuple = (),
                     preferred: Callable[[], int | None] | None = None) -> tuple[int, int]:
    """Channel of ``layer`` (with one-click buttons for the best channels of the ``ranked`` order) and time step
    (with play).

    On a new ``view`` (model, clip and layer) they start at the channel ``preferred()`` returns (a bundled model's
    best channel across the test set; asked only then), else the best ranked one, and at the step with the most
    classical TV-L1 motion; a new ranking starts at its best channel; afterwards the user's choice stays."""
    flows = analysis.flows[layer]
    n_channels, n_steps = flows.shape[:2]
    new_view = st.session_state.get("_view") != view
    new_ranking = st.session_state.get("_ranked_by") != ranked.by
    st.session_state["_view"], st.session_state["_ranked_by"] = view, ranked.by

    if ranked.note:
        st.sidebar.info(ranked.note)
    best = ranked.order[:RANKED_SHOWN]
    first = preferred() if new_view and preferred is not None else None
    channel = st.sidebar.number_input(
        f"{CONTROL_LABELS['channel']}0–{n_channels - 1})", 0, n_channels - 1, key="channel",
        **initial("channel", best[0] if first is None else first, reset=new_view or new_ranking,
                  fit=clipped(0, n_channels - 1)),
    )
    if layer in analysis.channel_labels:
        st.sidebar.caption(
            f"Flow channel {channel} is {analysis.channel_label(layer, int(channel))} of the probed output."
        )
    st.sidebar.caption(ranked.heading)
    columns = st.sidebar.columns(4)
    for position, index in enumerate(best):
        columns[position % 4].button(
            f"{index}",
            key=f"rank_{position}",
            on_click=queue,
            args=("channel", index),
            help=f"{analysis.channel_label(layer, index)}: {ranked.describe(index)}",
            type="primary" if index == channel else "secondary",
        )

    if n_steps > 1:
        best = step_of_most_local_motion(analysis.frames, n_steps) if new_view else 0
        step = st.sidebar.slider(
            CONTROL_LABELS["step"], 0, n_steps - 1, key="step", help=f"{n_steps} flow steps in this layer.",
            **initial("step", best, reset=new_view, fit=clipped(0, n_steps - 1)),
        )
        st.sidebar.toggle("▶ Play", key="play", on_change=rewind_if_at_end, args=(n_steps,), **initial("play", False))
        st.sidebar.select_slider("Steps per second", [1, 2, 4, 8, 16], value=4, key="play_speed")
    else:
        step = 0
        st.sidebar.caption("This layer has a single time step.")
    return int(channel), int(step)


def step_of_most_local_motion(frames: np.ndarray, n_steps: int) -> int:
    """The step (of the first ``n_steps``; step t compares frames t and t + 1) whose classical TV-L1 motion is the
    most local: among the steps where it is local (:func:`repflow.agreement.counted_steps`: not still, not a camera
    pan or shake moving the whole frame) the one whose magnitude varies most over the frame (spatial std), so what
    moves stands out; with no such step, the one with the most motion. 0 if motion cannot be measured (the view then
    simply starts at the first step)."""
    try:
        motion = compute.classical_motion(frames)[:n_steps]
    except Exception:  # a failing measurement must not take the page down; the TV-L1 panel reports the error
        return 0
    local = counted_steps(motion)
    if not local.any():
        return int(np.argmax(motion.mean(axis=(1, 2))))
    spread = np.where(local, motion.std(axis=(1, 2)), -np.inf)
    return int(np.argmax(spread))


def rewind_if_at_end(n_steps: int) -> None:
    """Callback of "Play": starting at the last step plays from the first."""
    if st.session_state.get("play") and st.session_state.get("step", 0) >= n_steps - 1:
        st.session_state["step"] = 0


def queue(key: str, value) -> None:
    """Callback: set widget ``key`` to ``value`` on the next run."""
    st.session_state[f"_next_{key}"] = value


def view_controls() -> flowviz.PanelOptions:
    """Normalisation, colouring, arrows, upsampling, overlay, legend and panel size."""
    st.sidebar.header("Display")
    normalisation = st.sidebar.radio(
        CONTROL_LABELS["normalisation"], list(flowviz.NORMALISATIONS), format_func=NORMALISATION_LABELS.get,
        key="normalisation",
        help="The flow length drawn at full colour: by default the 99th percentile of |u| over the channel's steps. "
        f"Cells below {flowviz.STILL_FRACTION:.0%} of it are white.",
    )
    fixed_max = st.sidebar.number_input(
        CONTROL_LABELS["fixed_max"], min_value=1e-4, value=1.0, format="%.4f", key="fixed_max",
        disabled=normalisation != "fixed", help="Flow length drawn at full colour; longer vectors are drawn darker.",
    )
    colouring = st.sidebar.radio(
        CONTROL_LABELS["colouring"], list(COLOURINGS), key="colouring", horizontal=True,
        format_func={"direction": "direction (colour wheel)", "magnitude": "speed (colour bar)"}.get,
    )
    arrows = st.sidebar.checkbox(CONTROL_LABELS["arrows"], key="arrows")
    spacing = st.sidebar.slider(CONTROL_LABELS["arrow_spacing"], 8, 64, 16, step=4, key="arrow_spacing",
                                disabled=not arrows)
    smooth = st.sidebar.checkbox(
        CONTROL_LABELS["smooth"], key="smooth", help="Bilinear instead of nearest (feature-map cells)."
    )
    opacity = st.sidebar.slider(CONTROL_LABELS["opacity"], 0.0, 1.0, 1.0, step=0.05, key="opacity")
    legend = st.sidebar.checkbox(CONTROL_LABELS["legend"], value=True, key="legend")
    panel_px = st.sidebar.select_slider(CONTROL_LABELS["panel_px"], list(PANEL_SIZES), value=224, key="panel_px")
    style = flowviz.FlowStyle(
        colouring=colouring, smooth=smooth, arrow_spacing=spacing if arrows else 0, opacity=opacity, legend=legend
    )
    return flowviz.PanelOptions(
        normalisation=normalisation, fixed_max=float(fixed_max), style=style, size=int(panel_px)
    )
