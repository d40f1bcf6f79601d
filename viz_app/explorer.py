"""The script each session of the app runs (served by :mod:`viz_app.main`): the explorer, what the flow layers of a
representation-flow network compute, next to the video, and what frozen TV-L1 flow probes see inside any video
network ("your own model": TorchScript or a state dict).

The explorer is the first page, the Dataset page (:mod:`viz_app.dataset_page`) the second, the Compare page
(:mod:`viz_app.compare_page`) the third. ``REPFLOW_MODELS_DIR`` and ``REPFLOW_SAMPLES_DIR`` override the folders
of checkpoints (default ``models/``) and clips (default ``sample_videos/``).
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from repflow.probe import ProbeOptions, default_probe_point
from viz_app import compare_page, compute, handoff, main_row, ranking, sidebar, views
from viz_app.sources import (
    ClipWindow,
    ModelFile,
    ModelSource,
    escape_markdown,
    fit_window,
    models_dir,
    samples_dir,
    user_message,
)


def ordered(
    candidates: list[sidebar.Candidate], last_good: sidebar.Candidate | None, last_upload: sidebar.Candidate | None
) -> list[sidebar.Candidate]:
    """Try an upload first, then the last upload that worked and the previous working choice (so a bad upload
    keeps the view: replacing an upload passes through a run without one), then the rest; without an upload
    the sidebar's choice comes first."""
    uploads = [c for c in candidates if c.kind == "upload"]
    fallbacks = [c for c in (last_upload, last_good) if c and Path(c.path).exists()] if uploads else []
    order = uploads + fallbacks + [c for c in candidates if c.kind != "upload"]
    if last_good and not uploads:
        order.append(last_good)
    return list(dict.fromkeys(order))


def remember(kind: str, candidate: sidebar.Candidate) -> None:
    """Note the model or clip (``kind``) now shown, and the upload among them, as fallbacks for a failing choice."""
    st.session_state[f"good_{kind}"] = candidate
    if candidate.kind == "upload":
        st.session_state[f"good_{kind}_upload"] = candidate


def resolve_model() -> tuple[ModelSource, str, compute.CheckpointSummary, bool] | None:
    """The first usable model among the upload, the previous model and the bundled choice, with whether it is
    a bundled one."""
    candidates = sidebar.model_candidates()
    if not candidates:
        st.error(
            f"No model checkpoint found in {models_dir()}. Put a repflow checkpoint (*.pt, a dict with "
            "'model_config' and 'model', e.g. from `repflow train`) there, set REPFLOW_MODELS_DIR to a folder "
            "that has one, or upload one in the sidebar."
        )
        return None
    tries = ordered(candidates, st.session_state.get("good_model"), st.session_state.get("good_model_upload"))
    for tried, candidate in enumerate(tries):
        try:
            source = ModelSource(ModelFile.of(candidate.path), candidate.loader, candidate.architecture)
            summary = compute.summary_for(source)
            compute.load_model(source, candidate.name)
        except Exception as error:  # the app's boundary: every failure becomes a message, never a traceback
            st.error(f"Cannot use the model {escape_markdown(candidate.name)}: "
                     f"{user_message(error, candidate.path, candidate.name)}")
            continue
        remember("model", candidate)
        if tried:  # the ones before it failed
            st.warning(f"Showing the model {escape_markdown(candidate.name)} instead.")
        sidebar.describe_shown_model(candidate, summary.config)
        return source, candidate.name, summary, candidate.kind == "bundled"
    return None


def resolve_clip() -> compute.ClipSource | None:
    """The first readable clip among the upload, the previous clip and the chosen sample."""
    candidates = sidebar.clip_candidates()
    if not candidates:
        st.error(f"No video found in {samples_dir()}: upload one in the sidebar or set REPFLOW_SAMPLES_DIR.")
        return None
    tries = ordered(candidates, st.session_state.get("good_clip"), st.session_state.get("good_clip_upload"))
    for tried, candidate in enumerate(tries):
        try:
            clip = compute.check_clip(candidate.path, candidate.name, compute.clip_digest(candidate.path))
        except Exception as error:
            st.error(f"Cannot use the video {escape_markdown(candidate.name)}: "
                     f"{user_message(error, candidate.path, candidate.name)}")
            continue
        remember("clip", candidate)
        if tried:
            st.warning(f"Showing the video {escape_markdown(candidate.name)} instead.")
        sidebar.show_in_address(candidate)
        sidebar.describe_shown_clip(candidate)
        return clip
    return None


def choose_layer(
    source: ModelSource, model_name: str, window: ClipWindow, *, bundled: bool
) -> tuple[str, str | None, ProbeOptions | None, dict[str, str]] | None:
    """The flow layer or probe point to show, the probe's point and options (None for a flow layer), and the layer
    list's labels. A bundled model opens on its first flow layer, whose finer map shows the motion's shape; an
    uploaded one on its last. A model without flow layers always lists its probe points and opens on a probe
    (``default_probe_point``)."""
    layers = compute.flow_layers(source)
    points = []
    if sidebar.probes_wanted(always=source.kind != "checkpoint" or not layers):
        try:
            points = compute.probe_points(source, window.frames, window.size)
        except Exception as error:
            st.error(f"Cannot list the probe points of {escape_markdown(model_name)}: {error}")
    config = compute.summary_for(source).config
    probe_default = default_probe_point(points, config, window.size)
    picked = sidebar.layer_picker(layers, points, first=bundled, model=source, probe_default=probe_default)
    if picked is None:
        st.error(f"{escape_markdown(model_name)} has no flow layer and no probe point to show.")
        return None
    layer, labels = picked
    point = sidebar.probe_point(layer)
    return layer, point, sidebar.probe_controls(point) if point else None, labels


def resolve_analysis(
    source: ModelSource, model_name: str, clip: compute.ClipSource, window: ClipWindow, probe: str | None, options
):
    """Run (or fetch) the analysis; if it fails, say why and fall back to the last one that worked.

    Returns (analysis, source, model_name, clip, window, probe, options) of what is shown, or None."""
    chosen = (source, model_name, clip, window, probe, options)
    for attempt in (chosen, st.session_state.get("good_analysis")):
        if attempt is None:
            continue
        source, model_name, clip, window, probe, options = attempt
        try:
            window = fit_window(window, clip.num_frames, clip.name)
            analysis = compute.analyse(source, clip, window, probe, options)
        except Exception as error:
            where = f" with a probe at {probe!r}" if probe else ""
            st.error(f"Cannot run {escape_markdown(model_name)}{where} on {escape_markdown(clip.name)}: "
                     f"{user_message(error, clip.path, clip.name)}")
            continue
        if attempt is not chosen:
            names = f"{escape_markdown(model_name)} on {escape_markdown(clip.name)}"
            st.warning(f"Showing the previous selection: {names}.")
        st.session_state["good_analysis"] = (source, model_name, clip, window, probe, options)
        return analysis, source, model_name, clip, window, probe, options
    return None


def advance_play(n_steps: int) -> None:
    """While "Play" is on, show the next step after a pause set by "Steps per second" (stop at the last one)."""
    if not st.session_state.get("play"):
        return
    time.sleep(1.0 / st.session_state.get("play_speed", 4))
    step = st.session_state.get("step", 0)
    if step + 1 < n_steps:
        sidebar.queue("step", step + 1)
    else:
        sidebar.queue("play", False)
    st.rerun(scope="fragment" if fragment_run() else "app")


def fragment_run() -> bool:
    """Whether this run reruns a fragment only (Streamlit refuses a fragment-scoped rerun during a full run)."""
    context = get_script_run_ctx()
    return bool(context and context.fragment_ids_this_run)


@st.fragment
def explorer(analysis, layer: str, *, key: tuple, source: ModelSource, clip_name: str, frame_numbers: list[int],
             layer_labels: dict[str, str]) -> None:
    """What the channel ranking, channel, step and display options change: their sidebar controls, the main row,
    the channel grid, the channel browser, the export, and the predictions and learned parameters below them (they
    follow the row on a session's first view). Changing one of them reruns only this part of the page; the main row
    is drawn in the page, which repaints it before this rerun (:mod:`viz_app.main_row`), and the classical TV-L1
    reaches it when the background job is done (:func:`viz_app.compute.clip_classical`).

    ``key`` identifies the analysis (model, clip, window, probe) in the caches; a bundled ``source`` model's
    dissection gives a layer its default channel (stored in its summary) and, only when chosen, the "dataset
    selectivity" ranking (its tables are read then); ``layer_labels`` are the layer list's labels, by which the
    main row reads the list."""
    by = sidebar.ranking_choice()
    dataset = compute.dissection_of(source) if by == "selectivity" else None
    ranked = ranking.rank_channels(analysis, layer, by, key=key, dataset=dataset)
    channel, step = sidebar.channel_controls(analysis, layer, ranked, view=(key[0], key[1], layer),
                                             preferred=lambda: compute.default_channels_of(source).get(layer))
    options = sidebar.view_controls()
    shown = main_row.show_main_row(analysis, layer, channel, step, options, frame_numbers=frame_numbers, key=key,
                                   layer_labels=layer_labels)
    views.probe_notes(analysis, step)
    if not shown:  # a session's first view: the rest follows once the row is on screen (it reruns this fragment)
        return
    # Imported once the main row is placed: the first run of a fresh server does not wait for them.
    from viz_app import channel_browser, export

    views.channel_grid(analysis, layer, channel, step, options, key=key)
    asked = channel_browser.browser_section(
        analysis, layer, channel, step, options, frame_numbers=frame_numbers, key=key,
        order=ranked.order, order_name=ranking.RANKINGS[ranked.by],
    )
    if asked is not None and asked != (channel, step):  # the browser's button: the page takes over its view
        sidebar.queue("channel", asked[0])
        sidebar.queue("step", asked[1])
        st.rerun(scope="fragment" if fragment_run() else "app")
    export.export_section(analysis, layer, channel, options, clip_name=clip_name, key=key, ranked=ranked,
                          frame_numbers=frame_numbers)
    left, right = st.columns(2)
    with left:
        views.predictions(analysis, compute.summary_for(source).class_names)
    with right:
        views.learned_parameters(compute.load_model(source), analysis.layer_labels)
    if fragment_run():  # a full run plays on after the rest of the page is drawn
        advance_play(analysis.flows[layer].shape[1])


def main() -> None:
    st.set_page_config(page_title="repflow · learned motion", page_icon=":material/animation:", layout="wide")
    st.title("Representation flow explorer")
    main_row.load_code()
    handoff.take_request()  # a link from the Dataset page: its model, layer and channel
    model = resolve_model()
    clip = resolve_clip() if model else None
    if model is None or clip is None:
        return
    source, model_name, summary, bundled = model
    window = sidebar.window_controls(clip, summary, model=source)
    chosen = choose_layer(source, model_name, window, bundled=bundled)
    if chosen is None:
        return
    layer, probe, probe_options, layer_labels = chosen
    resolved = resolve_analysis(source, model_name, clip, window, probe, probe_options)
    if resolved is None:
        return
    analysis, source, model_name, clip, window, probe, probe_options = resolved
    if layer not in analysis.flows:  # the previous selection is shown after a failure
        layer = list(analysis.flows)[-1]
    analysis_key = (source, clip.digest, window, probe, probe_options)
    st.caption(
        f"**{escape_markdown(model_name)}** on **{escape_markdown(clip.name)}**:"
        f" frames {window.start}–{window.indices()[-1]}"
        f"{f' (every {window.stride})' if window.stride > 1 else ''} of {clip.num_frames}, short side resized to "
        f"{window.short_side}, centre crop {window.size}×{window.size}. Colours: hue = direction, "
        "saturation = magnitude (white = still); positive flow moves right / down."
    )
    explorer(analysis, layer, key=analysis_key, source=source, clip_name=clip.name, frame_numbers=window.indices(),
             layer_labels=layer_labels)
    advance_play(analysis.flows[layer].shape[1])


def dataset_view() -> None:
    """The Dataset page, imported when it is opened (pandas and the figure code stay off the explorer's path)."""
    from viz_app import dataset_page

    dataset_page.page(EXPLORER)


EXPLORER = st.Page(main, title="Explorer", icon=":material/animation:", default=True)
st.navigation([EXPLORER, st.Page(dataset_view, title="Dataset", icon=":material/bar_chart:", url_path="dataset"),
               st.Page(compare_page.page, title="Compare", icon=":material/compare:", url_path="compare")]).run()
