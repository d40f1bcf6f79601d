"""The layer benchmark runs and reports one row per shape (figures are not asserted: machines are noisy)."""

from __future__ import annotations

import torch

from repflow.bench.layer import peak_memory_mib
from repflow.cli import main
from repflow.flow import TVL1Flow


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


SLOW_FLOW = '''
import time

from repflow.flow import TVL1Flow as _Current


class TVL1Flow(_Current):
    def forward(self, f1, f2):
        time.sleep(0.2)
        return super().forward(f1, f2)
'''


def test_side_by_side_comparison_sees_the_slower_layer(tmp_path):
    from repflow.bench.layer import compare, load_flow_class

    (tmp_path / "slow_flow.py").write_text(SLOW_FLOW)
    result = compare(
        (1, 2, 8, 2), load_flow_class(str(tmp_path / "slow_flow.py")), repeats=3, device=torch.device("cpu")
    )
    (fast, slow), (fast_bwd, slow_bwd) = result.forward_ms, result.backward_ms
    # the 200 ms sleep stands far above the timing noise of a loaded machine
    assert slow > fast + 150 and slow_bwd > fast_bwd + 150, (result.forward_ms, result.backward_ms)


def test_against_prints_the_ratio_table_and_refuses_bad_files(tmp_path, capsys):
    (tmp_path / "same_flow.py").write_text("from repflow.flow import TVL1Flow\n")
    assert (
        main(["bench", "layer", "--shapes", "2,3,8,2", "--repeats", "2", "--against", str(tmp_path / "same_flow.py")])
        == 0
    )
    out = capsys.readouterr().out
    assert "Side by side with" in out and out.count("| 2, 3, 8x8, 2 |") == 2
    (tmp_path / "other.py").write_text("x = 1\n")
    assert main(["bench", "layer", "--shapes", "2,3,8,2", "--against", str(tmp_path / "other.py")]) == 2
    assert "defines no TVL1Flow" in capsys.readouterr().err
    assert main(["bench", "layer", "--shapes", "2,3,8,2", "--against", str(tmp_path / "missing.py")]) == 2
    assert "not a Python file" in capsys.readouterr().err
    (tmp_path / "broken.py").write_text("def TVL1Flow(:\n")
    assert main(["bench", "layer", "--shapes", "2,3,8,2", "--against", str(tmp_path / "broken.py")]) == 2
    assert "could not be loaded (SyntaxError" in capsys.readouterr().err


def test_cuda_table_compares_with_the_published_h200_figures_and_the_eager_solver():
    from repflow.bench.layer import LayerResult, format_fused_gain, format_table

    shape = (248, 32, 28, 10)
    results = [LayerResult(shape, "eager", 10.0, 50.0, 100.0, 4000.0),
               LayerResult(shape, "fused", 0.5, 5.0, 50.0, 400.0)]
    table = format_table(results, torch.device("cuda"))
    assert "| 248, 32, 28x28, 10 | fused | 0.50 | 5.00 | 50.0 | 400.0 | 72.4x | 33.5x | 0.05x |" in table
    assert "| 248, 32, 28x28, 10 | 20.0x | 10.0x | 10.0x |" in format_fused_gain(results)
