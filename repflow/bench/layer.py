"""``repflow bench layer``: speed and memory of the TV-L1 flow layer at the issue's reference shapes.

Reference: the published implementation, measured on a 2-core CPU of this project's machines, took
140 / 309 / 132 ms forward and 352 / 1063 / 433 ms forward+backward at the three default shapes.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch.profiler import ProfilerActivity, profile

from repflow.bench.timing import median, time_ms
from repflow.flow import TVL1Flow

# (pairs N, channels C, size H=W, iterations) -> published implementation's (forward, forward+backward) ms.
REFERENCE_MS: dict[tuple[int, int, int, int], tuple[float, float]] = {
    (7, 32, 28, 10): (140.0, 352.0),
    (7, 32, 56, 10): (309.0, 1063.0),
    (15, 32, 14, 20): (132.0, 433.0),
}


@dataclass
class LayerResult:
    shape: tuple[int, int, int, int]
    mode: str
    forward_ms: float
    backward_ms: float
    forward_mib: float
    backward_mib: float


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2 (the profiler's C++ code prints a status line per start and stop there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_memory_mib(run: Callable[[], object], device: torch.device) -> float:
    """Peak MiB of live tensor memory while ``run()`` executes.

    On CUDA: the caching allocator's peak. On CPU: the running sum of torch.profiler's allocation records,
    in the order the operators started (PyTorch keeps no CPU peak counter of its own).
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        baseline = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - baseline) / 2**20
    with _native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as recording:
        run()
    live = peak = 0
    for event in sorted(recording.events(), key=lambda event: event.time_range.start):
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak / 2**20


def measure(shape: tuple[int, int, int, int], *, repeats: int, compiled: bool, device: torch.device) -> LayerResult:
    """Median forward and forward+backward time and peak memory of one flow layer at ``shape``."""
    pairs, channels, size, n_iter = shape
    generator = torch.Generator().manual_seed(0)
    f1 = (torch.rand(pairs, channels, size, size, generator=generator) * 255).to(device)
    f2 = (f1 + torch.randn(f1.shape, generator=generator).to(device) * 8).requires_grad_(True)
    layer = TVL1Flow(channels, n_iter=n_iter).to(device)
    run_layer = torch.compile(layer) if compiled else layer

    def forward() -> None:
        with torch.no_grad():
            run_layer(f1, f2)

    def forward_backward() -> None:
        u1, u2 = run_layer(f1, f2)
        (u1.sum() + u2.sum()).backward()

    return LayerResult(
        shape,
        "compiled" if compiled else "eager",
        forward_ms=median(time_ms(forward, repeats=repeats, device=device)),
        backward_ms=median(time_ms(forward_backward, repeats=repeats, device=device)),
        forward_mib=peak_memory_mib(forward, device),
        backward_mib=peak_memory_mib(forward_backward, device),
    )


def format_table(results: list[LayerResult], device: torch.device) -> str:
    lines = [
        "| N, C, HxW, iters | mode | forward ms | fwd+bwd ms | peak MiB fwd | peak MiB fwd+bwd "
        "| vs published fwd | vs published fwd+bwd |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        pairs, channels, size, n_iter = result.shape
        reference = REFERENCE_MS.get(result.shape) if device.type == "cpu" else None
        ratios = (
            (f"{reference[0] / result.forward_ms:.1f}x", f"{reference[1] / result.backward_ms:.1f}x")
            if reference
            else ("-", "-")
        )
        lines.append(
            f"| {pairs}, {channels}, {size}x{size}, {n_iter} | {result.mode} | {result.forward_ms:.1f} | "
            f"{result.backward_ms:.1f} | {result.forward_mib:.1f} | {result.backward_mib:.1f} | {ratios[0]} | {ratios[1]} |"
        )
    return "\n".join(lines)


def _shape(text: str) -> tuple[int, int, int, int]:
    try:
        pairs, channels, size, n_iter = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a shape is N,C,SIZE,ITERS (four integers), got {text!r}") from None
    return pairs, channels, size, n_iter


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shapes", type=_shape, nargs="+", default=list(REFERENCE_MS), metavar="N,C,SIZE,ITERS",
                        help="layer input shapes (default: the three reference shapes)")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats per measurement (median reported)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile(layer) (slow to compile)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


def run(args: argparse.Namespace) -> int:
    device = torch.device(args.device)
    modes = [False, True] if args.compile else [False]
    results = [measure(shape, repeats=args.repeats, compiled=mode, device=device) for shape in args.shapes for mode in modes]
    print(f"TV-L1 flow layer, float32, device={device}, torch threads={torch.get_num_threads()}, torch {torch.__version__}")
    print(format_table(results, device))
    if device.type == "cpu":
        print("Ratios: published implementation's time (measured on a 2-core CPU) / this run's time.")
    return 0
