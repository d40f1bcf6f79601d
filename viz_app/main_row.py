"""The explorer's main row, drawn in the page: input frame | every flow layer (and the probe) at the chosen channel
and step | classical TV-L1 | colour legend.

The row is a Streamlit components-v2 element: it mounts in the page itself (no frame to load), and its controller
(``main_row_frontend/row.js``, with ``frontend_common/flowpaint.js``, a port of :func:`repflow.flowviz.render_flow`
tested pixel for pixel against it) draws the panels. Every run sends it one message, packed like a data file
(:func:`viz_app.component_files.pack`): the server's view of the controls (``state``) as its header and, on the
first run that shows an analysis, that analysis's data file (:func:`row_data`): every layer's flows as int16 (one
step size per channel), their colour scales per channel (clip) and per step (frame), labels, and the input frames;
later runs send only the file's name (the page keeps the data; a page that lost it fetches the file). A change of
channel, step, layer or display option repaints at once: the controller follows the sidebar's controls in the page
as they change (it reads their values) and falls back on ``state`` for any control it cannot read. The clip
window's classical TV-L1 is computed in the background (:func:`viz_app.compute.clip_classical`) and reaches the page
as a second file when it is done (:func:`classical_data`): it never delays the learned flows. The data files are
served from the row's private folder (:func:`served_folder`, :func:`files_url`).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import flow_vis
import numpy as np
import streamlit as st
import streamlit.components.v1 as components_v1

from repflow import flowviz
from repflow.analysis import ClipAnalysis
from repflow.figure import step_labels
from repflow.flowviz import PanelOptions
from viz_app import component_files, compute, sidebar

HERE = Path(__file__).resolve().parent
FRONTEND = HERE / "main_row_frontend"
NAME = "repflow_main_row"  # the row's name among the app's components
# The row's key; its state holds {"shown": True} once the page has shown a row in this session.
SHOWN = "main_row"


def row_data(analysis: ClipAnalysis, frame_numbers: list[int]) -> tuple[dict, bytes]:
    """(header, blob) of the row's data file: per layer its label, shape (C, T, H, W), channel labels, step labels
    ("4→6"), quantisation steps, clip and frame colour scales (:func:`repflow.flowviz.panel_scales`) and the offset
    of its int16 flows (C, T, H, W, 2) in the blob; the input frames (T0, S, S, 3) uint8 at ``frames_offset``."""
    layers, parts, offset = [], [], 0
    for name, flows in analysis.flows.items():
        codes, quant = component_files.quantise(flowviz.check_flow(flows))
        channels, steps = flows.shape[:2]
        span = len(analysis.frames) - steps
        layers.append({
            "name": name, "label": analysis.layer_labels[name], "shape": list(flows.shape[:4]),
            "channel_labels": [analysis.channel_label(name, c) for c in range(channels)],
            "step_labels": step_labels(frame_numbers, range(steps), span), "compares": span + 1,
            "quant": quant.tolist(), "clip_scales": flowviz.panel_scales(flows, "clip")[:, 0].tolist(),
            "frame_scales": flowviz.panel_scales(flows, "frame").tolist(), "offset": offset,
        })
        parts.append(codes.tobytes())
        offset += len(parts[-1])
    frames = np.ascontiguousarray(analysis.frames, dtype=np.uint8)
    header = {
        "layers": layers, "frames_shape": list(frames.shape), "frames_offset": offset,
        "frame_numbers": list(frame_numbers), "still_fraction": flowviz.STILL_FRACTION,
        "units": flowviz.FLOW_UNITS, "units_short": flowviz.FLOW_UNITS_SHORT,
        "palette": {"wheel": flow_vis.make_colorwheel().astype(int).tolist(),
                    "speed_colours": flowviz.magnitude_lut().tolist()},
    }
    return header, b"".join(parts) + frames.tobytes()


@st.cache_data(show_spinner=False, max_entries=16)
def row_payload(key: tuple, _analysis: ClipAnalysis, frame_numbers: list[int]) -> tuple[str, bytes]:
    """(digest, bytes) of the row's data file of the analysis ``key`` (model, clip, window, probe)."""
    payload = component_files.pack(*row_data(_analysis, frame_numbers))
    return hashlib.sha256(payload).hexdigest()[:16], payload


def classical_data(flows: np.ndarray, first_step: int = 0) -> bytes:
    """The classical TV-L1 file: header {"shape": (T, H, W), "first_step", "scales"} (one robust scale per step,
    the "frame" normalisation the TV-L1 panel always uses) and the flows (T, H, W, 2) as float32."""
    flows = flowviz.check_flow(flows)
    scales = flowviz.panel_scales(flows[None], "frame")[0]
    header = {"shape": list(flows.shape[:3]), "first_step": first_step, "scales": scales.tolist()}
    return component_files.pack(header, np.ascontiguousarray(flows, dtype="<f4").tobytes())


def classical_file(frames: np.ndarray, step: int, *, start: bool) -> str:
    """Where the page finds the classical TV-L1 of the window ``frames``: a file written by a background job
    (:func:`viz_app.compute.clip_classical`) when it is done, of the whole window or, for a window too large to
    keep (:func:`viz_app.compute.classical_kept`), of step ``step`` alone; the page waits for it to appear.
    ``start=False`` leaves starting the job to a later call."""
    window, first_step = (frames, 0) if compute.classical_kept(frames) else (frames[step : step + 2], step)
    digest = hashlib.blake2b(f"from step {first_step}:".encode() + window.tobytes(), digest_size=8).hexdigest()
    folder = served_folder()
    if start and not component_files.published(folder, digest):
        job = compute.clip_classical(window)
        job.add_done_callback(functools.partial(publish_classical, folder, digest, first_step))  # now if done
    return f"{component_files.DATA_FOLDER}/{digest}.bin"


def publish_classical(folder: Path, digest: str, first_step: int, job) -> None:
    """Done callback of a TV-L1 job whose first pair is step ``first_step``: write its file (a failed job writes
    none; the next run that shows the window starts a new one)."""
    if job.exception() is None:
        component_files.publish(folder, digest, classical_data(job.result(), first_step))


def state(layer: str, channel: int, step: int, options: PanelOptions) -> dict:
    """The server's view of the row's controls, as the page's controller reads them."""
    style = options.style
    return {
        "layer": layer, "channel": channel, "step": step, "normalisation": options.normalisation,
        "fixed_max": options.fixed_max, "colouring": style.colouring, "smooth": style.smooth,
        "arrows": style.arrow_spacing > 0, "arrow_spacing": style.arrow_spacing or 16, "opacity": style.opacity,
        "legend": style.legend, "panel_px": options.size,
    }


def show_main_row(
    analysis: ClipAnalysis, layer: str, channel: int, step: int, options: PanelOptions, *, frame_numbers: list[int],
    key: tuple, layer_labels: dict[str, str],
) -> bool:
    """Place the row showing ``layer`` (marked ▶) at ``channel`` and ``step`` drawn with ``options``; ``key``
    identifies the analysis (model, clip, window, probe) in the caches; ``layer_labels`` are the layer list's
    labels (the page reads the list's choice by them). Returns whether the page has shown a row
    in this session: until it has, the page reports its first paint (a rerun of the calling fragment follows), so
    the caller can send the rest of the page after the flows are on screen (:data:`SHOWN`)."""
    frames = analysis.frames
    shown = bool((st.session_state.get(SHOWN) or {}).get("shown"))
    # On a session's first view the window's TV-L1 starts once the row is on screen: it must not slow its paint.
    classical = classical_file(frames, step, start=shown) if len(frames) > 1 else None
    digest, payload = row_payload(key, analysis, list(frame_numbers))
    file = component_files.publish(served_folder(), digest, payload)
    first = st.session_state.get("_row_sent") != file  # the page's first run of this analysis: no fetch to wait for
    st.session_state["_row_sent"] = file
    args = {
        "report_shown": not shown, "files": files_url(), "file": file, "classical": classical,
        "state": state(layer, channel, step, options), "controls": sidebar.CONTROL_LABELS,
        "choices": {"layer": {text: name for name, text in layer_labels.items()},
                    "normalisation": list(flowviz.NORMALISATIONS), "colouring": list(sidebar.COLOURINGS),
                    "panel_px": list(sidebar.PANEL_SIZES)},
    }
    component()(key=SHOWN, data=component_files.pack(args, payload if first else b""), on_shown_change=_shown)
    return shown


def load_code() -> None:
    """Mount an empty row (no data: it draws nothing) so that the page loads the row's code while it renders the
    sidebar: called before the sidebar's controls, it lets the real row, which follows them, paint at once."""
    component()(key="main_row_code")


def _shown() -> None:
    """The page reported the session's first row on screen: the rerun that follows sends the rest of the view."""


@functools.cache
def served_folder() -> Path:
    """The row's private folder of data files (:mod:`viz_app.component_files`); Streamlit serves it at
    :func:`files_url` (a declared v1 component's folder, used for nothing else)."""
    folder = component_files.served_folder("main-row", [])
    components_v1.declare_component("main_row_files", path=str(folder))
    return folder


def files_url() -> str:
    """The URL path under which the page finds the files of :func:`served_folder` (ending in "/")."""
    served_folder()
    base = st.get_option("server.baseUrlPath").strip("/")
    return f"/{base + '/' if base else ''}component/{__name__}.main_row_files/"


@functools.cache
def component():
    """The row's components-v2 element: its markup, style and controller, inline (no file to fetch)."""
    script = component_files.FLOWPAINT.read_text() + (FRONTEND / "row.js").read_text()
    return st.components.v2.component(NAME, html=(FRONTEND / "row.html").read_text(),
                                      css=(FRONTEND / "row.css").read_text(), js=script)
