"""Figures of learned flows for papers: a grid of frames and flows (PNG, PDF, SVG), and animations (GIF, MP4).

The grid follows the flow figures of Piergiovanni & Ryoo, "Representation Flow for Action Recognition"
(CVPR 2019): columns are time steps, headed by the frames they compare, rows are the input frames and the flows
of chosen channels (a titled block per clip), with the colour wheel or a magnitude colour bar and a caption that
states the scale. Laid out at the printed size (a journal column or page wide, 7 pt text, nothing overlapping);
PDF with TrueType fonts, SVG with text. Matplotlib only (its object interface, so no GUI backend and no global
state); no Streamlit. Drawn from a :class:`repflow.analysis.ClipAnalysis`.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from repflow import flowviz
from repflow.analysis import ClipAnalysis
from repflow.classical import tvl1
from repflow.io import atomic_write

FIGURE_FORMATS = ("png", "pdf", "svg")
ANIMATION_FORMATS = ("gif", "mp4")


@dataclass(frozen=True)
class FigureRow:
    """One row of a figure grid: label lines and one uint8 RGB image per column (None = empty cell),
    with an optional note under each image (e.g. the scale of a per-frame panel)."""

    label: str
    images: Sequence[np.ndarray | None]
    notes: Sequence[str] | None = None


@dataclass(frozen=True)
class RowGroup:
    """The rows of one clip, under an optional title (the clip's label) that spans the grid."""

    title: str | None
    rows: Sequence[FigureRow]


@dataclass(frozen=True)
class Legend:
    """What stands right of the grid: the direction wheel, or a colour bar of the magnitude colours up to
    ``bar_max`` (None: the bar reads in fractions of each panel's scale)."""

    kind: str  # "direction" or "magnitude"
    bar_max: float | None = None


def flow_rows(
    flows: np.ndarray,
    *,
    channels: Sequence[int],
    steps: Sequence[int],
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    frames: np.ndarray | None = None,
    channel_labels: Sequence[str] | None = None,
    units: str = flowviz.FLOW_UNITS_SHORT,
) -> list[FigureRow]:
    """One row per channel of ``flows`` (C, T', h, w, 2), one column per step, each cell a panel drawn with
    ``options`` (``frames`` (T, H, W, 3) are used when the style overlays them). A row is labelled with its
    channel (``channel_labels[channel]`` or "ch k") and, for one scale per row, the scale in ``units``; per-frame
    scales are written under each panel."""
    check_indices(channels, len(flows), "channel")
    check_indices(steps, flows.shape[1], "time step")
    rows = []
    for channel in channels:
        images, scales = [], []
        for step in steps:
            frame = frames[step] if frames is not None else None
            image, scale = flowviz.render_panel(flows, channel, step, options, frame=frame)
            images.append(image)
            scales.append(scale)
        title = channel_labels[channel] if channel_labels is not None else f"ch {channel}"
        if options.normalisation == "frame":
            rows.append(FigureRow(label=title, images=images, notes=[f"{scale:.3g}" for scale in scales]))
        else:
            rows.append(FigureRow(label=f"{title}\n{flowviz.scale_note(scales[0], units)}", images=images))
    return rows


def frame_row(frames: np.ndarray, *, steps: Sequence[int], size: tuple[int, int], label: str = "input") -> FigureRow:
    """A row of the input frames at ``steps`` (the first frame of each flow step)."""
    check_indices(steps, len(frames), "frame")
    return FigureRow(label=label, images=[flowviz.resize_image(frames[step], size) for step in steps])


def pair_tvl1(pair: np.ndarray) -> np.ndarray:
    """OpenCV Dual TV-L1 flow (H, W, 2), in pixels, from the first to the second of two frames (2, H, W, 3)."""
    return tvl1(pair)[0]


def reference_row(
    frames: np.ndarray,
    *,
    steps: Sequence[int],
    span: int,
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    tvl1_of_pair: Callable[[np.ndarray], np.ndarray] = pair_tvl1,
) -> FigureRow:
    """A row of classical OpenCV TV-L1 flow between the frames each learned step compares (frame i and
    i + ``span``; ``tvl1_of_pair`` computes it, e.g. from a cache), in input pixels per step, drawn like the learned
    rows (one robust scale over the row unless ``options`` is per frame; a fixed scale in feature-map pixels does
    not apply, so it falls back to the row's)."""
    classical = np.stack([tvl1_of_pair(frames[[i, i + span]]) for i in range(len(frames) - span)])[None]
    row_options = replace(options, normalisation="frame" if options.normalisation == "frame" else "clip")
    return flow_rows(classical, channels=[0], steps=steps, options=row_options, frames=frames,
                     channel_labels=["TV-L1"], units="input px/step")[0]


def check_indices(indices: Sequence[int], count: int, what: str) -> None:
    """Raise ValueError naming ``what`` if an index is outside ``range(count)`` or none is given."""
    if len(indices) == 0:
        raise ValueError(f"choose at least one {what}")
    bad = [index for index in indices if not 0 <= index < count]
    if bad:
        raise ValueError(f"{what} {bad} out of range: there are {count} ({what}s 0..{count - 1})")


# Layout of a figure, in inches and points: journal figures are set at their final size (a column of ~3.3 in or
# a page of ~7 in), text at 7 pt (labels) and 6 pt (notes), so nothing is scaled when the paper is typeset.
FONT_PT, NOTE_PT = 7.0, 6.0
GAP_IN = 0.03  # between panels
MIN_CELL_IN = 0.28  # narrower panels wrap the columns into several bands
LINE_IN = FONT_PT * 1.25 / 72
NOTE_LINE_IN = NOTE_PT * 1.3 / 72


def text_width_in(text: str, size: float = FONT_PT) -> float:
    """Width in inches of the widest line of ``text`` at ``size`` points in matplotlib's default font."""
    return max((line_width_in(line, size) for line in text.split("\n") if line), default=0.0)


@functools.lru_cache(maxsize=4096)
def line_width_in(line: str, size: float) -> float:
    """Width in inches of one line of text (cached: layouts measure the same labels many times)."""
    from matplotlib.font_manager import FontProperties, findfont, get_font

    font = get_font(findfont(FontProperties()))
    font.set_size(size, 72)  # at 72 dpi one pixel is one point
    font.set_text(line, 0.0)
    return font.get_width_height()[0] / 64 / 72 * 1.05  # 26.6 fixed point; a little room for hinting


def fit_lines(text: str, width_in: float, size: float = FONT_PT, *, wrap: bool = True) -> str:
    """``text`` wrapped at spaces (unless not ``wrap``) to lines of at most ``width_in`` inches; a longer line is
    cut and ends in "…" (labels are abbreviated, never drawn over their neighbours)."""
    lines = []
    for paragraph in text.split("\n"):
        if not wrap:
            lines.append(paragraph)
            continue
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}".strip()
            if line and text_width_in(candidate, size) > width_in:
                lines.append(line)
                candidate = word
            line = candidate
        lines.append(line)
    for index, line in enumerate(lines):
        while text_width_in(line, size) > width_in and len(line) > 1:
            line = line[:-2] + "…"
        lines[index] = line
    return "\n".join(lines)


def fit_header(label: str, width_in: float) -> str:
    """A column label broken after its arrows ("14→" over "15"), then wrapped and cut to ``width_in``
    (:func:`fit_lines`)."""
    return fit_lines(label.replace("→", "→\n"), width_in)


def grid_figure(
    groups: Sequence[RowGroup],
    *,
    column_labels: Sequence[str],
    corner: str = "",
    legend: Legend | None = Legend("direction"),
    width_in: float = 7.0,
    max_height_in: float | None = None,
    title: str | None = None,
    caption: str | None = None,
):
    """Lay ``groups`` of rows out as a matplotlib Figure exactly ``width_in`` inches wide, its height following
    from the content: row labels left of the grid (wrapped to their column), column labels on top (``corner``
    above the row labels), each group's title above its rows, ``legend`` right of the grid, ``caption`` under
    it. Columns that would be narrower than MIN_CELL_IN wrap into bands, each with its own column labels. A figure
    taller than ``max_height_in`` gets smaller panels (down to MIN_CELL_IN), its grid centred in the width."""
    from matplotlib.figure import Figure

    rows = [row for group in groups for row in group.rows]
    if not rows:
        raise ValueError("a figure needs at least one row")
    n_cols = len(column_labels)
    for row in rows:
        if len(row.images) != n_cols:
            raise ValueError(f"row {row.label!r} has {len(row.images)} images for {n_cols} columns")
    first = next((image for row in rows for image in row.images if image is not None), None)
    if first is None:
        raise ValueError("a figure needs at least one image")
    aspect = first.shape[0] / first.shape[1]
    pad = 0.04
    widest = max([text_width_in(row.label) for row in rows] + [text_width_in(corner)])
    label_w = min(widest + 0.06, max(0.6, 0.14 * width_in))
    legend_w = 0.0 if legend is None else 0.62
    grid_w = width_in - 2 * pad - label_w - legend_w
    per_band = max(1, min(n_cols, int((grid_w + GAP_IN) // (MIN_CELL_IN + GAP_IN))))
    per_band = -(-n_cols // -(-n_cols // per_band))  # bands of equal length: 6 columns as 3 + 3, not 5 + 1
    bands = [list(range(start, min(start + per_band, n_cols))) for start in range(0, n_cols, per_band)]
    labels = {id(row): fit_lines(row.label, label_w - 0.06) for row in rows}
    title_text = fit_lines(title, width_in - 2 * pad, FONT_PT + 1) if title else ""
    title_h = (title_text.count("\n") + 1) * (FONT_PT + 1) * 1.25 / 72 + 0.03 if title else 0.0
    caption_text = fit_lines(caption, width_in - 2 * pad, NOTE_PT) if caption else ""
    caption_h = (caption_text.count("\n") + 1) * NOTE_LINE_IN + 0.04 if caption else 0.0

    def row_h(row: FigureRow, cell_h: float) -> float:
        """A row is as tall as its panels, or its label where that is taller."""
        return max(cell_h, (labels[id(row)].count("\n") + 1) * LINE_IN + 0.02)

    def layout(cell_w: float) -> tuple[list[str], float, float, float]:
        """Column headers, header height, band height and figure height for panels ``cell_w`` wide."""
        headers = [fit_lines(label, cell_w) for label in column_labels]
        if any("…" in header for header in headers):  # one header too wide: all break after their arrows, alike
            headers = [fit_header(label, cell_w) for label in column_labels]
        header_h = max(label.count("\n") + 1 for label in headers) * LINE_IN + 0.02
        rows_h = sum(
            (LINE_IN + 0.03 if group.title is not None else 0.0)
            + sum(row_h(row, cell_w * aspect) + GAP_IN + (NOTE_LINE_IN if row.notes else 0.0) for row in group.rows)
            for group in groups
        )
        band_h = header_h + rows_h + 0.04
        return headers, header_h, band_h, 2 * pad + title_h + len(bands) * band_h + caption_h

    cell_w = (grid_w - (per_band - 1) * GAP_IN) / per_band
    headers, header_h, band_h, height_in = layout(cell_w)
    if max_height_in is not None and height_in > max_height_in:
        # Too tall for the page: the widest panels that fit (bisection; the figure keeps its width, the grid is
        # centred), but never narrower than MIN_CELL_IN.
        low, high = MIN_CELL_IN, cell_w
        for _ in range(24):
            middle = (low + high) / 2
            low, high = (middle, high) if layout(middle)[3] <= max_height_in else (low, middle)
        cell_w = low
        headers, header_h, band_h, height_in = layout(cell_w)
    cell_h = cell_w * aspect
    used_w = label_w + per_band * cell_w + (per_band - 1) * GAP_IN + legend_w
    left = pad + (width_in - 2 * pad - used_w) / 2
    figure = Figure(figsize=(width_in, height_in))

    def box(x: float, top: float, w: float, h: float) -> tuple[float, float, float, float]:
        """Figure fractions of a box ``w`` x ``h`` inches whose top-left corner is (x, top) inches from the
        figure's top-left corner."""
        return x / width_in, 1 - (top + h) / height_in, w / width_in, h / height_in

    def text(x: float, y: float, value: str, **kwargs) -> None:
        figure.text(x / width_in, 1 - y / height_in, value, fontsize=kwargs.pop("size", FONT_PT), **kwargs)

    grid_x = left + label_w
    y = pad
    if title:
        text(width_in / 2, y, title_text, ha="center", va="top", size=FONT_PT + 1)
        y += title_h
    grid_top = y
    for band in bands:
        if corner:
            text(left, y + header_h - 0.02, fit_lines(corner, label_w - 0.04), ha="left", va="bottom")
        for position, column in enumerate(band):
            x = grid_x + position * (cell_w + GAP_IN) + cell_w / 2
            text(x, y + header_h - 0.02, headers[column], ha="center", va="bottom")
        y += header_h
        for group in groups:
            if group.title is not None:
                title_line = fit_lines(group.title, width_in - 2 * pad - legend_w, wrap=False)
                text(left, y + LINE_IN, title_line, ha="left",
                     va="baseline", weight="bold")
                y += LINE_IN + 0.03
            for row in group.rows:
                top = y  # the panels at the top of their row, a note right under them
                text(grid_x - 0.05, y + row_h(row, cell_h) / 2, labels[id(row)], ha="right", va="center")
                for position, column in enumerate(band):
                    image = row.images[column]
                    x = grid_x + position * (cell_w + GAP_IN)
                    if image is None:
                        continue
                    axes = figure.add_axes(box(x, top, cell_w, cell_h))
                    axes.imshow(image, interpolation="nearest", aspect="auto")
                    axes.set_xticks([])
                    axes.set_yticks([])
                    for spine in axes.spines.values():
                        spine.set_linewidth(0.4)
                    if row.notes:
                        text(x + cell_w / 2, top + cell_h + 0.01, fit_lines(row.notes[column], cell_w, NOTE_PT),
                             ha="center", va="top", size=NOTE_PT)
                y += row_h(row, cell_h) + GAP_IN + (NOTE_LINE_IN if row.notes else 0.0)
        y += 0.04
    if legend is not None:
        draw_legend(figure, legend, box, x=grid_x + per_band * (cell_w + GAP_IN) + 0.03, top=grid_top + header_h,
                    width=legend_w - 0.06, height=min(len(bands) * band_h - header_h, 1.6))
    if caption:
        text(pad, height_in - pad - caption_h + 0.04, caption_text, ha="left", va="top", size=NOTE_PT)
    return figure


def draw_legend(figure, legend: Legend, box, *, x: float, top: float, width: float, height: float) -> None:
    """The colour wheel (direction) or the colour bar (magnitude) in the column right of the grid."""
    if legend.kind == "direction":
        size = min(width, 0.5)
        axes = figure.add_axes(box(x + (width - size) / 2, top + 0.02, size, size))
        axes.imshow(flowviz.color_wheel(129))
        axes.set_axis_off()
        figure.text(*box(x + width / 2, top + size + 0.06, 0, 0)[:2], "direction\n(white:\nstill)",
                    fontsize=NOTE_PT, ha="center", va="top")
        return
    if legend.kind != "magnitude":
        raise ValueError(f"legend must be 'direction' or 'magnitude', got {legend.kind!r}")
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    axes = figure.add_axes(box(x + 0.02, top + 0.04, 0.09, max(height - 0.08, 0.4)))
    top_value = legend.bar_max if legend.bar_max is not None else 1.0
    bar = figure.colorbar(ScalarMappable(Normalize(0.0, top_value), ListedColormap(flowviz.magnitude_lut() / 255.0)),
                          cax=axes)
    bar.ax.tick_params(labelsize=NOTE_PT, length=2, width=0.4, pad=1)
    bar.outline.set_linewidth(0.4)
    units = f"|u| ({flowviz.FLOW_UNITS_SHORT})" if legend.bar_max is not None else "|u| / scale"
    bar.set_label(units, fontsize=NOTE_PT, labelpad=2)


# Fonts as journals require them: TrueType (Type 42) embedded in PDF and PS, text kept as text in SVG. Set for the
# one savefig call only, so the caller's matplotlib settings are left alone.
FONT_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}


def figure_bytes(figure, fmt: str, *, dpi: int = 200) -> bytes:
    """The figure encoded as ``fmt`` (png, pdf or svg) at ``dpi`` (for PNG and embedded images), with embedded
    TrueType fonts in PDF and text elements in SVG."""
    from matplotlib import rc_context

    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {FIGURE_FORMATS}, got {fmt!r}")
    buffer = io.BytesIO()
    with rc_context(FONT_RC):
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata={"Software": "repflow"} if fmt == "png" else None)
    return buffer.getvalue()


def save_figure(figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Write the figure to ``path``, the format taken from its suffix; atomic (temp file + rename)."""
    path = Path(path)
    return atomic_write(path, figure_bytes(figure, path.suffix.lower().lstrip("."), dpi=dpi))


def fit_caption(text: str, width_px: int, font_scale: float = 0.4) -> str:
    """``text`` cut to fit ``width_px`` pixels in OpenCV's caption font (ending in ".." when cut)."""
    def width(value: str) -> int:
        return cv2.getTextSize(value, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)[0][0]

    if width(text) <= width_px:
        return text
    while len(text) > 1 and width(text + "..") > width_px:
        text = text[:-1]
    return text + ".."


CAPTION_PX, CAPTION_LINE_PX = 18, 13  # a caption strip of one line, and each further line


def side_by_side(panels: Sequence[np.ndarray], labels: Sequence[str], *, gap: int = 4) -> np.ndarray:
    """Panels of equal height joined left to right, each under a white caption strip with its label (lines split
    at "\n", each cut to the panel's width; the strip is as tall as the longest label)."""
    if len(panels) != len(labels):
        raise ValueError(f"{len(panels)} panels but {len(labels)} labels")
    height = panels[0].shape[0]
    if any(panel.shape[0] != height for panel in panels):
        raise ValueError(f"panels must share one height, got {[panel.shape[0] for panel in panels]}")
    lines = max(label.count("\n") + 1 for label in labels)
    strip = CAPTION_PX + CAPTION_LINE_PX * (lines - 1)
    columns = []
    for panel, label in zip(panels, labels):
        caption = np.full((strip, panel.shape[1], 3), 255, np.uint8)
        for index, line in enumerate(label.split("\n")):
            text = fit_caption(line, panel.shape[1] - 6)
            baseline = CAPTION_PX - 5 + index * CAPTION_LINE_PX
            cv2.putText(caption, text, (3, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        columns.append(np.vstack([caption, panel]))
        columns.append(np.full((height + strip, gap, 3), 255, np.uint8))
    return np.hstack(columns[:-1])


def mosaic(tiles: Sequence[np.ndarray], labels: Sequence[str], *, columns: int, gap: int = 4) -> np.ndarray:
    """Equally sized tiles in rows of ``columns`` (each under its caption), the last row padded white."""
    if not tiles:
        raise ValueError("a mosaic needs at least one tile")
    blank = np.full_like(tiles[0], 255)
    rows = []
    for start in range(0, len(tiles), columns):
        row_tiles = list(tiles[start : start + columns])
        row_labels = list(labels[start : start + columns])
        padding = columns - len(row_tiles)
        rows.append(side_by_side(row_tiles + [blank] * padding, row_labels + [""] * padding, gap=gap))
        rows.append(np.full((gap, rows[-1].shape[1], 3), 255, np.uint8))
    return np.vstack(rows[:-1])


def animation_bytes(images: Sequence[np.ndarray], fmt: str, *, fps: float = 4.0) -> bytes:
    """Encode equally sized uint8 RGB images as an animated GIF (looping) or an H.264 MP4."""
    if fmt not in ANIMATION_FORMATS:
        raise ValueError(f"animation format must be one of {ANIMATION_FORMATS}, got {fmt!r}")
    if len(images) == 0:
        raise ValueError("an animation needs at least one image")
    if fmt == "gif":
        from PIL import Image

        pictures = [Image.fromarray(image) for image in images]
        buffer = io.BytesIO()
        pictures[0].save(
            buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=int(1000 / fps), loop=0
        )
        return buffer.getvalue()
    import tempfile

    from repflow.video import write_video

    with tempfile.TemporaryDirectory() as folder:
        return write_video(Path(folder) / "animation.mp4", np.stack(images), fps=fps).read_bytes()


def step_labels(frame_numbers: Sequence[int], steps: Sequence[int], span: int) -> list[str]:
    """Column labels of flow steps: the clip's frame numbers each step compares, e.g. "14→15" (``span`` = how
    many frames later the step's last frame is: 1 for a flow layer, 2 for the second flow-of-flow layer)."""
    return [f"{frame_numbers[step]}→{frame_numbers[step + span]}" for step in steps]


SCALE_WORDS = {
    "clip": "colour scale per channel over the clip window (99th percentile of |u|, stated per row)",
    "frame": "colour scale per panel (99th percentile of |u|, stated under each panel; amounts not comparable)",
    "fixed": "one fixed colour scale",
}


def paper_figure(
    analyses: Sequence[tuple[str, ClipAnalysis]],
    *,
    layer: str,
    channels: Sequence[int],
    steps: Sequence[int],
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    frame_numbers: Sequence[int] | None = None,
    show_frames: bool = True,
    reference: bool = False,
    tvl1_of_pair: Callable[[np.ndarray], np.ndarray] = pair_tvl1,
    legend: bool = True,
    width_in: float = 7.0,
    max_height_in: float | None = None,
    title: str | None = None,
):
    """The paper's figure: for each (label, analysis) a block of rows, titled with the label when there are
    several: the input frames (optional) and one row per channel of ``layer``; one column per time step,
    headed by the clip's frame numbers it compares (``frame_numbers``: the window's frames, default 0, 1, ...),
    with a row of classical TV-L1 between the same frames under the input frames when ``reference`` is set
    (``tvl1_of_pair`` computes it for a pair of frames);
    each cell a panel drawn with ``options``; a caption states the layer, scale, units and still threshold.
    Returns a matplotlib Figure ``width_in`` wide, at most ``max_height_in`` tall where smaller panels allow."""
    groups = []
    for index, (name, analysis) in enumerate(analyses):
        if layer not in analysis.flows:
            raise ValueError(f"{name}: the model has no flow layer {layer!r}; it has {list(analysis.flows)}")
        flows = analysis.flows[layer]
        rows = []
        if show_frames:
            rows.append(frame_row(analysis.frames, steps=steps, size=(options.size, options.size)))
        if reference:
            span = len(analysis.frames) - flows.shape[1]
            rows.append(reference_row(analysis.frames, steps=steps, span=span, options=options,
                                        tvl1_of_pair=tvl1_of_pair))
        rows += flow_rows(
            flows, channels=channels, steps=steps, options=options, frames=analysis.frames,
            channel_labels=[analysis.channel_label(layer, c) for c in range(len(flows))],
        )
        title_of = f"({chr(ord('a') + index)}) {name}" if len(analyses) > 1 else None
        groups.append(RowGroup(title_of, rows))
    first = analyses[0][1]
    span = len(first.frames) - first.flows[layer].shape[1]
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(len(first.frames)))
    scale = SCALE_WORDS[options.normalisation]
    if options.normalisation == "fixed":
        scale += f" of {options.fixed_max:.3g} {flowviz.FLOW_UNITS_SHORT}"
    caption = (
        f"Learned flow of layer {first.layer_labels[layer]}; columns: the frames each step compares. "
        f"Flow in {flowviz.FLOW_UNITS} (px/step); {scale}; white: below "
        f"{options.style.still_fraction:.0%} of the scale."
    )
    if reference:
        caption += " TV-L1: OpenCV Dual TV-L1 between the same frames, in input pixels per step."
    kind = options.style.colouring
    shown = None
    if legend:
        bar_max = options.fixed_max if options.normalisation == "fixed" else None
        shown = Legend(kind, bar_max=bar_max)
    return grid_figure(
        groups, column_labels=step_labels(numbers, steps, span), corner="frames", legend=shown, width_in=width_in,
        max_height_in=max_height_in, title=title, caption=caption,
    )


# What the legend beside an animation's panels says, per colouring.
LEGEND_LABELS = {"direction": "direction = hue\nwhite = still", "magnitude": "speed / panel scale\n"}


def animation_panels(
    analysis: ClipAnalysis,
    *,
    channels: Sequence[int],
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    classical: np.ndarray | None = None,
    frame_numbers: Sequence[int] | None = None,
    name: str | None = None,
    legend: bool = True,
) -> list[np.ndarray]:
    """One image per flow step, as the app shows it: frame | classical TV-L1 | every flow layer, one row per
    channel in ``channels`` (frame and TV-L1 in the first row only), labelled as the figures are: layers by their
    labels ("flow-of-flow 1/2"), steps by the clip's frames they compare ("0→2"; ``frame_numbers``: the window's
    frames, default 0, 1, ...), with the colour legend beside the panels (``legend``). ``classical`` (T-1, H, W, 2):
    OpenCV TV-L1 of the frames, drawn with one robust scale over the window (per step when ``options`` is per
    frame). A layer with fewer steps (flow-of-flow) shows a blank panel at its missing last steps."""
    size = (options.size, options.size)
    blank = np.full((*size, 3), 255, np.uint8)
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(len(analysis.frames)))
    n_steps = max(flows.shape[1] for flows in analysis.flows.values())
    classical_options = replace(options, normalisation="frame" if options.normalisation == "frame" else "clip")
    key = legend_panel(options.style.colouring, options.size) if legend else None
    images = []
    for step in range(n_steps):
        frame = analysis.frames[step]
        rows = []
        for row, channel in enumerate(channels):
            if row == 0:
                panels = [flowviz.resize_image(frame, size)]
                labels = [f"{name}\nframe {numbers[step]}" if name else f"frame {numbers[step]}\n"]
                if classical is not None:
                    image, scale = flowviz.render_panel(classical[None], 0, step, classical_options, frame=frame)
                    panels.append(image)
                    pair = step_labels(numbers, [step], 1)[0]
                    labels.append(f"TV-L1 (OpenCV) {pair}\n{flowviz.scale_note(scale, 'input px/step')}")
            else:
                panels = [blank] * (2 if classical is not None else 1)
                labels = ["\n"] * len(panels)
            for layer, flows in analysis.flows.items():
                index = min(channel, len(flows) - 1)
                label = f"{analysis.layer_labels[layer]} · {analysis.channel_label(layer, index)}"
                if step >= flows.shape[1]:
                    panels.append(blank)
                    labels.append(f"{label}\nno step")
                    continue
                image, scale = flowviz.render_panel(flows, index, step, options, frame=frame)
                panels.append(image)
                pair = step_labels(numbers, [step], len(analysis.frames) - flows.shape[1])[0]
                labels.append(f"{label}\n{pair} · {flowviz.scale_note(scale)}")
            if key is not None:
                panels.append(key if row == 0 else np.full_like(key, 255))
                labels.append(LEGEND_LABELS[options.style.colouring] if row == 0 else "\n")
            rows.append(side_by_side(panels, labels))
        images.append(np.vstack(rows))
    return images


def legend_panel(colouring: str, side: int) -> np.ndarray:
    """The colour legend as an image ``side`` pixels tall, to stand beside flow panels: the direction wheel
    (hue = direction, saturation = speed) or the speed colour bar in fractions of each panel's scale."""
    if colouring == "direction":
        wheel = flowviz.color_wheel(max(3, side * 3 // 5))
        pad = side - len(wheel)
        return np.pad(wheel, ((pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2), (0, 0)), constant_values=255)
    return flowviz.magnitude_colour_bar(1.0, height=side, units="of the scale")


def stack_animations(clips: Sequence[Sequence[np.ndarray]], *, gap: int = 8) -> list[np.ndarray]:
    """The animations of several clips one above the other, frame by frame (the shorter ones hold their last
    image; narrower ones are padded white on the right)."""
    if not clips:
        raise ValueError("an animation needs at least one clip")
    width = max(images[0].shape[1] for images in clips)
    length = max(len(images) for images in clips)
    frames = []
    for index in range(length):
        parts = []
        for images in clips:
            image = images[min(index, len(images) - 1)]
            parts.append(np.pad(image, ((0, gap), (0, width - image.shape[1]), (0, 0)), constant_values=255))
        frames.append(np.vstack(parts)[:-gap])
    return frames
