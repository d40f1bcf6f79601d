"""``repflow bench TARGET``: benchmarks that print what they measure on this machine."""

from __future__ import annotations

import argparse

# target -> (module with configure(parser) and run(args) -> int, one-line help)
TARGETS: dict[str, tuple[str, str]] = {
    "alignment": ("repflow.bench.alignment", "flow layers: per-channel agreement of |flow| with classical TV-L1 |flow|"),
    "layer": ("repflow.bench.layer", "TV-L1 flow layer: forward and forward+backward time, memory"),
    "models": ("repflow.bench.models", "the paper's runtime table: RGB, Rep-Flow, flow-of-flow, two-stream with TV-L1"),
    "probe": ("repflow.bench.probe", "flow probes: overhead as a fraction of the model's forward time"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    from repflow.cli import add_subcommands

    add_subcommands(parser, TARGETS, dest="target")


def run(args: argparse.Namespace) -> int:
    # add_subcommands stored the chosen target's run() as args._run, replacing this function.
    return args._run(args)
