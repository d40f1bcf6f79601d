"""A dissection as a journal figure: the channel x class heatmap of a layer beside one channel's direction tuning
per class. Fonts, sizes and file formats follow `repflow.figure` (7 pt text, 6 pt notes, printed width in
inches, TrueType fonts in PDF, text in SVG: `repflow.figure.figure_bytes`)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from repflow.dissect.results import Dissection
from repflow.figure import FONT_PT, NOTE_PT
from repflow.motion_stats import SECTORS


def dissection_figure(dissection: Dissection, layer: str, channel: int, *, order: Sequence[int] | None = None,
                      width_in: float = 7.0, title: str | None = None):
    """A matplotlib Figure ``width_in`` wide: left, mean energy per class of every channel of ``layer`` (rows in
    ``order``, default most selective first), each row relative to its largest class mean, with each channel's
    selectivity index; right, the direction tuning of ``channel`` (share of its |flow|² per direction, one line per
    class, 0° = right, counter-clockwise as on screen)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    means = dissection.class_means(layer)
    order = list(order) if order is not None else dissection.channel_order(layer, "selectivity")
    means = means.loc[order]
    scores = dissection.channel_scores(layer)
    classes = list(means.columns)
    rows = len(order)
    height_in = min(9.0, max(2.6, 0.9 + 0.13 * rows + 0.05 * max(len(name) for name in classes)))
    figure = Figure(figsize=(width_in, height_in))
    heat = figure.add_axes((0.13, 0.22, 0.44, 0.68))
    image = heat.imshow(means.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    heat.set_xticks(range(len(classes)), [name.replace("_", " ") for name in classes], rotation=60, ha="right",
                    fontsize=NOTE_PT)
    heat.set_yticks(range(rows), [f"ch {c}  ({scores.loc[c, 'selectivity']:.2f})" for c in order],
                    fontsize=NOTE_PT if rows <= 40 else NOTE_PT - 1)
    heat.set_ylabel("channel (selectivity index)", fontsize=FONT_PT)
    if channel in order:
        heat.add_patch(_row_box(figure, order.index(channel), len(classes)))
    bar = figure.colorbar(image, ax=heat, fraction=0.05, pad=0.02)
    bar.set_label("mean energy / channel's largest class mean", fontsize=NOTE_PT)
    bar.ax.tick_params(labelsize=NOTE_PT)

    polar = figure.add_axes((0.70, 0.30, 0.26, 0.26 * width_in / height_in), projection="polar")
    tuning = dissection.tuning(layer, channel)
    angles = np.deg2rad(np.arange(SECTORS + 1) * 360 / SECTORS)
    colours = _class_colours(len(classes))
    for name, colour in zip(classes, colours):
        if name in tuning.index:
            shares = tuning.loc[name].to_numpy(dtype=float)
            polar.plot(angles, np.append(shares, shares[0]), color=colour, linewidth=0.9, label=name.replace("_", " "))
    polar.set_thetagrids(range(0, 360, 45), ["→", "↗", "↑", "↖", "←", "↙", "↓", "↘"], fontsize=NOTE_PT)
    polar.yaxis.set_major_locator(MaxNLocator(3))
    polar.set_rlabel_position(67.5)
    polar.tick_params(axis="y", labelsize=NOTE_PT - 1)
    polar.set_title(f"ch {channel}: direction tuning\n(share of |flow|² per direction)", fontsize=FONT_PT)
    polar.legend(fontsize=NOTE_PT - 1, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    figure.text(0.5, 0.985, title or f"{dissection.summary.get('model', '')} · {layer} · "
                f"{dissection.summary.get('clips_done', '?')} clips", ha="center", va="top", fontsize=FONT_PT + 1)
    return figure


def _row_box(figure, row: int, columns: int):
    from matplotlib.patches import Rectangle

    inset = 0.08  # inside the cells, so the axes' frame does not hide the box's outer edges
    return Rectangle((-0.5 + inset, row - 0.5 + inset), columns - 2 * inset, 1 - 2 * inset, fill=False,
                     edgecolor="red", linewidth=1.5, zorder=3)


def _class_colours(count: int) -> list:
    from matplotlib import colormaps

    palette = colormaps["tab20" if count > 10 else "tab10"]
    return [palette(i % palette.N) for i in range(count)]
