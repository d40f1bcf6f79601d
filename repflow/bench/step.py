"""``repflow bench step``: the time and memory of one training step, RGB against Rep-Flow and flow-of-flow.

Paper scale by default: (2+1)D ResNet-50, 8 clips of 32 frames at 224x224, the flow block after layer3 (28x28
maps, 32 flow channels, 10 iterations). A step is forward (bfloat16 autocast on CUDA), cross-entropy, backward
and an SGD update with momentum; the 3D convolutions' weights and the clips are channels-last. The flow models use
the layer's automatic solver (the fused Triton one on CUDA) and, on CUDA, also the plain PyTorch one.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from repflow.bench.layer import peak_memory_mib
from repflow.bench.timing import median, time_ms
from repflow.flow import TVL1Flow
from repflow.models import ModelConfig, build_model, to_channels_last_3d

SMALL = {"batch": 2, "frames": 3, "size": 32, "depth": 18, "width": 4, "flow_channels": 4, "classes": 10}


@dataclass
class StepResult:
    name: str
    ms: float
    peak_mib: float


def _models(device: torch.device) -> list[tuple[str, str, str]]:
    """(row name, flow kind, TVL1Flow impl) of every measured model."""
    rows = [("RGB", "none", "auto"), ("Rep-Flow", "rep", "auto"), ("flow-of-flow", "fcf", "auto")]
    if device.type == "cuda":
        rows += [("Rep-Flow, plain solver", "rep", "plain"), ("flow-of-flow, plain solver", "fcf", "plain")]
    return rows


def training_step(args: argparse.Namespace, flow: str, impl: str, device: torch.device) -> Callable[[], None]:
    """One SGD step of a fresh model of kind ``flow`` on a fixed random batch (its flow layers set to ``impl``)."""
    config = ModelConfig(depth=args.depth, width=args.width, num_classes=args.classes, flow=flow,
                         flow_after=args.flow_after, flow_channels=args.flow_channels, n_iter=args.n_iter)
    model = to_channels_last_3d(build_model(config).to(device).train())
    for module in model.modules():
        if isinstance(module, TVL1Flow):
            module.impl = impl
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    clips = torch.randn(args.batch, 3, args.frames, args.size, args.size, generator=generator)
    clips = clips.to(device).contiguous(memory_format=torch.channels_last_3d)
    labels = torch.randint(args.classes, (args.batch,), generator=generator).to(device)
    amp = device.type == "cuda"

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(clips)
        loss = F.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def measure(args: argparse.Namespace, device: torch.device) -> list[StepResult]:
    results = []
    for name, flow, impl in _models(device):
        step = training_step(args, flow, impl, device)
        # Two warm-up steps on CUDA: Triton compiles the kernels, cuDNN picks its algorithms.
        warmup = 2 if device.type == "cuda" else 1
        milliseconds = median(time_ms(step, repeats=args.repeats, warmup=warmup, device=device))
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            step()
            torch.cuda.synchronize(device)
            peak = torch.cuda.max_memory_allocated(device) / 2**20
        else:
            peak = peak_memory_mib(step, device)
        results.append(StepResult(name, milliseconds, peak))
        del step  # frees the model, its optimizer state and the batch before the next model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return results


def format_table(results: list[StepResult]) -> str:
    rgb = results[0]
    lines = ["| model | ms per step (median) | vs RGB | peak MiB | vs RGB |", "|---|---|---|---|---|"]
    for result in results:
        lines.append(f"| {result.name} | {result.ms:.1f} | {result.ms / rgb.ms:.2f}x | {result.peak_mib:.1f} "
                     f"| {result.peak_mib / rgb.peak_mib:.2f}x |")
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", type=int, default=8, help="clips per step (paper: 8)")
    parser.add_argument("--frames", type=int, default=32, help="clip length (paper: 32)")
    parser.add_argument("--size", type=int, default=224, help="frame side in pixels (paper: 224)")
    parser.add_argument("--depth", type=int, default=50, choices=(18, 34, 50), help="ResNet depth (paper: 50)")
    parser.add_argument("--width", type=int, default=64, help="base width (64 = standard)")
    parser.add_argument("--flow-after", default="layer3", help="stage the flow block follows")
    parser.add_argument("--flow-channels", type=int, default=32, help="channels the flow is computed on (paper: 32)")
    parser.add_argument("--n-iter", type=int, default=10, help="TV-L1 iterations per flow layer")
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per model (median reported)")
    parser.add_argument("--small", action="store_true", help="quick preset for a CPU: " + ", ".join(
        f"{name.replace('_', '-')} {value}" for name, value in SMALL.items()))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


def run(args: argparse.Namespace) -> int:
    if args.small:
        for name, value in SMALL.items():
            setattr(args, name, value)
    device = torch.device(args.device)
    results = measure(args, device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    precision = "bfloat16 autocast" if device.type == "cuda" else "float32"
    print(f"Training step: {args.batch} clips x 3 x {args.frames} x {args.size}^2, (2+1)D ResNet-{args.depth} "
          f"width {args.width}, flow after {args.flow_after} ({args.flow_channels} channels, {args.n_iter} "
          f"iterations), {precision}, channels-last 3D convolutions, SGD; device={device} ({where}), "
          f"torch {torch.__version__}")
    print(format_table(results))
    print("Peak MiB: " + ("the CUDA allocator's peak during one step (weights and optimizer state included)."
                          if device.type == "cuda" else "the allocations made during one step."))
    return 0
