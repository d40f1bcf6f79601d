"""The explorer's server-drawn parts (the main row is drawn in the page: :mod:`viz_app.main_row`): what a probe is,
the channel grid, top-5 predictions and the learned TV-L1 parameters; ``panel_row`` lays panels out side by side
(the Compare page). Only draws: everything it shows is computed (and cached) elsewhere."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from repflow import flowviz
from repflow.analysis import PROBE_PREFIX, ClipAnalysis, probe_key
from repflow.figure import mosaic
from repflow.flowviz import PanelOptions
from repflow.probe import INPUT, ProbeOptions
from viz_app import compute
from viz_app.ranking import RANKING_HELP, Ranking, rank_channels
from viz_app.sidebar import queue
from viz_app.sources import escape_markdown

GRID_COLUMNS = 8
GRID_TILE_PX = 96
GRID_ORDERS = ("channel number", "motion energy at this step", "agreement with TV-L1 over the clip")


def probe_note(label: str, *, only_probes: bool) -> str:
    """What the shown probe is (and, for a model without flow layers, why one is shown)."""
    defaults = ProbeOptions()
    note = (
        f"{label} is a probe: a frozen TV-L1 layer (θ {defaults.theta}, λ {defaults.lam}, τ {defaults.tau}, no "
        "training) on that module's output; at 'input' it is classical single-scale TV-L1 of the frames."
    )
    if only_probes:
        note = ("This model has no flow layer, so a flow probe shows the motion of its features (it opens where the "
                "paired flow model has its flow layer when the model's config names that stage; choose another point "
                f"under Flow). {note}")
    return note


def panel_row(widths: list[int]) -> list:
    """Containers of the given widths in pixels side by side (wrapping onto a new row when the page is too narrow),
    so "Panel size" sets the size panels are drawn at."""
    row = st.container(horizontal=True, gap="small")
    return [row.container(width=width) for width in widths]


def probe_notes(analysis: ClipAnalysis, step: int) -> None:
    """Under the main row: what a shown probe is and, for the input probe, how close it is to OpenCV's TV-L1 of the
    same step (a check that the probe works)."""
    probes = [name for name in analysis.flows if name.startswith(PROBE_PREFIX)]
    if not probes:
        return
    st.caption(probe_note(analysis.layer_labels[probes[0]], only_probes=len(probes) == len(analysis.flows)))
    probe = analysis.flows.get(probe_key(INPUT))
    if probe is None or step >= probe.shape[1] or step + 1 >= len(analysis.frames):
        return
    try:
        flow = compute.classical_step(analysis.frames, step)
    except Exception as error:  # a failing comparison must not take the page down with it
        st.caption(f"Classical TV-L1 failed: {error}")
        return
    difference, reference, cosine = agreement(probe[0, step], flow)
    st.caption(
        f"Input probe vs OpenCV at step {step}: mean end-point difference {difference:.3g} px (zero flow would be "
        f"{reference:.3g} px), direction agreement (cosine) {cosine:.2f}. A working probe is well under the "
        "zero-flow figure."
    )


def agreement(flow: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """How close ``flow`` (H, W, 2) is to ``reference``: the mean end-point difference, the same for a zero
    field (the scale to judge it by), and the cosine between the two fields as vectors (1 = same directions)."""
    difference = float(np.linalg.norm(flow - reference, axis=-1).mean())
    zero = float(np.linalg.norm(reference, axis=-1).mean())
    norms = float(np.linalg.norm(flow) * np.linalg.norm(reference))
    return difference, zero, float((flow * reference).sum() / norms) if norms > 0 else 0.0


def channel_grid(
    analysis: ClipAnalysis, layer: str, channel: int, step: int, options: PanelOptions, *, key: tuple
) -> None:
    """Every channel of ``layer`` at ``step`` as one image, sortable by motion energy or agreement with TV-L1;
    choosing a channel below it selects that channel. ``key`` identifies the analysis in the image cache."""
    flows = analysis.flows[layer]
    which = "The only channel" if len(flows) == 1 else f"All {len(flows)} channels"
    st.subheader(f"{which} of {analysis.layer_labels[layer]} at step {step}")
    order = st.radio("Sort", list(GRID_ORDERS), horizontal=True, key="grid_sort", help=RANKING_HELP)
    ranked = rank_channels(analysis, layer, "agreement", key=key) if order == GRID_ORDERS[2] else None
    if ranked is not None and ranked.note:
        st.info(ranked.note)
    labels = [analysis.channel_label(layer, index) for index in range(len(flows))]
    channels, png = grid_image(key, layer, step, options, order, flows, analysis.frames[step], labels, ranked)
    by_agreement = ranked is not None and ranked.agreement is not None
    caption = "agreement with TV-L1 r over the clip" if by_agreement else "motion energy E at this step"
    st.image(png, caption=f"channel · {caption}", width="content", output_format="PNG")
    st.pills(
        f"Select a channel (now {channel})",
        channels,
        key="grid_pick",
        on_change=pick_from_grid,
        format_func=labels.__getitem__,
    )


@st.cache_data(show_spinner=False, max_entries=128)
def grid_image(
    key: tuple,
    layer: str,
    step: int,
    options: PanelOptions,
    order: str,
    _flows: np.ndarray,
    _frame: np.ndarray,
    _labels: list[str],
    _ranked: Ranking | None = None,
) -> tuple[list[int], bytes]:
    """(channel order, PNG of the mosaic) of every channel at ``step``; cached, as it does not depend on the
    selected channel (``_flows``, ``_frame``, the channel ``_labels`` and the agreement ranking ``_ranked`` are
    identified by ``key``, ``layer``, ``step`` and ``order``)."""
    channels = list(range(len(_flows)))
    if order == GRID_ORDERS[1]:
        channels = [int(c) for c in flowviz.rank_by_energy(_flows[:, step])]
    elif _ranked is not None:
        channels = list(_ranked.order)
    energy = flowviz.flow_energy(_flows[:, step])
    notes = [f"E {energy[index]:.2g}" for index in range(len(_flows))]
    if _ranked is not None and _ranked.agreement is not None:
        notes = [f"r {r:.2f}" for r in _ranked.agreement]
    tile = replace(options, size=GRID_TILE_PX)
    tiles = [flowviz.render_panel(_flows, index, step, tile, frame=_frame)[0] for index in channels]
    image = mosaic(tiles, [f"{_labels[index]} {notes[index]}" for index in channels], columns=GRID_COLUMNS)
    return channels, compute.png(image)


def pick_from_grid() -> None:
    """Callback of the grid's channel chooser: select the picked channel and clear the chooser, so it acts
    as a row of buttons and never holds a channel that disagrees with the sidebar."""
    picked = st.session_state.get("grid_pick")
    if picked is not None:
        queue("channel", int(picked))
        st.session_state["grid_pick"] = None


def predictions(analysis: ClipAnalysis, names: list[str]) -> None:
    """The model's five most probable classes."""
    st.subheader("Top-5 predictions")
    if analysis.probabilities is None:
        st.info("Not a classifier output: the model does not return (1, classes) logits, so there are no predictions.")
        return
    top = np.argsort(-analysis.probabilities)[:5]
    lines = ["| class | probability | |", "|---|---:|---|"]
    for index in top:
        name = escape_markdown(names[index]) if index < len(names) else f"class {index}"
        probability = float(analysis.probabilities[index])
        lines.append(f"| {name} | {probability:.3f} | {bar(probability)} |")
    st.markdown("\n".join(lines))


def bar(fraction: float, width: int = 20) -> str:
    """``fraction`` (0–1) as a bar of block characters, ``width`` at 1."""
    return "█" * int(round(fraction * width)) or "▏"


def learned_parameters(model, labels: dict[str, str]) -> None:
    """θ, λ and τ of every flow layer, as learned (or as initialised for a frozen layer)."""
    from repflow.inspect import learned_parameters as read

    st.subheader("Learned TV-L1 parameters")
    rows = [
        f"| {escape_markdown(labels.get(name, name))} | {values['theta']:.4g} | {values['lam']:.4g} | "
        f"{values['tau']:.4g} |"
        for name, values in read(model).items()
    ]
    if rows:
        st.markdown("\n".join(["| layer | θ (theta) | λ (lambda) | τ (tau) |", "|---|---:|---:|---:|", *rows]))
    else:
        st.caption("This model has no repflow flow layer, so no learned θ, λ, τ (a probe uses the initial values).")
