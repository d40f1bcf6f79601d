"""Export for papers: the figure grid as PNG / PDF / SVG and the animation as GIF / MP4, built by
:mod:`repflow.figure` (the same code as ``repflow figure``), so downloads equal the command's files."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Callable

import numpy as np
import streamlit as st

from repflow import figure
from repflow.analysis import ClipAnalysis
from repflow.flowviz import PanelOptions
from viz_app import compute
from viz_app.ranking import RANKINGS, Ranking

MIME = {"png": "image/png", "pdf": "application/pdf", "svg": "image/svg+xml", "gif": "image/gif", "mp4": "video/mp4"}
DEFAULT_ROWS = 4
DEFAULT_COLUMNS = 6


def evenly_spaced(count: int, wanted: int) -> list[int]:
    """Up to ``wanted`` indices spread over ``range(count)``, first and last included."""
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, min(wanted, count))})


def export_section(
    analysis: ClipAnalysis, layer: str, channel: int, options: PanelOptions, *, clip_name: str, key: tuple,
    ranked: Ranking, frame_numbers: list[int] | None = None,
) -> None:
    """Figure and animation settings with their download buttons; ``key`` identifies the analysis (model, clip,
    window, probe), so an animation built for another one is never offered; the figure's rows default to
    ``channel`` and the next best of the sidebar's ``ranked`` channels; ``frame_numbers`` (the window's frames in
    the clip) head the figure's columns."""
    flows = analysis.flows[layer]
    stem = f"repflow_{analysis.layer_labels[layer].replace(' ', '_').replace('/', 'of')}_{clip_name.rsplit('.', 1)[0]}"
    with st.expander("Export for papers", expanded=False):
        st.markdown("**Figure**: rows = channels, columns = time steps (as the paper's flow figures).")
        left, right = st.columns(2)
        others = [c for c in ranked.order if c != channel]
        # Keyed by the analysis (model, clip, window, probe) and layer, each with its own channels, steps and
        # ranking, and for the rows by the ranking too: the default rows are always the shown view's best channels.
        view = hashlib.blake2b(repr((key, layer)).encode(), digest_size=8).hexdigest()
        channels = left.multiselect(
            "Channels (rows)",
            list(range(len(flows))),
            default=[channel] + others[: DEFAULT_ROWS - 1],
            help=f"By default the shown channel and the next best by {RANKINGS[ranked.by]}.",
            key=f"export_channels_{view}_{ranked.by}",
        )
        steps = right.multiselect(
            "Time steps (columns)",
            list(range(flows.shape[1])),
            default=evenly_spaced(flows.shape[1], DEFAULT_COLUMNS),
            key=f"export_steps_{view}",
        )
        left, middle, right = st.columns(3)
        show_frames = left.checkbox("Frames row", value=True, key="export_frames")
        reference = left.checkbox("TV-L1 row", value=False, key="export_tvl1",
                                  help="Classical OpenCV TV-L1 between the same frames, under the frames row "
                                  "(in input pixels per step; computed when you download).")
        legend = left.checkbox("Colour-wheel legend", value=True, key="export_legend")
        width_in = middle.number_input("Width (inches)", 2.0, 20.0, 7.0, step=0.5, key="export_width")
        dpi = right.number_input("DPI", 50, 600, 300, step=50, key="export_dpi")
        if not channels or not steps:
            st.info("Choose at least one channel and one time step.")
        else:
            tvl1_of_pair = tvl1_once_per_pair()

            def build():
                return figure.paper_figure(
                    [(clip_name, analysis)], layer=layer, channels=sorted(channels), steps=sorted(steps),
                    options=options, show_frames=show_frames,
                    reference=reference, tvl1_of_pair=tvl1_of_pair, legend=legend, width_in=width_in,
                    frame_numbers=frame_numbers,
                )

            buttons = st.columns(len(figure.FIGURE_FORMATS))
            for column, fmt in zip(buttons, figure.FIGURE_FORMATS):
                column.download_button(
                    f"Download {fmt.upper()}", data=lambda fmt=fmt: figure.figure_bytes(build(), fmt, dpi=int(dpi)),
                    file_name=f"{stem}.{fmt}", mime=MIME[fmt], on_click="ignore", key=f"download_{fmt}",
                )
        animation_part(analysis, channel, options, stem=stem, key=key, frame_numbers=frame_numbers)


def tvl1_once_per_pair() -> Callable[[np.ndarray], np.ndarray]:
    """:func:`repflow.figure.pair_tvl1` remembered by the frames' content, so the PNG, PDF and SVG downloads of
    one figure share one TV-L1 pass (a download runs outside the script run, from the closure its button keeps)."""
    done: dict[bytes, np.ndarray] = {}

    def tvl1_of_pair(pair: np.ndarray) -> np.ndarray:
        key = hashlib.blake2b(pair.tobytes(), digest_size=16).digest()
        if key not in done:
            done[key] = figure.pair_tvl1(pair)
        return done[key]

    return tvl1_of_pair


def animation_part(
    analysis: ClipAnalysis, channel: int, options: PanelOptions, *, stem: str, key: tuple,
    frame_numbers: list[int] | None = None,
) -> None:
    """Build (with a progress bar) and offer the animation of frames beside flows at ``channel``, labelled with the
    clip's ``frame_numbers`` as the figure is."""
    st.markdown("**Animation**: frame | flow layers | classical TV-L1, one image per time step.")
    left, middle, right = st.columns(3)
    fmt = left.radio("Format", ["gif", "mp4"], horizontal=True, key="animation_format", format_func=str.upper)
    fps = middle.number_input("Frames per second", 1.0, 30.0, 4.0, key="animation_fps")
    with_classical = right.checkbox("With classical TV-L1", value=True, key="animation_classical")
    settings = (key, channel, options, fmt, fps, with_classical)
    if st.button("Build animation", key="build_animation"):
        st.session_state["animation"] = (
            settings,
            build_animation(analysis, channel, options, fmt, fps, with_classical, frame_numbers=frame_numbers),
        )
    built = st.session_state.get("animation")
    if built and built[0] == settings:
        data = built[1]
        if fmt == "gif":
            st.image(data, caption="animation preview")
        st.download_button(
            f"Download {fmt.upper()}", data=data, file_name=f"{stem}_ch{channel}.{fmt}", mime=MIME[fmt],
            on_click="ignore", key="download_animation",
        )


def build_animation(
    analysis: ClipAnalysis, channel: int, options: PanelOptions, fmt: str, fps: float, with_classical: bool, *,
    frame_numbers: list[int] | None = None,
) -> bytes:
    """Classical flows of every step (cached; progress bar), then the encoded animation (with the colour legend
    beside the panels when the page shows it)."""
    classical = None
    n_pairs = len(analysis.frames) - 1
    if with_classical:
        progress = st.progress(0.0, text="Classical TV-L1 of the clip…")
        classical = []
        for step in range(n_pairs):
            classical.append(compute.classical_flow(analysis.frames[step : step + 2]))
            progress.progress((step + 1) / n_pairs, text=f"Classical TV-L1 of the clip: {step + 1}/{n_pairs}")
        progress.empty()
    with st.spinner(f"Encoding the {fmt.upper()}…"):
        panel = replace(options, size=min(options.size, 224))
        classical = np.stack(classical) if classical is not None else None
        images = figure.animation_panels(analysis, channels=[channel], options=panel, classical=classical,
                                         frame_numbers=frame_numbers, legend=options.style.legend)
        return figure.animation_bytes(images, fmt, fps=fps)
