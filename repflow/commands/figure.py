"""``repflow figure``: the viewer's paper figure (PNG/PDF/SVG) or animation (GIF/MP4), without the app.

Example: ``repflow figure --model models/fcf.pt --clip sample_videos/walk.mp4 --label walking --layer fcf-2
--channels top4 --steps 0,3,6,9 --width 3.3 --out fig.pdf``.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from repflow import analysis, figure, flowviz
from repflow.io import atomic_write, check_output_file

DESCRIPTION = (
    "Draw a model's learned flows on one or more clips as a journal figure (PNG, PDF with embedded TrueType "
    "fonts, SVG with text as text) or an animation (GIF, MP4: frame | OpenCV TV-L1 | every flow layer, each "
    "chosen channel, every clip). Colours as in the app: hue = direction, saturation = speed; by default one "
    f"colour scale per channel over the clip window (the {flowviz.ROBUST_PERCENTILE:g}th percentile of |u|, "
    f"stated per row in {flowviz.FLOW_UNITS}), cells below {flowviz.STILL_FRACTION:.0%} of the scale white."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("--model", required=True, type=Path, help="checkpoint with 'model_config' and 'model'")
    parser.add_argument(
        "--clip", required=True, type=Path, action="append", help="video file; repeat for one block of rows per clip"
    )
    parser.add_argument(
        "--label", action="append", default=None, metavar="NAME",
        help="a clip's title in the figure, in --clip order (repeat once per clip); default: the file name",
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="output file: .png, .pdf, .svg (figure) or .gif, .mp4 (animation)"
    )
    parser.add_argument(
        "--layer", default=None, help="flow layer by name, label or kind (rep, fcf-1, fcf-2); default: the last"
    )
    parser.add_argument(
        "--channels", default="top4",
        help="comma-separated channels; topN: the N with the most motion energy; alignN: the N whose |flow| agrees "
        "best with OpenCV TV-L1 |flow| of the frames the model read (mean Pearson r over steps of local motion, "
        "as in 'repflow bench alignment'; costs one TV-L1 pass over the window); both ranked on the first clip; "
        "default top4",
    )
    parser.add_argument(
        "--probe", default=None, metavar="MODULE",
        help="draw a flow probe (frozen TV-L1) on this module's output ('input': TV-L1 of the frames); default for "
        "a model without flow layers: where its paired flow model has its flow layer, as the app opens it",
    )
    parser.add_argument("--steps", default="all", help="comma-separated time steps, or 'all'; default all")
    parser.add_argument("--start", type=int, default=0, help="first frame of the window read from each clip")
    parser.add_argument(
        "--frames", type=int,
        help="frames through the model (at least the model's minimum: 3 for flow-of-flow, 2 for Rep-Flow, K + 1 for "
        "TVNet with K stacked flows); default: as trained, else 16 (at least the minimum)",
    )
    parser.add_argument(
        "--size",
        type=int,
        help="model input size: a centre crop covering the share of the short side it "
        "covered in training; default: as trained, else 112",
    )
    parser.add_argument(
        "--stride", type=int, help="read every n-th frame; default: the stride the model was trained with, else 1"
    )
    parser.add_argument(
        "--normalisation", choices=flowviz.NORMALISATIONS, default=flowviz.NORMALISATIONS[0],
        help="colour scale: clip = one robust scale per channel over the window (default, as in the app), "
        "frame = per panel (amounts not comparable), fixed = --fixed-max",
    )
    parser.add_argument(
        "--fixed-max", type=float, default=None,
        help=f"flow length at full colour for --normalisation fixed ({flowviz.FLOW_UNITS})",
    )
    parser.add_argument(
        "--colouring", choices=["direction", "magnitude"], default="direction",
        help="direction (colour wheel legend) or magnitude (light = slow, dark = fast; colour bar legend)",
    )
    parser.add_argument(
        "--arrows", type=int, default=0, metavar="PX", help="quiver overlay, one arrow every PX pixels (0 = none)"
    )
    parser.add_argument("--smooth", action="store_true", help="bilinear instead of nearest upsampling of the flow")
    parser.add_argument("--opacity", type=float, default=1.0, help="flow opacity over the frame (1 = frame hidden)")
    parser.add_argument("--no-frames", action="store_true", help="leave out the row of input frames")
    parser.add_argument("--tvl1", action="store_true",
                        help="add a row of classical OpenCV TV-L1 flow between the same frames (input px/step)")
    parser.add_argument("--no-legend", action="store_true", help="leave out the colour wheel or colour bar")
    parser.add_argument(
        "--width", type=float, default=7.0,
        help="figure width in inches: the journal's column (e.g. 3.3) or page (e.g. 7, default); height follows",
    )
    parser.add_argument(
        "--max-height", type=float, default=9.0,
        help="figure height limit in inches (default 9, a page's text): taller content gets smaller panels",
    )
    parser.add_argument("--dpi", type=int, default=300, help="resolution of PNGs and of the images in PDF/SVG")
    parser.add_argument("--cell-px", type=int, default=224, help="pixels of each image cell (and animation panel)")
    parser.add_argument("--title", default=None, help="a title above the figure (journals usually want none)")
    parser.add_argument("--fps", type=float, default=4.0, help="animation frame rate")


def parse_indices(
    spec: str, *, count: int, what: str, rankings: dict[str, Callable[[], list[int]]] | None = None
) -> list[int]:
    """``"all"``, ``"0,3,5"`` or, with ``rankings`` (a prefix such as "top" -> the order it gives, computed only
    when asked for), ``"topN"`` (the first N of that order) -> a list of indices below ``count``."""
    spec = spec.strip().lower()
    if spec == "all":
        return list(range(count))
    for prefix, order in (rankings or {}).items():
        if spec.startswith(prefix):
            number = spec[len(prefix) :]
            if not number.isdigit() or int(number) < 1:
                raise ValueError(f"{what}: expected {prefix}N with a number N >= 1, got {spec!r}")
            return order()[: int(number)]
    try:
        indices = [int(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        named = "".join(f", {prefix}N" for prefix in rankings or {})
        raise ValueError(f"{what}: expected comma-separated numbers{named} or 'all', got {spec!r}") from None
    figure.check_indices(indices, count, what)
    return indices


def agreement_scores(clip_analysis: analysis.ClipAnalysis, layer: str, clip: Path) -> np.ndarray:
    """Agreement with TV-L1 (:mod:`repflow.agreement`) of each channel of ``layer``; ValueError naming ``clip`` when
    no step of its window has local motion to agree with."""
    from repflow.agreement import LOCAL_MOTION, STILL_PX, channel_agreement

    scores = channel_agreement(clip_analysis.flows[layer], clip_analysis.frames)
    if np.isnan(scores).all():
        raise ValueError(
            f"{clip}: no step of the window has local motion (OpenCV TV-L1 mean >= {STILL_PX} px and spatial "
            f"std/mean >= {LOCAL_MOTION}), so --channels alignN cannot rank channels; use topN or channel numbers"
        )
    return scores


def window_indices(clip: Path, *, start: int, frames: int, stride: int, min_frames: int) -> list[int]:
    """The frame numbers read from ``clip``; ValueError naming the file when the video is too short for them."""
    from repflow.video import video_info

    count = video_info(clip).num_frames
    indices = [start + step * stride for step in range(frames)]
    if indices[-1] >= count:
        window = f"--frames {frames} every --stride {stride} from --start {start} needs frame {indices[-1]}"
        if count < min_frames:
            advice = f"the model needs at least {min_frames} frames, so this clip is too short for it"
        else:
            advice = f"the model needs at least {min_frames} frames: choose a window that fits with those flags"
        raise ValueError(f"{clip}: has only {count} frames, but {window}; {advice}")
    return indices


def run(args: argparse.Namespace) -> int:
    from repflow.agreement import rank_by_agreement
    from repflow.checkpoint import TrainingClip, load_checkpoint, model_from_payload, short_side_for, shortest_clip
    from repflow.classical import tvl1
    from repflow.inspect import list_flow_layers
    from repflow.probe import ProbeOptions, default_probe_point, list_probe_points
    from repflow.video import check_frame_size, read_frames

    check_output_file(args.out, inputs=[args.model, *args.clip])  # before any work
    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in figure.FIGURE_FORMATS + figure.ANIMATION_FORMATS:
        raise ValueError(
            f"{args.out}: unknown output type; use one of {', '.join(figure.FIGURE_FORMATS + figure.ANIMATION_FORMATS)}"
        )
    if args.label is not None and len(args.label) != len(args.clip):
        raise ValueError(f"--label given {len(args.label)} times for {len(args.clip)} --clip; give one per clip")
    if not args.width > 0.5:
        raise ValueError(f"--width must be more than 0.5 inches, got {args.width}")
    payload = load_checkpoint(args.model)
    trained = TrainingClip.from_payload(payload)
    model = model_from_payload(payload, name=args.model.name)
    config = model.config
    min_frames = shortest_clip(payload["model_config"])
    defaults = trained.with_defaults(min_frames=min_frames)
    num_frames = args.frames if args.frames is not None else defaults.frames
    size = args.size if args.size is not None else defaults.size
    short_side = short_side_for(size, trained.crop_fraction)
    stride = args.stride if args.stride is not None else defaults.stride
    if num_frames < min_frames:
        raise ValueError(f"--frames must be >= {min_frames} for this model ({config.flow} flow), got {num_frames}")
    if size < config.min_size:
        raise ValueError(f"--size must be >= {config.min_size} px for this model, got {size}")
    if stride < 1:
        raise ValueError(f"--stride must be >= 1, got {stride}")
    if args.start < 0:
        raise ValueError(f"--start must be >= 0, got {args.start}")
    names = args.label or [clip.name for clip in args.clip]
    probe = args.probe
    if probe is None and not list_flow_layers(model):
        probe = default_probe_point(list_probe_points(model, frames=num_frames, size=size), payload["model_config"],
                                    size)
    probe_options = ProbeOptions() if probe else None
    analyses = []
    for clip, name in zip(args.clip, names):
        indices = window_indices(clip, start=args.start, frames=num_frames, stride=stride, min_frames=min_frames)
        check_frame_size(clip, config.min_size)  # before reading: a 1x1 video would be upscaled into noise
        frames = read_frames(clip, indices, short_side=short_side)
        analyses.append((name, analysis.analyse_clip(model, frames, size=size, short_side=short_side, probe=probe,
                                                     probe_options=probe_options)))
    first = analyses[0][1]
    layer = first.find_layer(args.layer) if args.layer else list(first.flows)[-1]
    flows = first.flows[layer]
    agreement = functools.cache(lambda: agreement_scores(first, layer, args.clip[0]))
    rankings = {"top": lambda: [int(c) for c in flowviz.rank_by_energy(flows)],
                "align": lambda: [int(c) for c in rank_by_agreement(agreement())]}
    channels = parse_indices(args.channels, count=len(flows), what="channel", rankings=rankings)
    style = flowviz.FlowStyle(
        colouring=args.colouring, smooth=args.smooth, arrow_spacing=args.arrows, opacity=args.opacity
    )
    options = flowviz.PanelOptions(normalisation=args.normalisation, fixed_max=args.fixed_max, style=style,
                                   size=args.cell_px)
    if args.normalisation == "fixed" and not (args.fixed_max or 0) > 0:
        raise ValueError(f"--normalisation fixed needs a positive --fixed-max, got {args.fixed_max}")
    if fmt in figure.ANIMATION_FORMATS:
        clips = [
            figure.animation_panels(clip_analysis, channels=channels, options=options,
                                    classical=tvl1(clip_analysis.frames), frame_numbers=indices, name=name,
                                    legend=not args.no_legend)
            for name, clip_analysis in analyses
        ]
        atomic_write(args.out, figure.animation_bytes(figure.stack_animations(clips), fmt, fps=args.fps))
    else:
        steps = parse_indices(args.steps, count=flows.shape[1], what="time step")
        fig = figure.paper_figure(
            analyses, layer=layer, channels=channels, steps=steps, options=options, frame_numbers=indices,
            show_frames=not args.no_frames, reference=args.tvl1, legend=not args.no_legend, width_in=args.width,
            max_height_in=args.max_height, title=args.title,
        )
        figure.save_figure(fig, args.out, dpi=args.dpi)
        print(f"{args.out}: {fig.get_figwidth():.2f} x {fig.get_figheight():.2f} in")
    scores_note = ""
    if args.channels.strip().lower().startswith("align"):
        scores_note = f"; agreement with TV-L1 r {', '.join(f'{agreement()[c]:.2f}' for c in channels)}"
    print(f"wrote {args.out} ({first.layer_labels[layer]}, channels {channels}{scores_note})")
    return 0
