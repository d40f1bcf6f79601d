"""The layer benchmark runs and reports one row per shape (figures are not asserted: machines are noisy)."""

from __future__ import annotations

from repflow.bench.layer import peak_memory_mib
from repflow.cli import main
from repflow.flow import TVL1Flow

import torch


def test_bench_layer_prints_a_row_per_shape(capsys):
    assert main(["bench", "layer", "--shapes", "2,3,8,2", "3,2,6,3", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "| 2, 3, 8x8, 2 | eager |" in out and "| 3, 2, 6x6, 3 | eager |" in out


def test_peak_memory_counts_what_autograd_keeps():
    """fwd+bwd keeps every iteration's intermediates: more iterations, more peak memory; no-grad forward far less."""
    f1, f2 = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16, requires_grad=True)
    cpu = torch.device("cpu")

    def train_step(n_iter):
        layer = TVL1Flow(3, n_iter=n_iter)
        return lambda: sum(u.sum() for u in layer(f1, f2)).backward()

    def forward(n_iter):
        layer = TVL1Flow(3, n_iter=n_iter)

        def run():
            with torch.no_grad():
                layer(f1, f2)

        return run

    few, many = peak_memory_mib(train_step(2), cpu), peak_memory_mib(train_step(8), cpu)
    one_tensor = f1.numel() * 4 / 2**20
    assert one_tensor < few < many
    assert peak_memory_mib(forward(8), cpu) < many / 2


def test_bad_shape_is_a_usage_error(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["bench", "layer", "--shapes", "2,3,8"])
    assert "N,C,SIZE,ITERS" in capsys.readouterr().err
