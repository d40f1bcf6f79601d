"""``repflow bench TARGET``: benchmarks that print what they measure on this machine."""

from __future__ import annotations

import argparse
import importlib

# target -> (module with configure(parser) and run(args) -> int, one-line help)
TARGETS: dict[str, tuple[str, str]] = {
    "layer": ("repflow.bench.layer", "TV-L1 flow layer: forward and forward+backward time, memory"),
    "models": ("repflow.bench.models", "the paper's runtime table: RGB, Rep-Flow, flow-of-flow, two-stream with TV-L1"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", required=True, metavar="TARGET")
    for name, (module_name, help_text) in TARGETS.items():
        module = importlib.import_module(module_name)
        target_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(target_parser)
        target_parser.set_defaults(_bench=module.run)


def run(args: argparse.Namespace) -> int:
    return args._bench(args)
