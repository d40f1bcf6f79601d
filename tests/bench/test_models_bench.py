"""The model runtime benchmark runs every system of the paper's table on one clip and prints it beside the paper's."""

from __future__ import annotations

import re

import numpy as np
import pytest

from repflow.bench.models import EXTRACTION, PAPER_ROWS, REFERENCE, ModelTiming, moving_clip, table
from repflow.classical import tvl1
from repflow.cli import main

TINY = ["--frames", "4", "--size", "64", "--depth", "18", "--width", "4", "--classes", "3", "--flow-after", "layer2",
        "--repeats", "1", "--stacked-flows", "2", "--tvnet-iter", "2"]


def test_moving_clip_really_moves():
    frames = moving_clip(3, 48)
    assert frames.shape == (3, 48, 48, 3) and frames.dtype == np.uint8
    flow = tvl1(frames)[:, 8:-8, 8:-8]
    assert abs(flow[..., 0].mean() + 1) < 0.3 and abs(flow[..., 1].mean() + 2) < 0.3


def test_bench_models_prints_every_row_beside_the_paper(capsys):
    assert main(["bench", "models", *TINY]) == 0
    out = capsys.readouterr().out
    assert len(PAPER_ROWS) == 8
    for name, paper_ms in PAPER_ROWS.items():
        row = re.search(rf"^\| {re.escape(name)} \| (\d+) ± \d+ \| ([\d.]+) \| (\d+) \| ([\d.]+) \|$", out, re.M)
        assert row, f"no row for {name} in:\n{out}"
        assert int(row.group(3)) == round(paper_ms)
        assert float(row.group(4)) == pytest.approx(paper_ms / PAPER_ROWS[REFERENCE], abs=0.005)
    assert re.search(rf"^\| {re.escape(EXTRACTION)} \| \d+ ± \d+ \| [\d.]+ \| - \| - \|$", out, re.M)
    assert re.search(rf"^\| {re.escape(REFERENCE)} \| \d+ ± \d+ \| 1.00 \|", out, re.M)
    assert "4 frames of 64x64" in out and "OpenCV TV-L1" in out


def test_table_ratios_are_to_rep_flow_measured_here():
    timings = [ModelTiming(REFERENCE, 200.0, 5.0), ModelTiming("2D Two-Stream", 3000.0, 10.0)]
    lines = table(timings)
    assert lines[2] == f"| {REFERENCE} | 200 ± 5 | 1.00 | 622 | 1.00 |"
    assert lines[3] == "| 2D Two-Stream | 3000 ± 10 | 15.00 | 8546 | 13.74 |"


def test_too_few_frames_for_the_flow_stack_is_a_clear_error(capsys):
    assert main(["bench", "models", "--frames", "8"]) == 2
    assert "--frames (8) must exceed --stacked-flows (10)" in capsys.readouterr().err
