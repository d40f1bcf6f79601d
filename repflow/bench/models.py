"""``repflow bench models``: the paper's runtime comparison, every system on this machine in one run.

Piergiovanni & Ryoo (CVPR 2019, Table 6) report the run time per clip (32 frames of 224x224, on a GPU) of six
systems, plus a 2D ResNet with representation flow and the (2+1)D RGB network (:data:`PAPER_ROWS`). Here every
system runs the same clip, from uint8 frames to class scores, at batch 1, one row after the other in one process.
"Two-stream" rows include the optical flow they need: OpenCV's Dual TV-L1 of the whole clip on the CPU
(:func:`repflow.classical.tvl1`), as the paper's two-stream run times imply (its two-stream rows cost ~8 s more
than the networks alone), then both streams' networks. TVNet computes its flow inside the network, so its
pair needs no extraction. Ratios to (2+1)D Rep-Flow are printed beside the paper's, since absolute times
depend on the hardware.
"""

from __future__ import annotations

import argparse
import datetime
import platform
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from repflow.bench.timing import mean_std, time_ms
from repflow.classical import tvl1
from repflow.data.transforms import normalize_flow, to_model_input
from repflow.models import ModelConfig, TwoStream, build_model

# row -> the paper's ms per clip (Table 6; the 2D Rep-Flow and (2+1)D RGB figures from its other tables)
PAPER_ROWS: dict[str, float] = {
    "2D Two-Stream": 8546.0,
    "TVNet (+RGB)": 785.0,
    "(2+1)D Two-Stream": 8623.0,
    "I3D Two-Stream": 9354.0,
    "(2+1)D + Rep-Flow": 622.0,
    "(2+1)D + Flow-of-flow": 654.0,
    "2D + Rep-Flow": 524.0,
    "(2+1)D RGB": 471.0,
}
EXTRACTION = "TV-L1 extraction alone (OpenCV, CPU)"
REFERENCE = "(2+1)D + Rep-Flow"
SMALL = {"frames": 16, "size": 112, "depth": 18, "width": 32}


@dataclass
class ModelTiming:
    name: str
    mean_ms: float
    std_ms: float


def moving_clip(frames: int, size: int, seed: int = 0) -> np.ndarray:
    """uint8 (T, size, size, 3): a random texture moving 1 px left and 2 px up per frame (real work for TV-L1)."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, size=(size // 4 + frames, size // 4 + frames, 3), dtype=np.uint8)
    texture = np.kron(texture, np.ones((4, 4, 1), dtype=np.uint8))
    return np.stack([texture[2 * t : 2 * t + size, t : t + size] for t in range(frames)])


def row_builders(args: argparse.Namespace, device: torch.device) -> dict[str, Callable[[], Callable[[], object]]]:
    """Per row, a function that builds the row's networks and returns one callable processing the clip (uint8 frames
    to logits). Rows are built one at a time, so only one row's networks are in memory."""
    frames = moving_clip(args.frames, args.size)
    clip = to_model_input(frames, args.size).unsqueeze(0).to(device)
    base = dict(depth=args.depth, width=args.width, num_classes=args.classes, flow_after=args.flow_after,
                stacked_flows=args.stacked_flows)

    def model(**overrides) -> torch.nn.Module:
        return build_model(ModelConfig(**{**base, **overrides})).to(device).eval()

    def flow_clip() -> torch.Tensor:
        """The clip's TV-L1 flow, as a flow stream reads it (clipped and scaled like the training data)."""
        return normalize_flow(tvl1(frames)).unsqueeze(0).to(device)

    def two_stream(arch: str) -> Callable[[], object]:
        pair = TwoStream(model(arch=arch), model(arch=arch, in_channels=2))
        return lambda: pair(clip, flow_clip())

    def single(**overrides) -> Callable[[], object]:
        net = model(**overrides)
        return lambda: net(clip)

    def tvnet_pair() -> Callable[[], object]:
        pair = TwoStream(model(arch="resnet2d"), model(arch="tvnet", n_iter=args.tvnet_iter))
        return lambda: pair(clip, clip)

    return {
        "2D Two-Stream": lambda: two_stream("resnet2d"),
        "TVNet (+RGB)": tvnet_pair,
        "(2+1)D Two-Stream": lambda: two_stream("r2plus1d"),
        "I3D Two-Stream": lambda: two_stream("i3d"),
        "(2+1)D + Rep-Flow": lambda: single(flow="rep"),
        "(2+1)D + Flow-of-flow": lambda: single(flow="fcf"),
        "2D + Rep-Flow": lambda: single(arch="resnet2d", flow="rep"),
        "(2+1)D RGB": lambda: single(),
        EXTRACTION: lambda: (lambda: tvl1(frames)),
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=32, help="clip length (paper: 32)")
    parser.add_argument("--size", type=int, default=224, help="frame side in pixels (paper: 224)")
    parser.add_argument("--depth", type=int, default=50, choices=(18, 34, 50),
                        help="depth of the 2D and (2+1)D ResNets (paper: 50)")
    parser.add_argument("--width", type=int, default=64, help="base width of every network (64 = standard)")
    parser.add_argument("--flow-after", default="layer3", help="stage the flow block follows")
    parser.add_argument("--stacked-flows", type=int, default=10, help="K flow fields per 2D flow-stream input")
    parser.add_argument("--tvnet-iter", type=int, default=50, help="TVNet TV-L1 iterations (its authors' default: 50)")
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5, help="timed clips per system (mean ± std reported)")
    parser.add_argument("--small", action="store_true",
                        help=f"quick preset: {SMALL['frames']} frames, {SMALL['size']} px, ResNet-{SMALL['depth']}, "
                             f"width {SMALL['width']}")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


def measure(args: argparse.Namespace, device: torch.device) -> list[ModelTiming]:
    """Time every row, building its networks just before and dropping them after."""
    timings = []
    with torch.inference_mode():
        for name, build in row_builders(args, device).items():
            run_row = build()
            mean, std = mean_std(time_ms(run_row, repeats=args.repeats, device=device))
            timings.append(ModelTiming(name, mean, std))
            del run_row
    return timings


def table(timings: list[ModelTiming]) -> list[str]:
    """The markdown table: each row's time here and its ratio to (2+1)D Rep-Flow, beside the paper's."""
    here = {timing.name: timing.mean_ms for timing in timings}
    lines = ["| system | ms per clip here (mean ± std) | x Rep-Flow here | paper ms (GPU) | x Rep-Flow in the paper |",
             "|---|---|---|---|---|"]
    for timing in timings:
        paper = PAPER_ROWS.get(timing.name)
        paper_cells = f"{paper:.0f} | {paper / PAPER_ROWS[REFERENCE]:.2f}" if paper else "- | -"
        lines.append(f"| {timing.name} | {timing.mean_ms:.0f} ± {timing.std_ms:.0f} | "
                     f"{timing.mean_ms / here[REFERENCE]:.2f} | {paper_cells} |")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.small:
        args.frames, args.size, args.depth, args.width = SMALL["frames"], SMALL["size"], SMALL["depth"], SMALL["width"]
    if args.frames <= args.stacked_flows:
        raise ValueError(f"--frames ({args.frames}) must exceed --stacked-flows ({args.stacked_flows}): the 2D flow "
                         f"stream stacks that many flows of the clip")
    device = torch.device(args.device)
    timings = measure(args, device)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Per-clip time, {now}: {args.frames} frames of {args.size}x{args.size}, batch 1, device={device} "
          f"({platform.processor() or platform.machine()}), torch threads={torch.get_num_threads()}; 2D and (2+1)D "
          f"ResNet-{args.depth}, I3D, width {args.width}; flow block after {args.flow_after}; 2D flow stream on "
          f"K={args.stacked_flows} stacked flows; TVNet {args.tvnet_iter} iterations; {args.repeats} timed clips each.")
    print("Two-stream rows include OpenCV TV-L1 of the clip on the CPU; TVNet computes its flow in the network.")
    print("\n".join(table(timings)))
    return 0
