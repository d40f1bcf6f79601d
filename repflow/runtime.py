"""Where a command runs: the device it picks (training, evaluation and benchmarks share this choice)."""

from __future__ import annotations

import os

import torch

DEVICES = ("auto", "cpu", "cuda")


def pick_device(name: str) -> torch.device:
    """cuda when asked or (for "auto") available, else cpu; under torchrun, this process's own GPU."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device=cuda but no CUDA device is available")
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")
