"""Channel × time browser: every channel and step of one flow layer sent to the page once, browsed in the browser.

:func:`build_browser` is pure (numpy in, JSON-able data and bytes out): the layer's flows packed as int16 (one
step size per channel), the colour scale of every panel, labels, and the plotly figure of the first view (input
frame | direction colours | speed). In the page, a small controller (``channel_browser_frontend/browser.js``)
decodes the flows and, on a channel or step change, recolours the two flow pictures itself (with
``frontend_common/flowpaint.js``, the main row's port of :mod:`repflow.flowviz`'s colours) and swaps the
figure's images (``Plotly.relayout`` of three image sources, about one animation frame): no Streamlit rerun, no
server work. Hover reads out (u, v, |u|) of a cell; plotly's zoom and pan act on the three panels together; the
speed colour bar, in feature-map pixels per step, is drawn by the controller beside the figure.

:func:`show_channel_browser` places it in the Streamlit page as a custom component whose folder holds the
controller, flowpaint.js, the plotly.js that ships with the ``plotly`` package, and one file per layer's data: the page
fetches a layer's file once, and a Streamlit rerun sends only its name and the page's channel and step.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import flow_vis
import numpy as np
import streamlit as st
import streamlit.components.v1 as components
from PIL import Image

from repflow import flowviz
from viz_app import component_files
from viz_app.compute import png_uri

FRONTEND = Path(__file__).resolve().parent / "channel_browser_frontend"
FIGURE_HEIGHT_PX = 400
WHEEL_PX = 64
SCALE_TEXT = {
    "clip": "99th percentile of |u| over this channel's {steps} steps (per-channel clip scale)",
    "frame": "99th percentile of |u| in this panel (per-frame scale: amounts not comparable)",
    "fixed": "fixed scale (comparable across channels, layers and clips)",
}


@dataclass(frozen=True)
class BrowserData:
    """What the page gets once per layer: ``flows`` (C, T, H, W, 2) int16 bytes, little-endian, which times
    ``meta["quant"][c]`` are the flows of channel c; ``meta``, JSON-able labels and scales; ``figure``, the plotly
    figure (JSON text) of the first view."""

    flows: bytes
    meta: dict
    figure: str


def step_labels(frame_numbers: list[int], steps: int) -> list[str]:
    """The clip's frames each step of a layer with ``steps`` steps compares ("frames 4→6" for flow-of-flow)."""
    span = len(frame_numbers) - steps
    if span < 1:
        raise ValueError(f"{steps} flow steps need more than {len(frame_numbers)} frame numbers")
    return [f"frames {frame_numbers[t]}→{frame_numbers[t + span]}" for t in range(steps)]


def jpeg_uri(image: np.ndarray, quality: int = 85) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def build_browser(
    flows: np.ndarray,
    frame_numbers: list[int],
    *,
    scale: flowviz.Normalisation = "clip",
    fixed_max: float | None = None,
    frames: np.ndarray | None = None,
    layer_label: str = "flow",
    channel_labels: list[str] | None = None,
    channel: int | None = None,
    step: int = 0,
) -> BrowserData:
    """Everything the page needs to browse ``flows`` (C, T, H, W, 2) of one layer.

    ``frame_numbers``: the clip's numbers of the window's frames (step t compares frame t with the following
    ones); ``scale``: a :data:`repflow.flowviz.NORMALISATIONS` entry (``fixed_max`` for "fixed"); ``frames``
    (T0, S, S, 3) uint8: the input crops, shown beside the flows; ``channel`` (default: the one with the most
    motion energy) and ``step``: the first view.
    """
    flows = flowviz.check_flow(flows, name="flows")
    if flows.ndim != 5:
        raise ValueError(f"flows must have shape (C, T, H, W, 2), got {flows.shape}")
    channels, steps, height, width = flows.shape[:4]
    codes, quant = component_files.quantise(flows)
    decoded = codes * quant.reshape(-1, 1, 1, 1, 1)  # what the page shows: float64, as in the browser
    scales = flowviz.panel_scales(flows, scale, fixed_max=fixed_max)
    labels = channel_labels or [f"ch {c}" for c in range(channels)]
    if channel is None:
        channel = int(flowviz.rank_by_energy(flows)[0])
    if not (0 <= channel < channels and 0 <= step < steps):
        raise ValueError(f"no channel {channel} / step {step} in flows of {channels} channels and {steps} steps")
    frame_px = int(frames.shape[1]) if frames is not None else None
    meta = {
        "shape": [channels, steps, height, width],
        "quant": quant.tolist(),
        "scales": scales.tolist(),
        "scale_mode": scale,
        "scale_text": SCALE_TEXT[scale].format(steps=steps),
        "still_fraction": flowviz.STILL_FRACTION,
        "units": flowviz.FLOW_UNITS,
        "wheel": flow_vis.make_colorwheel().astype(int).tolist(),
        "speed_colours": flowviz.magnitude_lut().tolist(),
        "layer": layer_label,
        "channel_labels": labels,
        "energy_order": [int(c) for c in flowviz.rank_by_energy(flows)],
        "step_labels": step_labels(frame_numbers, steps),
        "frames": [jpeg_uri(frames[t]) for t in range(steps)] if frames is not None else [],
        "frame_px": frame_px,
        "cell_px": frame_px / height if frame_px else None,
    }
    meta["digest"] = hashlib.sha256(codes.tobytes() + repr(sorted(meta.items())).encode()).hexdigest()[:16]
    meta["start"] = {"channel": channel, "step": step}  # not in the digest: a new start only moves the view
    figure = first_view(decoded[channel, step], float(scales[channel, step]), meta)
    return BrowserData(codes.tobytes(), meta, figure)


def panel_image(source: str, column: int, width: int, height: int) -> dict:
    """A layout image filling the cell grid of subplot ``column`` (1-based)."""
    axis = "" if column == 1 else str(column)
    return {
        "source": source, "xref": f"x{axis}", "yref": f"y{axis}", "x": -0.5, "y": -0.5, "sizex": width,
        "sizey": height, "sizing": "stretch", "xanchor": "left", "yanchor": "top", "layer": "below",
    }


def first_view(field: np.ndarray, scale: float, meta: dict) -> str:
    """The plotly figure (JSON) of one panel set: input frame | direction colours | speed.

    The three pictures are layout images (a switch replaces their sources: plotly redraws only the images, not
    the traces and axes); an invisible heatmap over each flow panel gives the hover events. The speed colour bar
    is drawn by the page beside the figure."""
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.subplots import make_subplots

    height, width = field.shape[:2]
    flow = field.astype(np.float32)
    blank = png_uri(np.full((height, width, 3), 255, np.uint8))
    sources = (
        meta["frames"][meta["start"]["step"]] if meta["frames"] else blank,
        png_uri(flowviz.flow_to_rgb_still_white(flow, scale)),
        png_uri(flowviz.magnitude_to_rgb(flow, scale)),
    )
    titles = ("input (first frame of the step)", "direction (hue) and speed", "speed |u|")
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.06)
    cells = np.zeros((height, width)).tolist()
    for column in (1, 2, 3):
        hover = "skip" if column == 1 else "none"  # hover events without plotly's label: the page writes its own
        figure.add_trace(go.Heatmap(z=cells, opacity=0, showscale=False, hoverinfo=hover), 1, column)
    figure.update_xaxes(range=[-0.5, width - 0.5], constrain="domain", showgrid=False, zeroline=False, row=1, col=1)
    figure.update_yaxes(range=[height - 0.5, -0.5], scaleanchor="x", constrain="domain", showgrid=False,
                        zeroline=False, row=1, col=1)
    for column in (2, 3):  # zoom and pan act on the three panels together
        figure.update_xaxes(matches="x", constrain="domain", showgrid=False, zeroline=False, row=1, col=column)
        figure.update_yaxes(matches="y", showticklabels=False, ticks="", constrain="domain", showgrid=False,
                            zeroline=False, row=1, col=column)
    wheel = {
        "source": png_uri(flowviz.color_wheel(WHEEL_PX)), "xref": "x2 domain", "yref": "y2 domain", "x": 1.015,
        "y": 0.0, "xanchor": "left", "yanchor": "bottom", "sizex": 0.13, "sizey": 0.13, "layer": "above",
    }
    figure.update_layout(
        height=FIGURE_HEIGHT_PX, margin={"l": 30, "r": 10, "t": 56, "b": 30}, font={"size": 12},
        plot_bgcolor="white", paper_bgcolor="white", dragmode="zoom", uirevision="keep", hovermode="closest",
        images=[*(panel_image(source, column, width, height) for column, source in enumerate(sources, 1)), wheel],
    )
    return pio.to_json(figure, validate=False)


@functools.cache
def served_folder() -> Path:
    """The controller's files, flowpaint.js and plotly.min.js of the installed ``plotly`` in one private folder
    (:func:`viz_app.component_files.served_folder`)."""
    import plotly

    plotly_js = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    sources = [*sorted(FRONTEND.iterdir()), component_files.FLOWPAINT, plotly_js]
    return component_files.served_folder("channel-browser", sources)


def pack(data: BrowserData) -> bytes:
    """One file for the page (:func:`viz_app.component_files.pack`): {"meta", "figure"}, then the int16 flows."""
    return component_files.pack({"meta": data.meta, "figure": data.figure}, data.flows)


def unpack(payload: bytes) -> BrowserData:
    """The inverse of :func:`pack` (what the page's controller reads)."""
    header, flows = component_files.unpack(payload)
    return BrowserData(flows, header["meta"], header["figure"])


def publish(data: BrowserData) -> str:
    """Write ``data`` once into the served folder and return its path relative to the component's page."""
    return component_files.publish(served_folder(), data.meta["digest"], pack(data))


@functools.cache
def component():
    return components.declare_component("channel_browser", path=str(served_folder()))


def show_channel_browser(
    data: BrowserData, *, channel: int, step: int, key: str = "channel_browser", order: Sequence[int] | None = None,
    order_name: str = "motion energy",
) -> tuple[int, int] | None:
    """Place the browser in the page, showing ``channel`` and ``step``. The data travel once per layer, as a file;
    a rerun with the same data and selection leaves the page's view as the user left it. ``order`` (default: the
    data's motion-energy order) is the channel order its slider can follow, ``order_name`` what it ranks by.
    Returns the (channel, step) the user asked the page to show with the browser's button, once per click, else
    None."""
    # Plain values and a tuple only: Streamlit tests any other argument (a list, a dict) for a dataframe, and the
    # first such test in a process imports pandas (half a second on the first view of a fresh server).
    asked = component()(file=publish(data), digest=data.meta["digest"], channel=channel, step=step,
                        order=tuple(order) if order is not None else None, order_name=order_name, key=key,
                        default=None)
    if not isinstance(asked, dict) or asked.get("request") == st.session_state.get(f"{key}_request"):
        return None
    st.session_state[f"{key}_request"] = asked.get("request")
    return int(asked["channel"]), int(asked["step"])


def browser_section(
    analysis, layer: str, channel: int, step: int, options, *, frame_numbers: list[int], key: tuple,
    order: Sequence[int] | None = None, order_name: str = "motion energy",
) -> tuple[int, int] | None:
    """The browser of ``layer`` of ``analysis`` (a :class:`repflow.analysis.ClipAnalysis`) under a heading,
    opening at the page's ``channel`` and ``step`` with the page's normalisation (``options``: the sidebar's
    PanelOptions) and channel ranking (``order``, ranked by ``order_name``). ``key`` identifies the analysis in the
    cache. Returns the (channel, step) the user asked the page to show, or None."""
    flows = analysis.flows[layer]
    st.subheader(f"Browse all {len(flows)} channels × {flows.shape[1]} steps of {analysis.layer_labels[layer]}")
    st.caption(
        "Sliders, hover and zoom act in your browser (no reload). Hover a cell for its flow (u, v, |u|) in "
        f"{flowviz.FLOW_UNITS}; positive u moves right, positive v down."
    )
    labels = [analysis.channel_label(layer, c) for c in range(len(flows))]
    try:
        data = cached_browser(key, layer, options.normalisation, options.fixed_max, flows, analysis.frames,
                              list(frame_numbers), analysis.layer_labels[layer], labels)
        return show_channel_browser(data, channel=min(channel, len(flows) - 1), step=min(step, flows.shape[1] - 1),
                                    order=order, order_name=order_name)
    except Exception as error:  # noqa: BLE001 (the rest of the page stays usable without the browser)
        st.error(f"The channel browser cannot be shown: {error}")
        return None


@st.cache_data(show_spinner="Packing the layer's flows for the browser…", max_entries=8)
def cached_browser(
    key: tuple, layer: str, scale: str, fixed_max: float, _flows, _frames, _numbers, _label, _labels
) -> BrowserData:
    """:func:`build_browser` once per analysis ``key``, ``layer`` and scale (the underscored arguments follow
    from ``key`` and ``layer``)."""
    return build_browser(_flows, _numbers, scale=scale, fixed_max=fixed_max, frames=_frames, layer_label=_label,
                         channel_labels=_labels)
