"""repflow viewer: what the flow layers of a representation-flow network compute, next to the video.

Run with ``streamlit run viz_app/main.py``. ``REPFLOW_MODELS_DIR`` and ``REPFLOW_SAMPLES_DIR`` override
the folders of checkpoints (default ``models/``) and clips (default ``sample_videos/``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `viz_app` importable when run by path

import streamlit as st  # noqa: E402

from viz_app import compute, export, sidebar, views  # noqa: E402
from viz_app.sources import ClipWindow, ModelFile, fit_window, models_dir, samples_dir  # noqa: E402

def ordered(candidates: list[sidebar.Candidate], last_good: sidebar.Candidate | None) -> list[sidebar.Candidate]:
    """Try an upload first, then the previous working choice (so a bad upload keeps the view), then the rest;
    without an upload the sidebar's choice comes first."""
    uploads = [c for c in candidates if c.kind == "upload"]
    order = uploads + ([last_good] if uploads and last_good else []) + [c for c in candidates if c.kind != "upload"]
    if last_good and not uploads:
        order.append(last_good)
    return list(dict.fromkeys(order))


def resolve_model() -> tuple[ModelFile, str, compute.CheckpointSummary] | None:
    """The first usable model among the upload, the previous model and the bundled choice."""
    candidates = sidebar.model_candidates()
    if not candidates:
        st.error(
            f"No model checkpoint found in {models_dir()}. Put a repflow checkpoint (*.pt, a dict with "
            "'model_config' and 'model', e.g. from `repflow train`) there, set REPFLOW_MODELS_DIR to a folder "
            "that has one, or upload one in the sidebar."
        )
        return None
    for candidate in ordered(candidates, st.session_state.get("good_model")):
        try:
            model_file = ModelFile.of(candidate.path)
            summary = compute.summary_for(model_file)
            compute.model_for(model_file)
        except Exception as error:  # the app's boundary: every failure becomes a message, never a traceback
            st.error(f"Cannot use the model {candidate.name}: {error}")
            continue
        st.session_state["good_model"] = candidate
        return model_file, candidate.name, summary
    return None


def resolve_clip() -> compute.ClipSource | None:
    """The first readable clip among the upload, the previous clip and the chosen sample."""
    candidates = sidebar.clip_candidates()
    if not candidates:
        st.error(f"No video found in {samples_dir()}: upload one in the sidebar or set REPFLOW_SAMPLES_DIR.")
        return None
    for candidate in ordered(candidates, st.session_state.get("good_clip")):
        try:
            clip = compute.probe_clip(candidate.path, candidate.name, compute.clip_digest(candidate.path))
        except Exception as error:
            st.error(f"Cannot use the video {candidate.name}: {error}")
            continue
        st.session_state["good_clip"] = candidate
        return clip
    return None


def resolve_analysis(model_file: ModelFile, model_name: str, clip: compute.ClipSource, window: ClipWindow):
    """Run (or fetch) the analysis; if it fails, say why and fall back to the last one that worked.

    Returns (analysis, model_file, model_name, clip, window) of what is shown, or None."""
    chosen = (model_file, model_name, clip, window)
    for attempt in (chosen, st.session_state.get("good_analysis")):
        if attempt is None:
            continue
        model_file, model_name, clip, window = attempt
        try:
            window = fit_window(window, clip.num_frames, clip.name)
            analysis = compute.analyse(model_file, clip, window)
        except Exception as error:
            st.error(f"Cannot run {model_name} on {clip.name}: {error}")
            continue
        if attempt is not chosen:
            st.warning(f"Showing the previous selection: {model_name} on {clip.name}.")
        st.session_state["good_analysis"] = (model_file, model_name, clip, window)
        return analysis, model_file, model_name, clip, window
    return None


def advance_play(step: int, n_steps: int) -> None:
    """While "Play" is on, show the next step after a pause set by "Steps per second" (stop at the last one)."""
    if not st.session_state.get("play"):
        return
    time.sleep(1.0 / st.session_state.get("play_speed", 4))
    if step + 1 < n_steps:
        sidebar.queue("step", step + 1)
    else:
        sidebar.queue("play", False)
    st.rerun()


def main() -> None:
    st.set_page_config(page_title="repflow · learned motion", page_icon="🌀", layout="wide")
    st.title("Representation flow explorer")
    model = resolve_model()
    clip = resolve_clip() if model else None
    if model is None or clip is None:
        return
    model_file, model_name, summary = model
    window = sidebar.window_controls(clip, summary)
    resolved = resolve_analysis(model_file, model_name, clip, window)
    if resolved is None:
        return
    analysis, model_file, model_name, clip, window = resolved
    layer, channel, step = sidebar.layer_controls(analysis)
    options = sidebar.view_controls()
    st.caption(
        f"**{model_name}** on **{clip.name}**: frames {window.start}–{window.start + window.frames - 1} "
        f"of {clip.num_frames}, centre crop {window.size}×{window.size}. Colours: hue = direction, "
        "saturation = magnitude (white = still); positive flow moves right / down."
    )
    classical_key = (clip.digest, window.start, window.size)
    views.main_view(analysis, layer, channel, step, options, start=window.start, classical_key=classical_key)
    analysis_key = (model_file, clip.digest, window)
    views.channel_grid(analysis, layer, channel, step, options, key=analysis_key)
    left, right = st.columns(2)
    with left:
        views.predictions(analysis, compute.summary_for(model_file).class_names)
    with right:
        views.learned_parameters(compute.model_for(model_file), analysis.layer_labels)
    export.export_section(analysis, layer, channel, options, clip_name=clip.name, classical_key=classical_key)
    advance_play(step, analysis.flows[layer].shape[1])


main()
