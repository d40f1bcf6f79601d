"""``repflow bench models``: the paper's runtime comparison, side by side on this machine.

Piergiovanni & Ryoo (CVPR 2019, Table 6) report, per clip on a GPU: Rep-Flow 622 ms vs a two-stream network
8623 ms (13.9x), because the two-stream network needs classical TV-L1 optical flow of the clip first. Here
every model runs on the same clip in one process: RGB only, Rep-Flow, flow-of-flow, and two-stream with
OpenCV's TV-L1 extraction time included.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from repflow.bench.timing import mean_std, time_ms
from repflow.classical import tvl1
from repflow.data.transforms import to_model_input
from repflow.models import ModelConfig, TwoStream, build_model

PAPER_MS = {"Rep-Flow": 622.0, "two-stream": 8623.0}
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


def timed_runs(args: argparse.Namespace, device: torch.device) -> dict[str, Callable[[], object]]:
    """One callable per model, each processing one clip from uint8 frames to logits."""
    frames = moving_clip(args.frames, args.size)
    clip = to_model_input(frames, args.size).unsqueeze(0).to(device)
    base = dict(depth=args.depth, width=args.width, num_classes=args.classes, flow_after=args.flow_after)

    def model(**overrides) -> torch.nn.Module:
        return build_model(ModelConfig(**base, **overrides)).to(device).eval()

    rgb, rep, fcf = model(), model(flow="rep"), model(flow="fcf")
    two_stream = TwoStream(model(), model(in_channels=2))

    def run_two_stream() -> torch.Tensor:
        flow = torch.from_numpy(tvl1(frames)).permute(3, 0, 1, 2).unsqueeze(0).to(device)
        return two_stream(clip, flow)

    return {
        "RGB only": lambda: rgb(clip),
        "Rep-Flow": lambda: rep(clip),
        "flow-of-flow": lambda: fcf(clip),
        "two-stream (TV-L1 incl.)": run_two_stream,
        "TV-L1 extraction alone": lambda: tvl1(frames),
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=32, help="clip length (paper: 32)")
    parser.add_argument("--size", type=int, default=224, help="frame side in pixels (paper: 224)")
    parser.add_argument("--depth", type=int, default=50, choices=(18, 34, 50), help="ResNet depth (paper: 50)")
    parser.add_argument("--width", type=int, default=64, help="base width (64 = standard)")
    parser.add_argument("--flow-after", default="layer3", help="stage the flow block follows")
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5, help="timed clips per model (mean ± std reported)")
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"quick preset: {SMALL['frames']} frames, {SMALL['size']} px, ResNet-{SMALL['depth']}, "
        f"width {SMALL['width']}",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


def run(args: argparse.Namespace) -> int:
    if args.small:
        args.frames, args.size, args.depth, args.width = SMALL["frames"], SMALL["size"], SMALL["depth"], SMALL["width"]
    device = torch.device(args.device)
    timings = []
    with torch.inference_mode():
        for name, run_model in timed_runs(args, device).items():
            mean, std = mean_std(time_ms(run_model, repeats=args.repeats, device=device))
            timings.append(ModelTiming(name, mean, std))
    print(
        f"Per-clip time: {args.frames} frames of {args.size}x{args.size}, "
        f"(2+1)D ResNet-{args.depth} width {args.width}, "
        f"flow after {args.flow_after}, batch 1, device={device}, torch threads={torch.get_num_threads()}"
    )
    print("| model | ms per clip (mean ± std) | paper (GPU) |")
    print("|---|---|---|")
    for timing in timings:
        paper = PAPER_MS.get(timing.name.split(" (")[0])
        print(f"| {timing.name} | {timing.mean_ms:.0f} ± {timing.std_ms:.0f} | {f'{paper:.0f}' if paper else '-'} |")
    by_name = {timing.name: timing.mean_ms for timing in timings}
    two_stream = by_name["two-stream (TV-L1 incl.)"]
    print(f"two-stream / Rep-Flow: {two_stream / by_name['Rep-Flow']:.1f}x "
          f"(paper: {PAPER_MS['two-stream'] / PAPER_MS['Rep-Flow']:.1f}x); "
          f"two-stream / flow-of-flow: {two_stream / by_name['flow-of-flow']:.1f}x")
    return 0
