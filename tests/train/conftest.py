"""Fixtures for the training tests: a tiny generated video dataset and a runner for `python -m repflow`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from repflow.data.toy import write_toy_dataset

# A tiny, learnable setup: 2 motion directions, 2 videos each; the crop covers the whole short side and
# flips are off, so inputs vary only by clip start and a few optimiser steps visibly lower the loss.
TINY = ["--width", "8", "--flow", "rep", "--n-iter", "2", "--num-frames", "4", "--stride", "2",
        "--short-side", "32", "--crop-size", "32", "--no-flip", "--workers", "0", "--no-progress",
        "--optimizer", "adamw", "--lr", "0.002", "--warmup-epochs", "0", "--schedule", "step",
        "--step-epochs", "100"]


@pytest.fixture(scope="session")
def tiny_args() -> list[str]:
    """Model, clip and optimiser flags of the tiny learnable setup."""
    return list(TINY)


@pytest.fixture(scope="session")
def tiny_videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_videos")
    write_toy_dataset(root, num_classes=2, videos_per_class=2, num_frames=10, height=36, width=48)
    return root


def _child_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def repflow_env() -> dict[str, str]:
    """The environment for child processes: one intra-op thread each, so runs are reproducible and light."""
    return _child_env()


@pytest.fixture
def run_repflow():
    """Run ``python -m repflow ARGS`` to completion; fail the test with its output when it fails."""

    def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "repflow", *args], capture_output=True, text=True,
                                timeout=timeout, env=_child_env())
        assert result.returncode == 0, f"repflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    return run
