"""The ``repflow`` command line: one sub-command per module, each exposing ``configure`` and ``run``."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from repflow.commands import add_subcommands
from repflow.io import WriteError

# name -> (module with configure(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("repflow.commands.bench", "measure the flow layer and models"),
    "figure": (
        "repflow.commands.figure",
        "paper figure (PNG/PDF/SVG) or animation (GIF/MP4) of a model's learned flows",
    ),
    "synth": ("repflow.commands.synth", "write the synthetic action dataset (mp4 clips + train/test lists)"),
    "train": ("repflow.commands.train", "train a model (YAML config + flag overrides; torchrun for multi-GPU)"),
    "eval": ("repflow.commands.eval", "clip/video-level top-1/top-5, per-class accuracy, confusion matrix"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="repflow", description=__doc__)
    add_subcommands(parser, COMMANDS, dest="command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # how the command was called (``repflow train`` prints the command that resumes it)
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, ModuleNotFoundError) as error:  # a missing package: an optional extra
        print(f"repflow {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # full disk, no permission, read-only filesystem: one line naming the file and the cause
        print(f"repflow {args.command}: error: {os_error_line(error)}", file=sys.stderr)
        return 1


def os_error_line(error: OSError) -> str:
    """``error`` as one line: "cannot write PATH: CAUSE" (`repflow.io.WriteError`), else "PATH: CAUSE"."""
    if isinstance(error, WriteError) or not error.filename:
        return str(error).splitlines()[0]
    return f"{error.filename}: {error.strerror or error}"


if __name__ == "__main__":
    raise SystemExit(main())
