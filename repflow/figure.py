"""Figures of learned flows for papers: a grid of frames and flows (PNG, PDF, SVG), and animations (GIF, MP4).

The grid follows the flow figures of Piergiovanni & Ryoo, "Representation Flow for Action Recognition"
(CVPR 2019): columns are time steps, rows are the input frames and the flows of chosen channels (of one or
several clips), optionally with the colour-wheel legend. Matplotlib only (its object interface, so no GUI
backend and no global state); no Streamlit. Drawn from a :class:`repflow.analysis.ClipAnalysis`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from repflow import flowviz
from repflow.analysis import ClipAnalysis
from repflow.io import atomic_write

FIGURE_FORMATS = ("png", "pdf", "svg")
ANIMATION_FORMATS = ("gif", "mp4")


@dataclass(frozen=True)
class FigureRow:
    """One row of a figure grid: a label and one uint8 RGB image per column (None = empty cell),
    with an optional note under each image (e.g. the magnitude that saturates its colours)."""

    label: str
    images: Sequence[np.ndarray | None]
    notes: Sequence[str] | None = None


def flow_rows(
    flows: np.ndarray,
    *,
    channels: Sequence[int],
    steps: Sequence[int],
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    frames: np.ndarray | None = None,
    label: str = "ch",
    channel_labels: Sequence[str] | None = None,
) -> list[FigureRow]:
    """One row per channel of ``flows`` (C, T', h, w, 2), one column per step, each cell a panel drawn with
    ``options`` (``frames`` (T, H, W, 3) are used when the style overlays them).
    Rows are labelled ``channel_labels[channel]`` when given, else "``label`` ``channel``"."""
    check_indices(channels, len(flows), "channel")
    check_indices(steps, flows.shape[1], "time step")
    rows = []
    for channel in channels:
        images, notes = [], []
        for step in steps:
            frame = frames[step] if frames is not None else None
            image, peak = flowviz.render_panel(flows, channel, step, options, frame=frame)
            images.append(image)
            notes.append(f"max {peak:.3g}")
        title = channel_labels[channel] if channel_labels is not None else f"{label} {channel}"
        if options.normalisation == "frame":
            rows.append(FigureRow(label=title, images=images, notes=notes))
        else:
            rows.append(FigureRow(label=f"{title}\n{notes[0]}", images=images))
    return rows


def frame_row(frames: np.ndarray, *, steps: Sequence[int], size: tuple[int, int], label: str = "frames") -> FigureRow:
    """A row of the input frames at ``steps`` (the first frame of each flow step)."""
    check_indices(steps, len(frames), "frame")
    return FigureRow(label=label, images=[flowviz.resize_image(frames[step], size) for step in steps])


def check_indices(indices: Sequence[int], count: int, what: str) -> None:
    """Raise ValueError naming ``what`` if an index is outside ``range(count)`` or none is given."""
    if len(indices) == 0:
        raise ValueError(f"choose at least one {what}")
    bad = [index for index in indices if not 0 <= index < count]
    if bad:
        raise ValueError(f"{what} {bad} out of range: there are {count} ({what}s 0..{count - 1})")


def grid_figure(
    rows: Sequence[FigureRow],
    *,
    column_labels: Sequence[str],
    legend: bool = True,
    width_in: float = 7.0,
    title: str | None = None,
):
    """Lay ``rows`` out as a matplotlib Figure ``width_in`` inches wide (height follows the images'
    aspect), column labels on top, row labels on the left, and the colour wheel on the right."""
    from matplotlib.figure import Figure

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
    has_notes = any(row.notes for row in rows)
    cell_width = width_in / (n_cols + (0.9 if legend else 0) + 0.5)
    height_in = cell_width * aspect * len(rows) * (1.25 if has_notes else 1.1) + 0.35 + (0.3 if title else 0)
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    grid = figure.add_gridspec(
        len(rows), n_cols + (1 if legend else 0), width_ratios=[1] * n_cols + ([0.8] if legend else [])
    )
    for r, row in enumerate(rows):
        for c, image in enumerate(row.images):
            axes = figure.add_subplot(grid[r, c])
            axes.set_xticks([])
            axes.set_yticks([])
            for spine in axes.spines.values():
                spine.set_visible(image is not None)
                spine.set_linewidth(0.4)
            if image is not None:
                axes.imshow(image, interpolation="nearest")
            if r == 0:
                axes.set_title(column_labels[c], fontsize=8)
            if c == 0:
                axes.set_ylabel(row.label, fontsize=8)
            if row.notes and image is not None:
                axes.set_xlabel(row.notes[c], fontsize=6)
    if legend:
        axes = figure.add_subplot(grid[:, -1])
        axes.imshow(flowviz.color_wheel(129))
        axes.set_axis_off()
        axes.set_title("direction\n(saturation =\nmagnitude)", fontsize=7)
    if title:
        figure.suptitle(title, fontsize=9)
    return figure


def figure_bytes(figure, fmt: str, *, dpi: int = 200) -> bytes:
    """The figure encoded as ``fmt`` (png, pdf or svg) at ``dpi`` (for PNG and embedded images)."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {FIGURE_FORMATS}, got {fmt!r}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, metadata={"Software": "repflow"} if fmt == "png" else None)
    return buffer.getvalue()


def save_figure(figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Write the figure to ``path``, the format taken from its suffix; atomic (temp file + rename)."""
    path = Path(path)
    return atomic_write(path, figure_bytes(figure, path.suffix.lower().lstrip("."), dpi=dpi))


def side_by_side(panels: Sequence[np.ndarray], labels: Sequence[str], *, gap: int = 4) -> np.ndarray:
    """Panels of equal height joined left to right, each under a white caption strip with its label."""
    if len(panels) != len(labels):
        raise ValueError(f"{len(panels)} panels but {len(labels)} labels")
    height = panels[0].shape[0]
    if any(panel.shape[0] != height for panel in panels):
        raise ValueError(f"panels must share one height, got {[panel.shape[0] for panel in panels]}")
    strip = 18
    columns = []
    for panel, label in zip(panels, labels):
        caption = np.full((strip, panel.shape[1], 3), 255, np.uint8)
        cv2.putText(caption, label, (3, strip - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
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


def paper_figure(
    analyses: Sequence[tuple[str, ClipAnalysis]],
    *,
    layer: str,
    channels: Sequence[int],
    steps: Sequence[int],
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    show_frames: bool = True,
    legend: bool = True,
    width_in: float = 7.0,
    title: str | None = None,
):
    """The paper's figure: for each (name, analysis) a row of input frames (optional) and one row per
    channel of ``layer``; one column per time step (the flow from frame t), each cell a panel drawn with
    ``options``. Returns a matplotlib Figure."""
    rows: list[FigureRow] = []
    for name, analysis in analyses:
        if layer not in analysis.flows:
            raise ValueError(f"{name}: the model has no flow layer {layer!r}; it has {list(analysis.flows)}")
        prefix = f"{name}\n" if len(analyses) > 1 else ""
        if show_frames:
            size = (options.size, options.size)
            rows.append(frame_row(analysis.frames, steps=steps, size=size, label=f"{prefix}frames"))
        rows += flow_rows(
            analysis.flows[layer], channels=channels, steps=steps, options=options, frames=analysis.frames,
            channel_labels=[f"{prefix}{analysis.channel_label(layer, c)}" for c in range(len(analysis.flows[layer]))],
        )
    return grid_figure(
        rows, column_labels=[f"t = {step}" for step in steps],
        legend=legend and options.style.colouring == "direction", width_in=width_in, title=title,
    )


def animation_panels(
    analysis: ClipAnalysis,
    *,
    channel: int,
    options: flowviz.PanelOptions = flowviz.PanelOptions(),
    classical: Sequence[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """One image per flow step of the first flow layer: frame | each flow layer at ``channel`` |
    classical TV-L1 (when ``classical`` gives one (H, W, 2) field per step, normalised per frame), each
    panel drawn with ``options``. A layer with fewer steps (flow-of-flow) shows a blank panel at its missing
    last step."""
    size = (options.size, options.size)
    n_steps = max(flows.shape[1] for flows in analysis.flows.values())
    per_frame = replace(options, normalisation="frame")
    images = []
    for step in range(n_steps):
        frame = analysis.frames[step]
        panels = [flowviz.resize_image(frame, size)]
        labels = [f"frame {step}"]
        for name, flows in analysis.flows.items():
            index = min(channel, len(flows) - 1)
            labels.append(f"{analysis.layer_labels[name]} {analysis.channel_label(name, index)}")
            if step >= flows.shape[1]:
                panels.append(np.full((*size, 3), 255, np.uint8))
                continue
            panels.append(flowviz.render_panel(flows, index, step, options, frame=frame)[0])
        if classical is not None:
            panels.append(flowviz.render_panel(classical[step][None, None], 0, 0, per_frame, frame=frame)[0])
            labels.append("TV-L1 (OpenCV)")
        images.append(side_by_side(panels, labels))
    return images
