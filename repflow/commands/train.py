"""``repflow train``: train a model from a YAML config plus command-line overrides.

Multi-GPU / multi-node: ``torchrun --nproc_per_node=N -m repflow train --config ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from repflow.train.config import add_config_arguments, config_from_args


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``--config`` and one flag per TrainConfig field."""
    parser.epilog = ("Example: repflow train --config configs/hmdb51_rep_flow.yaml --data-root data/hmdb51 "
                     "--splits-dir data/hmdb51_splits --out-dir runs/hmdb51_rep")
    add_config_arguments(parser)
    parser.add_argument("--print-config", action="store_true", help="print the resolved settings as YAML and exit")


def run(args: argparse.Namespace) -> int:
    """Resolve the settings and train; prints the final epoch's metrics."""
    from repflow.train.config import config_to_dict

    config = config_from_args(args)
    if args.print_config:
        import yaml

        print(yaml.safe_dump(config_to_dict(config), sort_keys=False), end="")
        return 0
    from repflow.data.datasets import plain_video_errors
    from repflow.train.loop import train

    try:
        with plain_video_errors():
            summary = train(config)
    except KeyboardInterrupt:
        if os.environ.get("RANK", "0") == "0":  # under torchrun every process gets Ctrl-C; one of them says it
            print(interrupted_message(config.out_dir, getattr(args, "argv", None)), file=sys.stderr)
        return 130
    if os.environ.get("RANK", "0") == "0":
        last = summary["history"][-1] if summary["history"] else {}
        print(json.dumps({"out_dir": config.out_dir, "global_step": summary["global_step"], **last}))
    return 0


def interrupted_message(out_dir: str, argv: list[str] | None) -> str:
    """What Ctrl-C prints: where the last checkpoint is and the command that resumes from it exactly."""
    from repflow.train.loop import LAST_CHECKPOINT

    last = Path(out_dir) / LAST_CHECKPOINT
    if not last.is_file():
        return f"interrupted before the first checkpoint: nothing was saved in {out_dir}"
    argv = list(argv if argv is not None else ["train", "--out-dir", str(out_dir)])
    if "--resume" not in argv:
        argv.append("--resume")
    launch = " (under the same torchrun launch)" if int(os.environ.get("WORLD_SIZE", "1")) > 1 else ""
    return (f"interrupted: the last checkpoint is {last}; continue exactly from it with: repflow {shlex.join(argv)}"
            f"{launch}")
