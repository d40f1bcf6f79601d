"""Turn flow fields into pictures: Middlebury colour coding, legend wheel, magnitude maps, arrows.

A flow field here is a float array (..., H, W, 2) whose last axis holds the x- and y-displacement
(positive = moves right / down), the layout of OpenCV, ``flow_vis`` and :func:`repflow.classical.tvl1`.

Colours follow the Middlebury colour wheel (Baker et al., "A Database and Evaluation Methodology for
Optical Flow", ICCV 2007): hue = direction, saturation = magnitude, zero flow = white. The wheel
itself comes from ``flow_vis`` (maintained reference implementation); this module adds what
``flow_vis.flow_to_color`` lacks: a chosen normalisation (its ``clip_flow`` clips each component to
``[0, max]`` and so would erase every leftward or upward motion), a clear error for NaN/inf, and
the display options of the viewer. Pure numpy (OpenCV for resizing and drawing), no Streamlit.

Honest colour scales: by default one scale per channel over the whole clip window, a robust maximum (the 99th
percentile of |u| over every step and cell), so a channel that barely moves looks pale, colours compare along
time and a few outlying cells cannot stretch it; per frame and fixed scales are options. Cells below 5 % of the
scale are drawn white, so stillness looks still. Every view (the app's panels, channel grid and channel browser,
``repflow figure``'s figures and animations) draws through :func:`render_panel` or the colourings under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from repflow.colour_tables import colour_table

Normalisation = Literal["clip", "frame", "fixed"]
NORMALISATIONS: tuple[Normalisation, ...] = ("clip", "frame", "fixed")  # the first is the default everywhere
Colouring = Literal["direction", "magnitude"]
ROBUST_PERCENTILE = 99.0
STILL_FRACTION = 0.05
FLOW_UNITS = "feature-map pixels per step"
FLOW_UNITS_SHORT = "px/step"
MAGNITUDE_COLORMAP = "magma_r"


def middlebury_colours(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``flow_vis``'s Middlebury colours of normalised flow components (|(u, v)| <= 1 is inside the wheel).

    ``flow_vis`` belongs to the app's extra (``pip install 'repflow[app]'``), so it is imported here, where a
    picture is drawn: training, evaluation and benchmarks run without it.
    """
    try:
        import flow_vis
    except ImportError as error:
        raise ModuleNotFoundError(
            "drawing flow in colour needs the flow_vis package of the app's extra: pip install 'repflow[app]'"
        ) from error
    return flow_vis.flow_uv_to_colors(u, v)


def check_flow(flow: np.ndarray, *, name: str = "flow") -> np.ndarray:
    """Return ``flow`` as float32 after checking it is (..., H, W, 2) and finite."""
    flow = np.asarray(flow)
    if flow.ndim < 3 or flow.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., H, W, 2), got {flow.shape}")
    if not np.issubdtype(flow.dtype, np.floating):
        raise ValueError(f"{name} must be a float array, got dtype {flow.dtype}")
    if not np.isfinite(flow).all():
        raise ValueError(f"{name} holds NaN or infinite values ({np.count_nonzero(~np.isfinite(flow))} of {flow.size})")
    return flow.astype(np.float32, copy=False)


def magnitude(flow: np.ndarray) -> np.ndarray:
    """Length of every flow vector: (..., H, W, 2) -> (..., H, W)."""
    flow = check_flow(flow)
    return np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2)


def max_magnitude(flow: np.ndarray) -> float:
    """The longest flow vector in ``flow`` (0.0 for a still field)."""
    return float(magnitude(flow).max())


def flow_energy(flows: np.ndarray) -> np.ndarray:
    """Mean squared flow magnitude per leading index: (C, ..., H, W, 2) -> (C,).

    Used to rank the channels of a flow layer, so the ones that respond to motion come first.
    """
    flows = check_flow(flows, name="flows")
    if flows.ndim < 4:
        raise ValueError(f"flows must have shape (C, ..., H, W, 2), got {flows.shape}")
    return (flows.astype(np.float64) ** 2).sum(axis=-1).reshape(len(flows), -1).mean(axis=1)


def rank_by_energy(flows: np.ndarray) -> np.ndarray:
    """Indices of the leading axis of ``flows`` (e.g. channels), highest motion energy first."""
    return np.argsort(-flow_energy(flows), kind="stable")


def flow_to_rgb(flow: np.ndarray, max_magnitude: float) -> np.ndarray:
    """Middlebury colour image (H, W, 3) uint8 of one field (H, W, 2).

    Vectors are divided by ``max_magnitude`` as a whole (direction is kept, negative components
    stay negative); a zero field, or ``max_magnitude == 0``, gives a white image.
    """
    flow = check_flow(flow)
    if flow.ndim != 3:
        raise ValueError(f"flow_to_rgb expects one field (H, W, 2), got {flow.shape}")
    if not max_magnitude >= 0:
        raise ValueError(f"max_magnitude must be >= 0, got {max_magnitude}")
    scale = 1.0 / max_magnitude if max_magnitude > 0 else 0.0
    return middlebury_colours(flow[..., 0] * scale, flow[..., 1] * scale)


def robust_max(flow: np.ndarray, percentile: float = ROBUST_PERCENTILE) -> float:
    """The ``percentile``-th percentile of the vector lengths of ``flow`` (..., H, W, 2), over every cell and
    step: a maximum that a few outlying cells cannot inflate (0.0 for a still field)."""
    if not 0.0 < percentile <= 100.0:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    return float(np.percentile(magnitude(flow), percentile))


def panel_scales(
    flows: np.ndarray,
    mode: Normalisation = "clip",
    *,
    fixed_max: float | None = None,
    percentile: float = ROBUST_PERCENTILE,
) -> np.ndarray:
    """The magnitude drawn at full colour for every panel of ``flows`` (C, T, H, W, 2): an array (C, T).

    ``"clip"`` (default): one robust maximum per channel over all its steps and cells, so colours compare
    along time and a channel that moves 10x less is drawn 10x paler; ``"frame"``: a robust maximum per
    channel and step (every panel stretched to full colour: shows the pattern, hides the amount);
    ``"fixed"``: ``fixed_max`` everywhere (comparable across channels, layers and clips).
    """
    flows = check_flow(flows, name="flows")
    if flows.ndim != 5:
        raise ValueError(f"flows must have shape (C, T, H, W, 2), got {flows.shape}")
    channels, steps = flows.shape[:2]
    if mode == "clip":
        per_channel = np.array([robust_max(flows[c], percentile) for c in range(channels)], np.float64)
        return np.repeat(per_channel[:, None], steps, axis=1)
    if mode == "frame":
        return np.array([[robust_max(flows[c, t], percentile) for t in range(steps)] for c in range(channels)])
    if mode == "fixed":
        if fixed_max is None or not fixed_max > 0:
            raise ValueError(f"fixed scale needs a positive maximum, got {fixed_max}")
        return np.full((channels, steps), float(fixed_max))
    raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {mode!r}")


def still_mask(flow: np.ndarray, scale: float, fraction: float = STILL_FRACTION) -> np.ndarray:
    """True where a vector of ``flow`` (..., H, W, 2) is shorter than ``fraction`` of ``scale``: drawn white.
    With ``scale == 0`` every cell is still."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"still fraction must be in [0, 1), got {fraction}")
    return magnitude(flow) < fraction * scale if scale > 0 else np.ones(flow.shape[:-1], bool)


def flow_to_rgb_still_white(flow: np.ndarray, scale: float, *, fraction: float = STILL_FRACTION) -> np.ndarray:
    """Middlebury colours of one field (H, W, 2) at ``scale`` (:func:`flow_to_rgb`), with the cells below
    ``fraction`` of the scale drawn white, so noise around zero does not read as motion."""
    image = flow_to_rgb(flow, scale)
    image[still_mask(flow, scale, fraction)] = 255
    return image


def magnitude_lut(*, fraction: float = STILL_FRACTION, colormap: str = MAGNITUDE_COLORMAP) -> np.ndarray:
    """256 RGB colours (uint8) for |u| / scale from 0 to 1: white below ``fraction``, then ``colormap``
    (light = slow, dark = fast); the default colormap's table is kept in :mod:`repflow.colour_tables`, so it needs
    no matplotlib."""
    levels = np.linspace(0.0, 1.0, 256)
    lut = colour_table(colormap)
    if lut is None:
        from matplotlib import colormaps

        lut = np.round(colormaps[colormap](levels)[:, :3] * 255).astype(np.uint8)
    lut[levels < fraction] = 255
    return lut


def magnitude_to_rgb(flow: np.ndarray, scale: float, *, fraction: float = STILL_FRACTION) -> np.ndarray:
    """Flow magnitude of one field (H, W, 2) as colours of :func:`magnitude_lut` (H, W, 3) uint8: white where
    still, darkest at ``scale`` and beyond."""
    mag = magnitude(flow)
    level = np.clip(mag / scale, 0.0, 1.0) if scale > 0 else np.zeros_like(mag)
    image = magnitude_lut(fraction=fraction)[np.round(level * 255).astype(np.intp)]
    image[still_mask(flow, scale, fraction)] = 255
    return image


def magnitude_colour_bar(
    scale: float, *, height: int = 224, fraction: float = STILL_FRACTION, units: str = FLOW_UNITS, dpi: int = 100
) -> np.ndarray:
    """A vertical colour bar (height, width, 3) uint8 for :func:`magnitude_to_rgb` at ``scale``, with ticks
    and the units written along it, to stand next to a magnitude panel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.figure import Figure

    if not scale > 0:
        raise ValueError(f"a colour bar needs a positive scale, got {scale}")
    figure = Figure(figsize=(1.15, height / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0.12, 0.06, 0.16, 0.88))
    lut = ListedColormap(magnitude_lut(fraction=fraction) / 255.0)
    bar = figure.colorbar(ScalarMappable(Normalize(0.0, scale), lut), cax=axes)
    bar.ax.tick_params(labelsize=7)
    bar.set_label(f"|u| ({units})", fontsize=7)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def color_wheel(size: int = 128) -> np.ndarray:
    """The legend: a (size, size, 3) uint8 disc whose colour at each point is that of the flow
    pointing from the centre to it, with the rim at full magnitude; white outside the disc."""
    if size < 3:
        raise ValueError(f"color wheel size must be >= 3 pixels, got {size}")
    centre = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    u, v = (xs - centre) / centre, (ys - centre) / centre
    wheel = middlebury_colours(u, v)
    wheel[np.hypot(u, v) > 1.0] = 255
    return wheel


def resize_flow(flow: np.ndarray, size: tuple[int, int], *, smooth: bool = False) -> np.ndarray:
    """Resample one field (H, W, 2) to ``size`` = (height, width): nearest neighbour (shows the
    feature-map cells) or bilinear. Vector lengths are kept in the units of the input."""
    flow = check_flow(flow)
    height, width = size
    interpolation = cv2.INTER_LINEAR if smooth else cv2.INTER_NEAREST
    return cv2.resize(flow, (width, height), interpolation=interpolation)


def resize_image(image: np.ndarray, size: tuple[int, int], *, smooth: bool = True) -> np.ndarray:
    """Resample an (H, W, 3) uint8 image to ``size`` = (height, width)."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    interpolation = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    if not smooth:
        interpolation = cv2.INTER_NEAREST
    return cv2.resize(image, (width, height), interpolation=interpolation)


def quiver_grid(flow: np.ndarray, spacing: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample ``flow`` (H, W, 2) every ``spacing`` pixels, starting half a spacing in.

    Returns (x, y, u, v), each a flat array: arrow tails and their displacement.
    """
    flow = check_flow(flow)
    if spacing < 1:
        raise ValueError(f"arrow spacing must be >= 1 pixel, got {spacing}")
    height, width = flow.shape[:2]
    ys, xs = np.mgrid[spacing // 2 : height : spacing, spacing // 2 : width : spacing]
    xs, ys = xs.ravel(), ys.ravel()
    return xs, ys, flow[ys, xs, 0], flow[ys, xs, 1]


def draw_arrows(
    image: np.ndarray, flow: np.ndarray, *, spacing: int, max_magnitude: float, colour: tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """A copy of ``image`` with an arrow every ``spacing`` pixels; a vector of ``max_magnitude``
    is drawn ``spacing`` pixels long, so arrows never overlap their neighbours' cells."""
    if image.shape[:2] != flow.shape[:2]:
        raise ValueError(f"image {image.shape[:2]} and flow {flow.shape[:2]} must have the same height and width")
    out = np.ascontiguousarray(image.copy())
    if max_magnitude <= 0:
        return out
    xs, ys, us, vs = quiver_grid(flow, spacing)
    scale = spacing / max_magnitude
    lengths = np.hypot(us, vs) * scale
    for x, y, u, v, length in zip(xs, ys, us, vs, lengths):
        if length < 1.0:
            continue
        length = min(length, spacing)
        dx, dy = u * scale, v * scale
        shrink = length / np.hypot(dx, dy)
        tip = (int(round(x + dx * shrink)), int(round(y + dy * shrink)))
        cv2.arrowedLine(out, (int(x), int(y)), tip, colour, 1, cv2.LINE_AA, tipLength=0.35)
    return out


def blend(base: np.ndarray, overlay: np.ndarray, opacity: float) -> np.ndarray:
    """``overlay`` drawn over ``base`` with ``opacity`` in [0, 1] (both (H, W, 3) uint8)."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    if base.shape != overlay.shape:
        raise ValueError(f"cannot blend images of shapes {base.shape} and {overlay.shape}")
    return cv2.addWeighted(overlay, opacity, base, 1.0 - opacity, 0.0)


@dataclass(frozen=True)
class FlowStyle:
    """How a flow field is drawn.

    colouring: ``"direction"`` (Middlebury wheel) or ``"magnitude"`` (light = slow, dark = fast; with a colour bar).
    smooth: bilinear instead of nearest-neighbour upsampling of the flow.
    arrow_spacing: pixels between arrows of a quiver overlay; 0 = no arrows.
    opacity: of the flow over the video frame, when a frame is given (1 = frame hidden).
    legend: show a colour legend beside the panels (the app's main row, figures, animations draw it next to them;
        it is never drawn on a panel, where it would hide flow).
    still_fraction: cells shorter than this fraction of the scale are drawn white (0 = none).
    """

    colouring: Colouring = "direction"
    smooth: bool = False
    arrow_spacing: int = 0
    opacity: float = 1.0
    legend: bool = False
    still_fraction: float = STILL_FRACTION


def colour_flow(flow: np.ndarray, scale: float, style: FlowStyle = FlowStyle()) -> np.ndarray:
    """One field (H, W, 2) in the colours of ``style`` at ``scale``, still cells white: (H, W, 3) uint8."""
    if style.colouring == "direction":
        return flow_to_rgb_still_white(flow, scale, fraction=style.still_fraction)
    if style.colouring == "magnitude":
        return magnitude_to_rgb(flow, scale, fraction=style.still_fraction)
    raise ValueError(f"colouring must be 'direction' or 'magnitude', got {style.colouring!r}")


def render_flow(
    flow: np.ndarray,
    *,
    max_magnitude: float,
    size: tuple[int, int],
    style: FlowStyle = FlowStyle(),
    frame: np.ndarray | None = None,
) -> np.ndarray:
    """Draw one field (H, W, 2) as an image of ``size`` = (height, width) following ``style``, with
    ``max_magnitude`` as the scale (drawn at full colour).

    ``frame`` (any size, uint8 RGB) is resized to ``size`` and shown under the flow when
    ``style.opacity < 1``. Returns (height, width, 3) uint8.
    """
    field = resize_flow(flow, size, smooth=style.smooth) if style.smooth or style.arrow_spacing else None
    if style.smooth:
        image = colour_flow(field, max_magnitude, style)
    else:  # colours are per cell, so colouring each cell once and then enlarging gives the same pixels, faster
        image = resize_image(colour_flow(check_flow(flow), max_magnitude, style), size, smooth=False)
    if frame is not None and style.opacity < 1.0:
        image = blend(resize_image(frame, size), image, style.opacity)
    if style.arrow_spacing:
        image = draw_arrows(image, field, spacing=style.arrow_spacing, max_magnitude=max_magnitude)
    return image


@dataclass(frozen=True)
class PanelOptions:
    """How flow panels are drawn, everywhere (the app, paper figures, animations, the channel browser).

    normalisation, fixed_max: which magnitude is drawn at full colour (see :func:`panel_scales`; default: one
    robust scale per channel over the clip window).
    style: colouring, upsampling, arrows, overlay, legend, still cells (:class:`FlowStyle`).
    size: side of the square panel in pixels.
    """

    normalisation: Normalisation = NORMALISATIONS[0]
    fixed_max: float | None = None
    style: FlowStyle = FlowStyle()
    size: int = 224


def panel_scale(flows: np.ndarray, channel: int, step: int, options: PanelOptions = PanelOptions()) -> float:
    """The scale of the panel ``flows[channel, step]`` of a layer's flows (C, T, h, w, 2) (:func:`panel_scales`)."""
    scales = panel_scales(flows[channel : channel + 1], options.normalisation, fixed_max=options.fixed_max)
    return float(scales[0, step])


def scale_note(scale: float, units: str = FLOW_UNITS_SHORT) -> str:
    """How a panel states its scale, e.g. ``"scale 2.36 px/step"``."""
    return f"scale {scale:.3g} {units}"


def render_panel(
    flows: np.ndarray,
    channel: int,
    step: int,
    options: PanelOptions = PanelOptions(),
    *,
    frame: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Draw ``flows[channel, step]`` of a layer's flows (C, T', h, w, 2) as one square panel.

    The scale follows ``options.normalisation`` over that channel (:func:`panel_scale`); ``frame`` is shown under
    the flow when the style's opacity is below 1. Returns the (size, size, 3) uint8 image and the scale.
    """
    scale = panel_scale(flows, channel, step, options)
    size = (options.size, options.size)
    return render_flow(flows[channel, step], max_magnitude=scale, size=size, style=options.style, frame=frame), scale
