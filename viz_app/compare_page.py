"""The Compare page: two models on the same clip, one row each, so a reader sees what one model's flows show that
the other's do not. Each row is the model's input frame and the top channels of its flow layer at one time step; a
model without flow layers (an RGB network) is shown through a frozen TV-L1 flow probe at the position where the other
model has its flow layer (:func:`repflow.probe.default_probe_point`). Both rows use the explorer's channel rankings
(:mod:`viz_app.ranking`), its display options and colour scales (:func:`viz_app.sidebar.view_controls`), its cached
analyses and panels (:mod:`viz_app.compute`); under each row, the model's top-3 classes and the clip's true class
when its file name says it. It opens on the bundled motion-only Rep-Flow and RGB models and an arm-fast clip."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from repflow import flowviz
from repflow.analysis import ClipAnalysis, probe_key
from repflow.figure import mosaic, step_labels
from repflow.probe import ProbeOptions, default_probe_point
from viz_app import compute, ranking, sidebar, views
from viz_app.sources import (
    ClipWindow,
    ModelFile,
    ModelSource,
    default_clip_index,
    escape_markdown,
    find_clips,
    find_models,
    fit_window,
    models_dir,
    samples_dir,
    user_message,
)

DEFAULT_MODELS = ("motion_only_rep_flow.pt", "motion_only_rgb.pt")  # A, B
DEFAULT_CLIP = "motion_only_arm_forward_fast.mp4"
TOP_CLASSES = 3
PROBE = ProbeOptions()  # the explorer's probe defaults: the 8 most moving channels, frozen TV-L1


@dataclass(frozen=True)
class Side:
    """One model of the comparison: its row letter, file name, source and what its row shows."""

    letter: str
    name: str
    source: ModelSource
    summary: compute.CheckpointSummary
    layer: str  # a flow layer of the model, or probe_key(probe)
    probe: str | None = None


@dataclass(frozen=True)
class Shown:
    """A side run on the clip: its analysis and the analysis's cache key (as the explorer keys it)."""

    side: Side
    analysis: ClipAnalysis
    key: tuple
    frame_numbers: list[int]


def default_index(names: list[str], wanted: str, fallback: int = 0) -> int:
    """Where ``wanted`` is in ``names``, else ``fallback`` (kept within the list)."""
    return names.index(wanted) if wanted in names else min(fallback, max(len(names) - 1, 0))


def true_class(clip_name: str, classes: list[str]) -> str | None:
    """The class a clip's file name says (the longest class name in its stem), or None when it names none."""
    stem = Path(clip_name).stem
    named = [name for name in classes if name and name in stem]
    return max(named, key=len) if named else None


def top_classes(probabilities: np.ndarray, classes: list[str], k: int = TOP_CLASSES) -> list[tuple[str, float]]:
    """The ``k`` most probable classes, most probable first, as (name, probability)."""
    order = np.argsort(-probabilities)[:k]
    return [(classes[i] if i < len(classes) else f"class {i}", float(probabilities[i])) for i in order]


def choose_files() -> tuple[list[Path], Path] | None:
    """The two model files (A, B) and the clip chosen in the sidebar; None (with a message) when a folder is empty."""
    models, clips = find_models(models_dir()), find_clips(samples_dir())
    if not models:
        st.error(f"No model checkpoint found in {models_dir()}: the Compare page compares the checkpoints there "
                 "(set REPFLOW_MODELS_DIR to a folder with repflow checkpoints).")
        return None
    if not clips:
        st.error(f"No video found in {samples_dir()} (set REPFLOW_SAMPLES_DIR to a folder of clips).")
        return None
    st.sidebar.header("Compare")
    names = [path.name for path in models]
    chosen = [
        Path(st.sidebar.selectbox(f"Model {letter}", [str(path) for path in models], format_func=lambda p: Path(p).name,
                                  index=default_index(names, wanted, fallback), key=f"compare_model_{letter}",
                                  help="The checkpoints in the app's models folder."))
        for letter, wanted, fallback in zip("AB", DEFAULT_MODELS, (0, 1))
    ]
    clip = st.sidebar.selectbox("Clip", [str(path) for path in clips], format_func=lambda p: Path(p).name,
                                index=default_index([path.name for path in clips], DEFAULT_CLIP,
                                                    default_clip_index(clips)),
                                key="compare_clip", help="The videos in the app's sample folder.")
    return chosen, Path(clip)


def open_model(letter: str, path: Path) -> tuple[ModelSource, compute.CheckpointSummary] | None:
    """The model at ``path`` loaded (cached), or None after saying why it cannot be used."""
    try:
        source = ModelSource(ModelFile.of(path))
        summary = compute.summary_for(source)
        compute.load_model(source, path.name)
    except Exception as error:  # the app's boundary: a bad file becomes a message, never a traceback
        st.error(f"Model {letter}: cannot use {escape_markdown(path.name)}: "
                 f"{user_message(error, str(path), path.name)}")
        return None
    return source, summary


def flow_position(config: dict) -> str | None:
    """The stage a model's flow block follows (``flow_after``), when the model has one."""
    return config.get("flow_after") if config.get("flow", "none") != "none" else None


def shown_layer(letter: str, name: str, source: ModelSource, summary, window: ClipWindow, partner: dict | None
                ) -> Side | None:
    """What the row of model ``letter`` shows: its first flow layer (the explorer's default for a bundled model), or,
    without one, a probe where ``partner`` (the other model's config) has its flow layer (else where
    :func:`repflow.probe.default_probe_point` puts it)."""
    layers = compute.flow_layers(source)
    if layers:
        return Side(letter, name, source, summary, next(iter(layers)))
    try:
        points = compute.probe_points(source, window.frames, window.size)
    except Exception as error:
        st.error(f"Model {letter}: cannot list the probe points of {escape_markdown(name)}: {error}")
        return None
    position = flow_position(partner or {}) or summary.config.get("flow_after")
    point = default_probe_point(points, {**summary.config, "flow_after": position}, window.size)
    return Side(letter, name, source, summary, probe_key(point), point)


def window_of(summary: compute.CheckpointSummary, frames: int, stride: int, start: int) -> ClipWindow:
    """The shared frames (``frames`` every ``stride`` from ``start``) at this model's own trained input size."""
    return ClipWindow(start=start, frames=frames, size=summary.size, stride=stride, crop=summary.crop)


def run_side(side: Side, clip: compute.ClipSource, window: ClipWindow) -> Shown | None:
    """The side's analysis of the clip (cached, shared with the explorer), or None after saying why it failed."""
    options = PROBE if side.probe else None
    try:
        window = fit_window(window, clip.num_frames, clip.name)
        analysis = compute.analyse(side.source, clip, window, side.probe, options)
    except Exception as error:
        st.error(f"Model {side.letter}: cannot run {escape_markdown(side.name)} on {escape_markdown(clip.name)}: "
                 f"{user_message(error, clip.path, clip.name)}")
        return None
    return Shown(side, analysis, (side.source, clip.digest, window, side.probe, options), window.indices())


def run_sides(usable: list, clip: compute.ClipSource, frames: int, stride: int, start: int) -> list[Shown]:
    """Each opened model ``(letter, path, (source, summary))`` of ``usable`` run on the same frames of ``clip``, at
    its own input size, showing its first flow layer or a probe where the other model has its flow layer; the
    models that fail are left out (with a message)."""
    configs = {letter: model[1].config for letter, _, model in usable}
    shown = []
    for letter, path, (source, summary) in usable:
        window = window_of(summary, frames, stride, start)
        partner = next((config for other, config in configs.items() if other != letter), None)
        side = shown_layer(letter, path.name, source, summary, window, partner)
        result = run_side(side, clip, window) if side else None
        if result:
            shown.append(result)
    return shown


def step_control(shown: list[Shown]) -> int:
    """The time step slider over the steps every row has; a new pair, clip or window opens on the step whose
    classical motion stands out most (as the explorer's does)."""
    steps = min(result.analysis.flows[result.side.layer].shape[1] for result in shown)
    if steps < 2:
        return 0
    view = tuple(result.key for result in shown)
    fresh = st.session_state.get("_compare_view") != view
    st.session_state["_compare_view"] = view
    best = sidebar.step_of_most_local_motion(shown[0].analysis.frames, steps) if fresh else 0
    return st.slider("Time step", 0, steps - 1, key="compare_step", help=f"{steps} flow steps.",
                     **sidebar.initial("compare_step", best, reset=fresh, fit=sidebar.clipped(0, steps - 1)))


def row_title(shown: Shown) -> str:
    """The heading of a side's row: letter, file and what is shown (flow layer, or probe and why)."""
    side, label = shown.side, shown.analysis.layer_labels[shown.side.layer]
    what = f"{label} (its flow layer)" if side.probe is None else f"{label}: a frozen TV-L1 probe (no flow layer)"
    return f"{side.letter} · {escape_markdown(side.name)} · {escape_markdown(what)}"


def panels(shown: Shown, ranked: ranking.Ranking, count: int, step: int, options: flowviz.PanelOptions
           ) -> list[tuple[bytes, str]]:
    """(PNG, caption) of the frame and of the ``count`` best ``ranked`` channels at ``step`` (cached as the explorer's
    panels); each caption gives the channel's scores."""
    analysis, layer = shown.analysis, shown.side.layer
    flows, frame = analysis.flows[layer], analysis.frames[step]
    pair = step_labels(shown.frame_numbers, [step], len(analysis.frames) - flows.shape[1])[0]
    drawn = [(compute.frame_image(shown.key, step, options.size, frame), f"frame {shown.frame_numbers[step]}")]
    for rank, channel in enumerate(ranked.order[:count], 1):
        image, scale = compute.panel_image(shown.key, layer, channel, step, options, flows, frame)
        caption = (f"#{rank} {analysis.channel_label(layer, channel)} · {ranked.describe(channel)} · frames {pair} · "
                   f"{flowviz.scale_note(scale)}")
        drawn.append((image, caption))
    return drawn


def prediction_line(shown: Shown, clip_name: str) -> str:
    """The model's top-3 classes on the clip and the true class its name tells (markdown)."""
    analysis, classes = shown.analysis, shown.side.summary.class_names
    if analysis.probabilities is None:
        return "No class scores: the model's output is not (1, classes) logits."
    top = top_classes(analysis.probabilities, classes)
    listed = " · ".join(f"{escape_markdown(name)} {probability:.2f}" for name, probability in top)
    truth = true_class(clip_name, classes)
    if truth is None:
        return f"Top-{TOP_CLASSES}: {listed} (the clip's name names none of the model's classes)"
    verdict = "right" if top[0][0] == truth else "wrong"
    return (f"Top-{TOP_CLASSES}: {listed} · true class **{escape_markdown(truth)}** (from the clip's name): "
            f"top-1 {verdict}")


def draw_row(shown: Shown, ranked: ranking.Ranking, count: int, step: int, options: flowviz.PanelOptions, *,
             clip_name: str) -> list[tuple[bytes, str]]:
    """One model's row: heading, ranking, frame and the ``count`` best channels side by side, predictions. Returns its
    panels (for the export)."""
    st.subheader(row_title(shown))
    st.caption(" ".join(filter(None, [ranked.heading, ranked.note])))
    drawn = panels(shown, ranked, count, step, options)
    wheel = options.style.legend and options.style.colouring == "direction"
    columns = views.panel_row([options.size] * len(drawn) + [options.size // 2] * wheel)
    for column, (image, caption) in zip(columns, drawn):
        column.image(image, caption=caption, width="stretch", output_format="PNG")
    if wheel:
        columns[-1].image(flowviz.color_wheel(options.size // 2), caption="direction = hue, speed = saturation, "
                          "white = still", width=options.size // 2)
    st.markdown(prediction_line(shown, clip_name))
    return drawn


@st.cache_data(show_spinner=False, max_entries=32)
def comparison_png(_rows: list[list[tuple[bytes, str]]], rows_key: tuple, titles: tuple[str, ...]) -> bytes:
    """The rows' panels as one PNG (:func:`repflow.figure.mosaic`), each row's first caption led by its ``titles``
    entry (letter, model, what is shown); ``rows_key`` identifies ``_rows`` (what each row shows, the step, the
    channels and the display options)."""
    width = max(len(row) for row in _rows)
    tiles, labels = [], []
    for title, row in zip(titles, _rows):
        images = [np.asarray(Image.open(io.BytesIO(png)).convert("RGB")) for png, _ in row]
        blanks = [np.full_like(images[0], 255)] * (width - len(row))  # a layer with fewer channels than asked
        tiles += images + blanks
        captions = [caption.replace(" · ", "\n") for _, caption in row]
        labels += [f"{title}\n{captions[0]}", *captions[1:]] + [""] * len(blanks)
    return compute.png(mosaic(tiles, labels, columns=width))


def page() -> None:
    """The Compare page."""
    st.set_page_config(page_title="repflow · compare models", page_icon="⚖️", layout="wide")
    st.title("Compare two models on one clip")
    chosen = choose_files()
    if chosen is None:
        return
    paths, clip_path = chosen
    if paths[0] == paths[1]:
        st.info("Model A and model B are the same file: choose another one for B in the sidebar.")
    opened = [open_model(letter, path) for letter, path in zip("AB", paths)]
    try:
        clip = compute.check_clip(str(clip_path), clip_path.name, compute.clip_digest(str(clip_path)))
    except Exception as error:
        st.error(f"Cannot use the video {escape_markdown(clip_path.name)}: "
                 f"{user_message(error, str(clip_path), clip_path.name)}")
        return
    usable = [(letter, path, model) for letter, path, model in zip("AB", paths, opened) if model]
    if not usable:
        return
    first = usable[0][2][1]  # every row reads the first usable model's training window, long enough for both:
    frames = max(first.frames, *(model[1].min_frames for _, _, model in usable))
    last_start = max(0, clip.num_frames - ClipWindow(frames=frames, stride=first.stride).span)
    start = st.sidebar.number_input("First frame", 0, last_start, key="compare_start", disabled=last_start == 0,
                                    **sidebar.initial("compare_start", 0, fit=sidebar.clipped(0, last_start)))
    by = st.sidebar.radio("Rank channels by", list(ranking.RANKINGS), format_func=ranking.RANKINGS.get,
                          key="compare_rank_by", help=ranking.RANKING_HELP)
    count = st.sidebar.slider("Channels per model", 1, 8, 3, key="compare_channels",
                              help="The top channels of each model's ranking, side by side.")
    options = sidebar.view_controls()
    shown = run_sides(usable, clip, frames, first.stride, int(start))
    if not shown:
        return
    step = step_control(shown)
    st.caption(
        f"**{escape_markdown(clip.name)}**: frames {shown[0].frame_numbers[0]}–{shown[0].frame_numbers[-1]}"
        f" every {first.stride}, each model at its own trained input size. Each row: the input frame, then the "
        f"{count} top channels by {ranking.RANKINGS[by]} of what the row shows. Colours: hue = direction, "
        "saturation = magnitude (white = still), scaled as chosen under Display."
    )
    rows = []
    for result in shown:
        ranked = ranking.rank_channels(result.analysis, result.side.layer, by, key=result.key,
                                       dataset=compute.dissection_of(result.side.source))
        rows.append(draw_row(result, ranked, count, step, options, clip_name=clip.name))
        if result.side.probe:
            st.caption(views.probe_note(result.analysis.layer_labels[result.side.layer], only_probes=False))
    titles = tuple(f"{r.side.letter}: {Path(r.side.name).stem}\n{r.analysis.layer_labels[r.side.layer]}" for r in shown)
    rows_key = (tuple((r.key, r.side.layer) for r in shown), step, count, by, options)
    st.download_button(
        "Download this comparison (PNG)", comparison_png(rows, rows_key, titles),
        file_name=f"compare_{'_vs_'.join(Path(r.side.name).stem for r in shown)}_{Path(clip.name).stem}_t{step}.png",
        mime="image/png", key="compare_download",
    )
