"""The Dataset page: which channels of a layer respond to which actions across a clip set, from a dissection
(``repflow dissect``): the channel x class heatmap, a channel's direction tuning per class, its top clips (each
opens the explorer on that clip, layer and channel) and the export as a journal figure or CSV. Tables are read
through :mod:`repflow.dissect`; this module only draws them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from repflow.dissect import Dissection
from repflow.dissect.figure import dissection_figure
from repflow.figure import FIGURE_FORMATS, figure_bytes
from repflow.io import atomic_write
from repflow.motion_stats import SECTOR_NAMES, SECTORS
from viz_app import compute
from viz_app.handoff import explorer_request
from viz_app.sources import models_dir, upload_folder

ORDER_LABELS = {"selectivity": "selectivity (most selective first)", "channel": "channel number",
                "class": "response to one class"}
TOP_CLIPS = 5
CLIP_CLASS = "ds_clip_class"  # the class whose top clips are listed (None: all), also chosen by a click on a cell
UPLOAD_NAMES = ("summary.json", "channels.csv", "clips.parquet", "clips.csv")


def bundled_dissections() -> dict[str, Path]:
    """The dissections shipped in the models folder (``NAME.dissection/``), by the model file they belong to."""
    folder = models_dir()
    found = sorted(folder.glob("*.dissection")) if folder.is_dir() else []
    return {path.with_suffix(".pt").name: path for path in found if (path / "summary.json").is_file()}


def stored_upload(files) -> Path:
    """Uploaded dissection files saved together in a folder named by their content, for the loader."""
    digest = hashlib.sha1(b"".join(f.name.encode() + f.getvalue() for f in files)).hexdigest()[:16]
    folder = upload_folder("dissections") / digest
    for upload in files:
        if upload.name in UPLOAD_NAMES:
            atomic_write(folder / upload.name, upload.getvalue())
    return folder


def choose_dissection() -> tuple[Dissection, str | None] | None:
    """The dissection to show (bundled, a folder path or uploaded files) and its bundled model's file name."""
    st.sidebar.header("Dissection")
    bundled = bundled_dissections()
    sources = (["bundled"] if bundled else []) + ["folder", "upload"]
    labels = {"bundled": "bundled with a model", "folder": "a folder on the server", "upload": "upload its files"}
    source = st.sidebar.radio("Open", sources, format_func=labels.get, key="ds_source")
    model = None
    if source == "bundled":
        model = st.sidebar.selectbox("Model", list(bundled), key="ds_model",
                                     index=list(bundled).index("synthetic112_flow_of_flow.pt")
                                     if "synthetic112_flow_of_flow.pt" in bundled else 0)
        folder = bundled[model]
    elif source == "folder":
        text = st.sidebar.text_input("Dissection folder", key="ds_folder",
                                     help="The --out-dir of `repflow dissect`.")
        if not text:
            st.info("Type the path of a dissection folder (the --out-dir of `repflow dissect`) in the sidebar.")
            return None
        folder = Path(text)
    else:
        files = st.sidebar.file_uploader("summary.json, channels.csv and clips.parquet (or clips.csv)",
                                         accept_multiple_files=True, key="ds_upload",
                                         type=["json", "csv", "parquet"])
        if not files:
            st.info("Upload the files of a dissection folder in the sidebar.")
            return None
        folder = stored_upload(files)
    try:
        dissection = compute.dissection(str(folder), _stamp(folder))
    except (OSError, ValueError) as error:
        st.error(f"Cannot open the dissection: {error}")
        return None
    return dissection, model


def _stamp(folder: Path) -> int:
    summary = folder / "summary.json"
    return summary.stat().st_mtime_ns if summary.is_file() else 0


def describe(summary: dict) -> str:
    """What was dissected, in words, from a dissection's summary.json."""
    clip = summary.get("settings", {}).get("clip") or {}
    window = (f", {clip['frames']} frames every {clip['stride']} from the centre, {clip['size']} px centre crop"
              if {"frames", "stride", "size"} <= set(clip) else "")
    data = summary.get("data") or summary.get("dataset")
    return (f"{Path(str(summary.get('model', 'a model'))).name}{f' on {data}' if data else ''}: "
            f"{summary.get('clips_done', '?')} clips, one window each{window}.")


def heatmap_figure(dissection: Dissection, layer: str, order: list[int], channel: int, class_name: str | None):
    """Plotly heatmap of each channel's mean energy per class relative to its preferred class (rows in ``order``),
    with a clickable marker on every cell (customdata: [channel, class]) whose hover gives the numbers; the chosen
    channel's row is outlined, and its cell of ``class_name`` too."""
    import plotly.graph_objects as go

    relative = dissection.class_means(layer).loc[order]
    absolute = dissection.class_means(layer, relative=False).loc[order]
    scores = dissection.channel_scores(layer)
    counts = dissection.channels[dissection.channels["layer"] == layer].pivot(
        index="channel", columns="class", values="clips").loc[order, relative.columns]
    rows = [f"ch {c}" for c in order]
    classes = list(relative.columns)
    figure = go.Figure(go.Heatmap(z=relative.to_numpy().tolist(), x=classes, y=rows, zmin=0, zmax=1,
                                  colorscale="Viridis", hoverinfo="skip",
                                  colorbar={"title": {"text": "energy /<br>channel max"}}))
    xs, ys, text, custom = [], [], [], []
    for label, row_channel in zip(rows, order):
        for name in classes:
            xs.append(name)
            ys.append(label)
            custom.append([row_channel, name])
            text.append(f"channel {row_channel} · {name}<br>mean energy {absolute.loc[row_channel, name]:.4g} "
                        f"({relative.loc[row_channel, name]:.0%} of its max) over "
                        f"{int(counts.loc[row_channel, name])} clips<br>selectivity "
                        f"{scores.loc[row_channel, 'selectivity']:.2f}, most: "
                        f"{scores.loc[row_channel, 'preferred_class']}")
    figure.add_trace(go.Scatter(x=xs, y=ys, mode="markers", customdata=custom, hovertext=text, hoverinfo="text",
                                marker={"size": 14, "opacity": 0.01, "color": "white"}, showlegend=False,
                                name="cells"))
    if channel in order:
        row = order.index(channel)
        figure.add_shape(type="rect", x0=-0.5, x1=len(classes) - 0.5, y0=row - 0.5, y1=row + 0.5,
                         line={"color": "red", "width": 2})
        if class_name in classes:
            column = classes.index(class_name)
            figure.add_shape(type="rect", x0=column - 0.5, x1=column + 0.5, y0=row - 0.5, y1=row + 0.5,
                             line={"color": "red", "width": 4})
    figure.update_layout(height=max(320, 22 * len(order) + 160), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         yaxis={"autorange": "reversed", "title": "channel", "type": "category"},
                         xaxis={"title": "class", "type": "category"}, clickmode="event+select",
                         hoverdistance=-1,  # hover and click take the nearest cell centre: the cell under the cursor
                         title={"text": f"{layer}: mean energy per class ÷ the channel's largest"})
    return figure


def tuning_figure(dissection: Dissection, layer: str, channel: int, class_name: str | None = None):
    """Polar plot of one channel's direction tuning per class (0° = right, counter-clockwise as on screen); the line
    of ``class_name`` drawn bold."""
    import plotly.graph_objects as go

    tuning = dissection.tuning(layer, channel)
    angles = [k * 360 / SECTORS for k in range(SECTORS + 1)]
    figure = go.Figure()
    for name, shares in tuning.iterrows():
        values = shares.to_numpy(dtype=float)
        figure.add_trace(go.Scatterpolar(r=np.append(values, values[0]).tolist(), theta=angles, name=name,
                                         mode="lines+markers", line={"width": 4 if name == class_name else 2},
                                         hovertemplate=f"{name}<br>%{{theta}}°: %{{r:.0%}} of |flow|²<extra></extra>"))
    figure.update_layout(
        height=420, margin={"l": 30, "r": 30, "t": 50, "b": 30},
        title={"text": f"channel {channel}: share of |flow|² per direction"},
        polar={"angularaxis": {"direction": "counterclockwise", "rotation": 0, "tickvals": angles[:-1],
                               "ticktext": list(SECTOR_NAMES)}, "radialaxis": {"tickformat": ".0%"}},
    )
    return figure


def export_table(dissection: Dissection, layer: str, order: list[int]) -> pd.DataFrame:
    """The heatmap's numbers as a table: per channel, mean energy per class, selectivity and preferred class."""
    means = dissection.class_means(layer, relative=False).loc[order]
    scores = dissection.channel_scores(layer).loc[order]
    return pd.concat([means.add_prefix("energy_mean:"), scores], axis=1)


def clicked_cell(event) -> tuple[int, str] | None:
    """The (channel, class) of the heatmap cell the user clicked, from ``st.plotly_chart``'s selection."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):  # no chart event (AppTest) or no selection
        return None
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, (list, tuple)) and len(custom) == 2:
            return int(custom[0]), str(custom[1])
    return None


def settle_choice(layer: str, order: list[int], classes: list[str], clicked: tuple[int, str] | None):
    """The channel and class shown below the heatmap: a newly clicked cell's, else the pickers' (first: the most
    selective channel, all classes). Settled before the heatmap is drawn: Streamlit gives a chart whose figure
    changed a new identity, so a click's rerun must draw the figure that was clicked."""
    key = f"ds_channel_{layer}"
    if clicked is not None and clicked != st.session_state.get("_ds_clicked"):
        st.session_state[key], st.session_state[CLIP_CLASS] = clicked
    st.session_state["_ds_clicked"] = clicked  # a selection kept by an unchanged figure is not new on later runs
    if st.session_state.get(key) not in order:
        st.session_state[key] = order[0]
    if st.session_state.get(CLIP_CLASS) not in classes:
        st.session_state[CLIP_CLASS] = None
    return int(st.session_state[key]), st.session_state[CLIP_CLASS]


def pickers(layer: str, order: list[int], classes: list[str]) -> None:
    """The channel picker and the class of the listed clips (a click on a cell sets both)."""
    channel_column, class_column = st.columns(2)
    channel_column.selectbox("Channel", order, key=f"ds_channel_{layer}", format_func=lambda c: f"channel {c}")
    class_column.selectbox("Clips of", [None, *classes], key=CLIP_CLASS,
                           format_func=lambda c: "all classes" if c is None else c, placeholder="all classes")


MISSING_CLIP = ("The clip is not on this server. The bundled dissections were made on the synthetic test set, which "
                "`repflow synth` remakes byte for byte (models/README.md has the command).")


def top_clips_section(dissection: Dissection, layer: str, channel: int, class_name: str | None, model: str | None,
                      explorer) -> None:
    """The clips (of ``class_name``, or all) where the channel moves most, each with a link opening it in the
    explorer."""
    st.subheader(f"Top clips of channel {channel}{f' in {class_name}' if class_name else ''}")
    top = dissection.top_clips(layer, channel, TOP_CLIPS, class_name=class_name)
    st.dataframe(top, hide_index=True, width="stretch")
    if model is None:
        st.caption("Opening a clip in the explorer needs a dissection bundled with a model in the models folder.")
        return
    for position, row in top.iterrows():
        clip = dissection.clip_path(row["clip"])
        label = f"Open {Path(row['clip']).name} in the explorer ({layer}, channel {channel})"
        if clip is None or explorer is None:
            st.button(label, disabled=True, key=f"ds_open_{position}", help=MISSING_CLIP)
            continue
        st.page_link(explorer, label=label, icon=":material/animation:",
                     query_params=explorer_request(clip, model=model, layer=layer, channel=channel))


@st.cache_data(show_spinner="Drawing the figure…", max_entries=32)
def figure_file(folder: str, stamp: int, layer: str, channel: int, order: tuple[int, ...], fmt: str) -> bytes:
    """The journal figure (:func:`repflow.dissect.figure.dissection_figure`) as ``fmt`` bytes, once per choice."""
    return figure_bytes(dissection_figure(compute.dissection(folder, stamp), layer, channel, order=list(order)), fmt)


def export_section(dissection: Dissection, layer: str, channel: int, order: list[int]) -> None:
    """Downloads: the heatmap and tuning as a journal figure (PNG / PDF / SVG: 7 pt text, 7 in wide, TrueType fonts
    in PDF, text in SVG, as ``repflow figure``) and their numbers as CSV."""
    st.subheader("Export")
    stem = f"dissection_{layer.replace(':', '_').replace('.', '_')}_ch{channel}"
    fmt_column, figure_column, heatmap_column, tuning_column = st.columns(4)
    fmt = fmt_column.radio("Figure format", FIGURE_FORMATS, format_func=str.upper, key="ds_fig_format",
                           horizontal=True)
    data = figure_file(str(dissection.folder), _stamp(dissection.folder), layer, channel, tuple(order), fmt)
    figure_column.download_button(f"Figure ({fmt.upper()})", data, file_name=f"{stem}.{fmt}", key="ds_fig")
    heatmap_column.download_button("Heatmap (CSV)", export_table(dissection, layer, order).to_csv().encode(),
                                   file_name=f"{stem}_heatmap.csv", key="ds_csv_heatmap")
    tuning_column.download_button("Tuning (CSV)", dissection.tuning(layer, channel).to_csv().encode(),
                                  file_name=f"{stem}_tuning.csv", key="ds_csv_tuning")


def page(explorer=None) -> None:
    """The Dataset page; ``explorer`` is the explorer's `st.Page`, which the top clips link to."""
    st.set_page_config(page_title="repflow · dataset dissection", page_icon="📊", layout="wide")
    st.title("Dataset: which channels respond to which actions")
    chosen = choose_dissection()
    if chosen is None:
        return
    dissection, model = chosen
    st.caption(f"{describe(dissection.summary)} Energy = mean |flow|² of a channel over a clip's window; "
               "selectivity = (largest class mean − mean of the other classes' means) / (their sum): 0 = every "
               "class moves it alike, 1 = only one does.")
    layer = st.selectbox("Layer", dissection.layers, key="ds_layer")
    left, right = st.columns([2, 1])
    by = right.radio("Sort channels by", list(ORDER_LABELS), format_func=ORDER_LABELS.get, key="ds_order")
    class_name = right.selectbox("Class", dissection.classes, key="ds_class") if by == "class" else None
    order = dissection.channel_order(layer, by, class_name=class_name)
    chart = f"ds_heatmap_{layer}"
    channel, class_name = settle_choice(layer, order, dissection.classes, clicked_cell(st.session_state.get(chart)))
    with left:
        st.plotly_chart(heatmap_figure(dissection, layer, order, channel, class_name), key=chart,
                        on_select="rerun", selection_mode="points")
    pickers(layer, order, dissection.classes)
    scores = dissection.channel_scores(layer).loc[channel]
    note = f" · agreement with TV-L1 r {scores['agreement']:.2f}" if "agreement" in scores else ""
    st.markdown(f"**Channel {channel}**: selectivity {scores['selectivity']:.2f}, responds most to "
                f"**{scores['preferred_class']}**, mean energy {scores['energy']:.4g}{note}")
    tuning, clips = st.columns([1, 1])
    with tuning:
        st.plotly_chart(tuning_figure(dissection, layer, channel, class_name), key="ds_tuning")
    with clips:
        top_clips_section(dissection, layer, channel, class_name, model, explorer)
    export_section(dissection, layer, channel, order)
