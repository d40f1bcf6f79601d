"""``repflow bench TARGET``: benchmarks that print what they measure on this machine."""

from __future__ import annotations

import argparse

# target -> (module with configure(parser) and run(args) -> int, one-line help)
TARGETS: dict[str, tuple[str, str]] = {
    "layer": ("repflow.bench.layer", "TV-L1 flow layer: forward and forward+backward time, memory"),
    "models": ("repflow.bench.models", "the paper's runtime table: RGB, Rep-Flow, flow-of-flow, two-stream with TV-L1"),
    "probe": ("repflow.bench.probe", "flow probes: overhead as a fraction of the model's forward time"),
    "step": ("repflow.bench.step", "one training step at paper scale: RGB, Rep-Flow, flow-of-flow (time, memory)"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    from repflow.cli import add_subcommands

    add_subcommands(parser, TARGETS, dest="target")


def run(args: argparse.Namespace) -> int:
    # add_subcommands stored the chosen target's run() as args._run, replacing this function.
    return args._run(args)
