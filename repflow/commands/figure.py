"""``repflow figure``: the viewer's paper figure (PNG/PDF/SVG) or animation (GIF/MP4), without the app.

Example: ``repflow figure --model models/fcf.pt --clip sample_videos/walk.mp4 --layer fcf-2
--channels top4 --steps 0,3,6,9 --out fig.pdf``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from repflow import analysis, figure, flowviz
from repflow.io import atomic_write


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=Path, help="checkpoint with 'model_config' and 'model'")
    parser.add_argument(
        "--clip", required=True, type=Path, action="append", help="video file; repeat for one block of rows per clip"
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="output file: .png, .pdf, .svg (figure) or .gif, .mp4 (animation)"
    )
    parser.add_argument(
        "--layer", default=None, help="flow layer by name, label or kind (rep, fcf-1, fcf-2); default: the last"
    )
    parser.add_argument(
        "--channels", default="top4", help="comma-separated channels, or topN (N most moving, first clip); default top4"
    )
    parser.add_argument("--steps", default="all", help="comma-separated time steps, or 'all'; default all")
    parser.add_argument("--start", type=int, default=0, help="first frame of the window read from each clip")
    parser.add_argument("--frames", type=int, help="frames through the model (>= 3); default: as trained, else 16")
    parser.add_argument(
        "--size",
        type=int,
        help="model input size: a centre crop covering the share of the short side it "
        "covered in training; default: as trained, else 112",
    )
    parser.add_argument(
        "--stride", type=int, help="read every n-th frame; default: the stride the model was trained with, else 1"
    )
    parser.add_argument("--normalisation", choices=flowviz.NORMALISATIONS, default="clip")
    parser.add_argument(
        "--fixed-max", type=float, default=None, help="magnitude at full saturation for --normalisation fixed"
    )
    parser.add_argument("--colouring", choices=["direction", "magnitude"], default="direction")
    parser.add_argument(
        "--arrows", type=int, default=0, metavar="PX", help="quiver overlay, one arrow every PX pixels (0 = none)"
    )
    parser.add_argument("--smooth", action="store_true", help="bilinear instead of nearest upsampling of the flow")
    parser.add_argument("--opacity", type=float, default=1.0, help="flow opacity over the frame (1 = frame hidden)")
    parser.add_argument("--no-frames", action="store_true", help="leave out the row of input frames")
    parser.add_argument("--no-legend", action="store_true", help="leave out the colour wheel")
    parser.add_argument("--width", type=float, default=7.0, help="figure width in inches")
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--cell-px", type=int, default=224, help="pixels of each image cell")
    parser.add_argument("--title", default=None)
    parser.add_argument("--fps", type=float, default=4.0, help="animation frame rate")


def parse_indices(spec: str, *, count: int, what: str, energy_order: list[int] | None = None) -> list[int]:
    """``"all"``, ``"topN"`` (first N of ``energy_order``) or ``"0,3,5"`` -> a list of indices below ``count``."""
    spec = spec.strip().lower()
    if spec == "all":
        return list(range(count))
    if spec.startswith("top") and energy_order is not None:
        try:
            return energy_order[: int(spec[3:])]
        except ValueError:
            raise ValueError(f"{what}: expected topN with a number N, got {spec!r}") from None
    try:
        indices = [int(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"{what}: expected comma-separated numbers{', topN' if energy_order else ''} or 'all', got {spec!r}"
        ) from None
    figure.check_indices(indices, count, what)
    return indices


def run(args: argparse.Namespace) -> int:
    from repflow.checkpoint import TrainingClip, load_checkpoint, model_from_payload, short_side_for
    from repflow.video import read_frames

    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in figure.FIGURE_FORMATS + figure.ANIMATION_FORMATS:
        raise ValueError(
            f"{args.out}: unknown output type; use one of {', '.join(figure.FIGURE_FORMATS + figure.ANIMATION_FORMATS)}"
        )
    payload = load_checkpoint(args.model)
    trained = TrainingClip.from_payload(payload)
    defaults = trained.with_defaults()
    num_frames = args.frames if args.frames is not None else defaults.frames
    size = args.size if args.size is not None else defaults.size
    short_side = short_side_for(size, trained.crop_fraction)
    stride = args.stride if args.stride is not None else defaults.stride
    if num_frames < 3:
        raise ValueError(f"--frames must be >= 3 (flow-of-flow compares three frames), got {num_frames}")
    if stride < 1:
        raise ValueError(f"--stride must be >= 1, got {stride}")
    model = model_from_payload(payload, name=args.model.name)
    indices = [args.start + step * stride for step in range(num_frames)]
    analyses = []
    for clip in args.clip:
        frames = read_frames(clip, indices, short_side=short_side)
        analyses.append((clip.name, analysis.analyse_clip(model, frames, size=size, short_side=short_side)))
    first = analyses[0][1]
    layer = first.find_layer(args.layer) if args.layer else list(first.flows)[-1]
    flows = first.flows[layer]
    ranked = [int(c) for c in flowviz.rank_by_energy(flows)]
    channels = parse_indices(args.channels, count=len(flows), what="channel", energy_order=ranked)
    style = flowviz.FlowStyle(
        colouring=args.colouring, smooth=args.smooth, arrow_spacing=args.arrows, opacity=args.opacity
    )
    options = flowviz.PanelOptions(normalisation=args.normalisation, fixed_max=args.fixed_max, style=style,
                                   size=args.cell_px)
    if fmt in figure.ANIMATION_FORMATS:
        images = figure.animation_panels(first, channel=channels[0], options=options)
        atomic_write(args.out, figure.animation_bytes(images, fmt, fps=args.fps))
    else:
        steps = parse_indices(args.steps, count=flows.shape[1], what="time step")
        fig = figure.paper_figure(
            analyses, layer=layer, channels=channels, steps=steps, options=options, show_frames=not args.no_frames,
            legend=not args.no_legend, width_in=args.width, title=args.title,
        )
        figure.save_figure(fig, args.out, dpi=args.dpi)
    print(f"wrote {args.out} ({first.layer_labels[layer]}, channels {channels})")
    return 0
