"""The layer benchmark runs and reports one row per shape (figures are not asserted: machines are noisy)."""

from __future__ import annotations

from repflow.bench.layer import saved_for_backward_mib
from repflow.cli import main
from repflow.flow import TVL1Flow

import torch


def test_bench_layer_prints_a_row_per_shape(capsys):
    assert main(["bench", "layer", "--shapes", "2,3,8,2", "3,2,6,3", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "| 2, 3, 8x8, 2 | eager |" in out and "| 3, 2, 6x6, 3 | eager |" in out


def test_saved_memory_grows_with_iterations():
    f1, f2 = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8, requires_grad=True)
    few = saved_for_backward_mib(TVL1Flow(3, n_iter=2), f1, f2)
    many = saved_for_backward_mib(TVL1Flow(3, n_iter=8), f1, f2)
    assert 0 < few < many


def test_bad_shape_is_a_usage_error(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["bench", "layer", "--shapes", "2,3,8"])
    assert "N,C,SIZE,ITERS" in capsys.readouterr().err
