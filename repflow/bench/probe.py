"""``repflow bench probe``: what flow probes cost, as a fraction of the model's own forward time.

The model is repflow's RGB-only (2+1)D ResNet, treated as a foreign network (no flow layer of its own), run
on a textured clip that moves 1 px left and 2 px up per frame at the paper's clip size (32 frames of 224x224,
ResNet-50) by default. Overhead = (forward with probes - forward without) / forward without, per set of
probe points. Passes with and without probes alternate (``--repeats`` of each, medians compared), so a
machine shared with other work slows both alike.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch

from repflow.bench.models import moving_clip
from repflow.bench.timing import median, time_ms
from repflow.data.transforms import to_model_input
from repflow.models import ModelConfig, build_model
from repflow.probe import FEATURE_N_ITER, INPUT, INPUT_N_ITER, REDUCTIONS, ProbeOptions, attach_probes

SMALL = {"frames": 16, "size": 112, "depth": 18, "width": 32}
DEFAULT_POINTS = (INPUT, "layer2", "layer3")


@dataclass
class ProbeOverhead:
    """Median forward ms of the model without and with probes on ``points``; the probed flows' shapes."""

    points: tuple[str, ...]
    forward_ms: float
    probed_ms: float
    flow_shapes: dict[str, tuple[int, ...]]

    @property
    def overhead(self) -> float:
        """(forward with probes - forward without) / forward without."""
        return (self.probed_ms - self.forward_ms) / self.forward_ms


def measure(
    model: torch.nn.Module, clip: torch.Tensor, points: tuple[str, ...], options: ProbeOptions, *, repeats: int
) -> ProbeOverhead:
    """Time ``repeats`` forward passes of ``model`` on ``clip`` without and with probes on ``points``, alternating."""

    def forward() -> torch.Tensor:
        return model(clip)

    plain, probed = [], []
    with torch.inference_mode():
        forward()  # warm-up
        for _ in range(repeats):
            plain += time_ms(forward, repeats=1, warmup=0, device=clip.device)
            with attach_probes(model, points, options=options) as probes:
                probed += time_ms(forward, repeats=1, warmup=0, device=clip.device)
    shapes = {name: tuple(flow.shape[1:]) for name, flow in probes.items()}
    return ProbeOverhead(points, median(plain), median(probed), shapes)


def _shape_text(shape: tuple[int, ...]) -> str:
    channels, steps, _, height, width = shape
    return f"{channels} x {steps} x {height}x{width}"


def format_table(results: list[ProbeOverhead]) -> str:
    lines = [
        "| probe points | flow (channels x steps x HxW) | forward ms | forward with probes ms | overhead |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        shapes = "; ".join(_shape_text(result.flow_shapes[name]) for name in result.points)
        lines.append(f"| {', '.join(result.points)} | {shapes} | {result.forward_ms:.0f} | {result.probed_ms:.0f} | "
                     f"{100 * result.overhead:+.0f}% |")
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=32, help="clip length (paper: 32)")
    parser.add_argument("--size", type=int, default=224, help="frame side in pixels (paper: 224)")
    parser.add_argument("--depth", type=int, default=50, choices=(18, 34, 50), help="ResNet depth (paper: 50)")
    parser.add_argument("--width", type=int, default=64, help="base width (64 = standard)")
    parser.add_argument("--points", nargs="+", default=list(DEFAULT_POINTS),
                        help="probe points, each timed alone and then all together (default: input layer2 layer3)")
    parser.add_argument("--channels", type=int, default=ProbeOptions.channels, help="channels probed per point")
    parser.add_argument("--reduce", choices=REDUCTIONS, default=ProbeOptions.reduce, help="channel reduction")
    parser.add_argument("--n-iter", type=int, default=None,
                        help="TV-L1 iterations (default: the probe's, more at 'input' than on feature maps)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed forward passes without and with probes, alternating, per row (medians)")
    preset = f"{SMALL['frames']} frames, {SMALL['size']} px, ResNet-{SMALL['depth']}, width {SMALL['width']}"
    parser.add_argument("--small", action="store_true", help=f"quick preset: {preset}")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


def run(args: argparse.Namespace) -> int:
    if args.small:
        args.frames, args.size, args.depth, args.width = SMALL["frames"], SMALL["size"], SMALL["depth"], SMALL["width"]
    device = torch.device(args.device)
    options = ProbeOptions(channels=args.channels, reduce=args.reduce, n_iter=args.n_iter)
    model = build_model(ModelConfig(depth=args.depth, width=args.width)).to(device).eval()
    clip = to_model_input(moving_clip(args.frames, args.size), args.size).unsqueeze(0).to(device)
    point_sets = [(point,) for point in args.points]
    if len(args.points) > 1:
        point_sets.append(tuple(args.points))
    iterations = f"{options.n_iter}" if options.n_iter else f"{INPUT_N_ITER} at input, {FEATURE_N_ITER} elsewhere"
    print(
        f"Flow-probe overhead: {args.frames} frames of {args.size}x{args.size}, (2+1)D ResNet-{args.depth} width "
        f"{args.width} (RGB only), batch 1, device={device}, torch threads={torch.get_num_threads()}; probes: "
        f"{options.channels} channels by {options.reduce}, TV-L1 iterations {iterations}"
    )
    print(format_table([measure(model, clip, points, options, repeats=args.repeats) for points in point_sets]))
    return 0
