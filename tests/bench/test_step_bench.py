"""The training-step benchmark trains every model kind one step and prints their ratios to the RGB step."""

from __future__ import annotations

import torch

from repflow.cli import main
from repflow.models import ModelConfig, build_model, to_channels_last_3d


def test_bench_step_small_prints_every_model_against_rgb(capsys):
    assert main(["bench", "step", "--small", "--repeats", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "| RGB |" in out and "| 1.00x |" in out
    for name in ("Rep-Flow", "flow-of-flow"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {name} |"))
        assert row.count("x |") == 2


def test_channels_last_goes_to_the_3d_convolutions_only():
    model = to_channels_last_3d(build_model(ModelConfig(depth=18, width=4, flow="fcf", flow_after="layer2")))
    weights = {name: param for name, param in model.named_parameters()}
    assert weights["stem.0.weight"].is_contiguous(memory_format=torch.channels_last_3d)
    assert not weights["stem.0.weight"].is_contiguous()
    assert weights["flow_block.flow1.tvl1.img_grad_x"].is_contiguous()
    clip = torch.randn(1, 3, 3, 32, 32).contiguous(memory_format=torch.channels_last_3d)
    assert model.eval()(clip).shape == (1, 400)
