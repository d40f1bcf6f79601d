"""``repflow bench layer``: speed and memory of the TV-L1 flow layer at the issue's reference shapes.

Reference: the published implementation, measured on a 2-core CPU of this project's machines, took
140 / 309 / 132 ms forward and 352 / 1063 / 433 ms forward+backward at the three default CPU shapes; on one
NVIDIA H200 (issue 12) it took the times and memory in ``PUBLISHED_H200``. On CUDA the plain (eager) solver and
the fused Triton solver are measured in the same run.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from repflow.bench.timing import median, time_ms
from repflow.flow import TVL1Flow
from repflow.video.backends import native_stderr_silenced

# (pairs N, channels C, size H=W, iterations) -> published implementation's (forward, forward+backward) ms.
REFERENCE_MS: dict[tuple[int, int, int, int], tuple[float, float]] = {
    (7, 32, 28, 10): (140.0, 352.0),
    (7, 32, 56, 10): (309.0, 1063.0),
    (15, 32, 14, 20): (132.0, 433.0),
}
# The published implementation (V1 layer with the boolean-xor fix) on one H200, float32, CUDA events, median
# (issue 12, torch 2.11+cu130): (N, C, size, iters) -> (forward ms, forward+backward ms, peak MiB fwd+bwd).
PUBLISHED_H200: dict[tuple[int, int, int, int], tuple[float, float, float]] = {
    (7, 32, 28, 10): (17.3, 79.0, 233.0),
    (248, 32, 28, 10): (36.2, 167.3, 8295.0),
    (248, 32, 56, 10): (121.3, 549.8, 32856.0),
}
# mode -> TVL1Flow impl
MODES = {"eager": "plain", "compiled": "plain", "fused": "triton"}


@dataclass
class LayerResult:
    shape: tuple[int, int, int, int]
    mode: str
    forward_ms: float
    backward_ms: float
    forward_mib: float
    backward_mib: float


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
    # the profiler's C++ code prints a status line per start and stop
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as recording:
        run()
    live = peak = 0
    for event in sorted(recording.events(), key=lambda event: event.time_range.start):
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak / 2**20


def _inputs(shape: tuple[int, int, int, int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Two feature maps of ``shape`` in [0, 255] (the second a noisy copy of the first, needing a gradient)."""
    pairs, channels, size, _ = shape
    generator = torch.Generator().manual_seed(0)
    f1 = (torch.rand(pairs, channels, size, size, generator=generator) * 255).to(device)
    f2 = (f1 + torch.randn(f1.shape, generator=generator).to(device) * 8).requires_grad_(True)
    return f1, f2


def _step(layer: Callable, f1: torch.Tensor, f2: torch.Tensor, *, backward: bool) -> None:
    """One forward pass (under no_grad), or one forward and backward pass."""
    if not backward:
        with torch.no_grad():
            layer(f1, f2)
        return
    u1, u2 = layer(f1, f2)
    (u1.sum() + u2.sum()).backward()


def measure(shape: tuple[int, int, int, int], *, repeats: int, mode: str, device: torch.device) -> LayerResult:
    """Median forward and forward+backward time and peak memory of one flow layer at ``shape``.

    ``mode``: "eager" (the plain PyTorch solver), "compiled" (torch.compile of it) or "fused" (the Triton solver).
    """
    f1, f2 = _inputs(shape, device)
    layer = TVL1Flow(shape[1], n_iter=shape[3], impl=MODES[mode]).to(device)
    run_layer = torch.compile(layer) if mode == "compiled" else layer

    def forward() -> None:
        _step(run_layer, f1, f2, backward=False)

    def forward_backward() -> None:
        _step(run_layer, f1, f2, backward=True)

    return LayerResult(
        shape,
        mode,
        forward_ms=median(time_ms(forward, repeats=repeats, device=device)),
        backward_ms=median(time_ms(forward_backward, repeats=repeats, device=device)),
        forward_mib=peak_memory_mib(forward, device),
        backward_mib=peak_memory_mib(forward_backward, device),
    )


def load_flow_class(path: str) -> type[nn.Module]:
    """The ``TVL1Flow`` class of another flow.py, e.g. ``git show HEAD~1:repflow/flow.py > old_flow.py``.

    The file is executed: compare only code you trust.
    """
    spec = importlib.util.spec_from_file_location("_repflow_flow_compared", path)
    if spec is None or spec.loader is None or not os.path.isfile(path):
        raise ValueError(f"--against {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a syntax error, a missing import: say so instead of a traceback
        raise ValueError(f"--against {path}: could not be loaded ({type(error).__name__}: {error})") from None
    if not isinstance(getattr(module, "TVL1Flow", None), type):
        raise ValueError(f"--against {path}: the file defines no TVL1Flow class")
    return module.TVL1Flow


@dataclass
class Comparison:
    shape: tuple[int, int, int, int]
    forward_ms: tuple[float, float]   # (this layer, the other one)
    backward_ms: tuple[float, float]


def compare(
    shape: tuple[int, int, int, int], other: type[nn.Module], *, repeats: int, device: torch.device
) -> Comparison:
    """Median times of this ``TVL1Flow`` and ``other`` at ``shape``, timed alternately (one call each, the order
    swapped every repeat) so that both see the same machine load."""
    f1, f2 = _inputs(shape, device)
    layers = [TVL1Flow(shape[1], n_iter=shape[3]).to(device), other(shape[1], n_iter=shape[3]).to(device)]
    medians = []
    for backward in (False, True):
        times: list[list[float]] = [[], []]
        for repeat in range(repeats):
            for index in (0, 1) if repeat % 2 == 0 else (1, 0):
                run = functools.partial(_step, layers[index], f1, f2, backward=backward)
                times[index] += time_ms(run, repeats=1, warmup=1 if repeat == 0 else 0, device=device)
        medians.append((median(times[0]), median(times[1])))
    return Comparison(shape, forward_ms=medians[0], backward_ms=medians[1])


def format_table(results: list[LayerResult], device: torch.device) -> str:
    """One row per shape and mode, with the published implementation's time (and on CUDA memory) / this run's."""
    lines = [
        "| N, C, HxW, iters | mode | forward ms | fwd+bwd ms | peak MiB fwd | peak MiB fwd+bwd "
        "| vs published fwd | vs published fwd+bwd | peak fwd+bwd / published |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        pairs, channels, size, n_iter = result.shape
        reference = (REFERENCE_MS if device.type == "cpu" else PUBLISHED_H200).get(result.shape)
        ratios = ("-", "-", "-")
        if reference:
            memory = f"{result.backward_mib / reference[2]:.2f}x" if len(reference) > 2 else "-"
            ratios = (f"{reference[0] / result.forward_ms:.1f}x", f"{reference[1] / result.backward_ms:.1f}x", memory)
        lines.append(
            f"| {pairs}, {channels}, {size}x{size}, {n_iter} | {result.mode} | {result.forward_ms:.2f} | "
            f"{result.backward_ms:.2f} | {result.forward_mib:.1f} | {result.backward_mib:.1f} | {' | '.join(ratios)} |"
        )
    return "\n".join(lines)


def format_fused_gain(results: list[LayerResult]) -> str:
    """Eager / fused time and memory per shape, both measured in this run."""
    lines = ["| N, C, HxW, iters | forward: eager / fused | fwd+bwd: eager / fused | peak MiB fwd+bwd: eager / fused |",
             "|---|---|---|---|"]
    by_mode = {(result.shape, result.mode): result for result in results}
    for (shape, mode), fused in by_mode.items():
        eager = by_mode.get((shape, "eager"))
        if mode != "fused" or eager is None:
            continue
        pairs, channels, size, n_iter = shape
        ratios = (eager.forward_ms / fused.forward_ms, eager.backward_ms / fused.backward_ms,
                  eager.backward_mib / fused.backward_mib)
        cells = " | ".join(f"{ratio:.1f}x" for ratio in ratios)
        lines.append(f"| {pairs}, {channels}, {size}x{size}, {n_iter} | {cells} |")
    return "\n".join(lines)


def format_comparison(comparisons: list[Comparison], other: str) -> str:
    lines = [
        f"Side by side with {other} (medians of alternating calls; ratio = that file's time / this one's):",
        "| N, C, HxW, iters | forward ms, this / that | ratio | fwd+bwd ms, this / that | ratio |",
        "|---|---|---|---|---|",
    ]
    for item in comparisons:
        pairs, channels, size, n_iter = item.shape
        (fwd, fwd_other), (bwd, bwd_other) = item.forward_ms, item.backward_ms
        lines.append(f"| {pairs}, {channels}, {size}x{size}, {n_iter} | {fwd:.1f} / {fwd_other:.1f} | "
                     f"{fwd_other / fwd:.2f}x | {bwd:.1f} / {bwd_other:.1f} | {bwd_other / bwd:.2f}x |")
    return "\n".join(lines)


def _shape(text: str) -> tuple[int, int, int, int]:
    try:
        pairs, channels, size, n_iter = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a shape is N,C,SIZE,ITERS (four integers), got {text!r}") from None
    return pairs, channels, size, n_iter


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shapes", type=_shape, nargs="+", metavar="N,C,SIZE,ITERS",
                        help="layer input shapes (default: the three reference shapes of the device type)")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats per measurement (median reported)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile(layer) (slow to compile)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--against", metavar="FLOW_PY", help="also time the TVL1Flow of another flow.py file "
                        "(e.g. from `git show REV:repflow/flow.py`) alternately with this one, and print the ratios")


def run(args: argparse.Namespace) -> int:
    device = torch.device(args.device)
    if args.against:
        try:
            other = load_flow_class(args.against)
        except ValueError as error:
            print(f"repflow bench layer: {error}", file=sys.stderr)
            return 2
    shapes = args.shapes or list(REFERENCE_MS if device.type == "cpu" else PUBLISHED_H200)
    modes = ["eager"] + (["compiled"] if args.compile else []) + (["fused"] if device.type == "cuda" else [])
    results = [measure(shape, repeats=args.repeats, mode=mode, device=device) for shape in shapes for mode in modes]
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"TV-L1 flow layer, float32, device={device} ({where}), torch {torch.__version__}")
    print(format_table(results, device))
    if device.type == "cpu":
        print("Ratios: published implementation's time (measured on a 2-core CPU) / this run's time.")
    else:
        print("Ratios: the published implementation's time on an H200 (issue 12, not this run) / this run's time; "
              "memory: this run's peak / the published one's.")
        print("Fused Triton solver against the eager one, both in this run:")
        print(format_fused_gain(results))
    if args.against:
        comparisons = [compare(shape, other, repeats=args.repeats, device=device) for shape in shapes]
        print(format_comparison(comparisons, args.against))
    return 0
