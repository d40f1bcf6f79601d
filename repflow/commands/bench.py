"""``repflow bench TARGET``: benchmarks that print what they measure on this machine."""

from __future__ import annotations

import argparse

from repflow.commands import add_subcommands

# target -> (module with configure(parser) and run(args) -> int, one-line help)
TARGETS: dict[str, tuple[str, str]] = {
    "alignment": ("repflow.bench.alignment", "flow layers: per-channel agreement of |flow| with OpenCV TV-L1"),
    "layer": ("repflow.bench.layer", "TV-L1 flow layer: forward and forward+backward time, memory"),
    "models": ("repflow.bench.models", "the paper's runtime table: six systems + 2D Rep-Flow, (2+1)D RGB"),
    "probe": ("repflow.bench.probe", "flow probes: overhead as a fraction of the model's forward time"),
    "step": ("repflow.bench.step", "one training step at paper scale: RGB, Rep-Flow, flow-of-flow (time, memory)"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    """One sub-command per target; each target's own ``run`` runs it."""
    add_subcommands(parser, TARGETS, dest="target")
