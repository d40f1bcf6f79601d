"""The model runtime benchmark runs every model on one clip and prints the table and ratios."""

from __future__ import annotations

import numpy as np

from repflow.bench.models import moving_clip
from repflow.classical import tvl1
from repflow.cli import main


def test_moving_clip_really_moves():
    frames = moving_clip(3, 48)
    assert frames.shape == (3, 48, 48, 3) and frames.dtype == np.uint8
    flow = tvl1(frames)[:, 8:-8, 8:-8]
    assert abs(flow[..., 0].mean() + 1) < 0.3 and abs(flow[..., 1].mean() + 2) < 0.3


def test_bench_models_prints_every_model_and_the_ratio(capsys):
    argv = ["bench", "models", "--frames", "4", "--size", "64", "--depth", "18", "--width", "4", "--classes", "3",
            "--flow-after", "layer2", "--repeats", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for name in ("RGB only", "Rep-Flow", "flow-of-flow", "two-stream (TV-L1 incl.)", "TV-L1 extraction alone"):
        assert f"| {name} |" in out
    assert "two-stream / Rep-Flow:" in out
