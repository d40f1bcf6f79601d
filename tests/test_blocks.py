"""Tests of the flow blocks (repflow.blocks)."""

from __future__ import annotations

import pytest
import torch

from repflow.blocks import FlowLayer, FlowOfFlow, RepFlow, normalize_per_sample


def test_normalize_per_sample_range_and_independence():
    x = torch.randn(3, 4, 5, 6, 6)
    x[1] *= 100
    out = normalize_per_sample(x)
    for index in range(3):
        assert out[index].min().item() == pytest.approx(0.0, abs=1e-4)
        assert out[index].max().item() == pytest.approx(255.0, rel=1e-5)
        assert torch.allclose(out[index : index + 1], normalize_per_sample(x[index : index + 1]))


def test_normalize_constant_sample_is_zero_not_nan():
    x = torch.randn(2, 3, 4, 5, 5)
    x[0] = 3.0
    out = normalize_per_sample(x)
    assert torch.isfinite(out).all()
    assert out[0].abs().max() == 0


@pytest.mark.parametrize("block_type, lost_steps", [(RepFlow, 1), (FlowOfFlow, 2)])
@pytest.mark.parametrize("residual", ["last", "mean"])
def test_block_output_shape(block_type, lost_steps, residual):
    block = block_type(12, flow_channels=4, n_iter=3, residual=residual)
    out = block(torch.randn(2, 12, 5, 9, 7))
    assert out.shape == (2, 12, 5 - lost_steps, 9, 7)


@pytest.mark.parametrize("block_type", [RepFlow, FlowOfFlow])
def test_untrained_block_is_the_identity_path(block_type):
    """BatchNorm weight 0 means the flow branch adds nothing: out = relu(last T-k input steps)."""
    block = block_type(6, flow_channels=4, n_iter=2).eval()
    x = torch.randn(2, 6, 5, 8, 8)
    out = block(x)
    assert torch.allclose(out, torch.relu(x[:, :, 5 - out.shape[2] :]))


def test_mean_residual_averages_the_covered_steps():
    block = FlowOfFlow(4, flow_channels=2, n_iter=2, residual="mean").eval()
    x = torch.randn(1, 4, 5, 6, 6)
    expected = torch.relu((x[:, :, :-2] + x[:, :, 1:-1] + x[:, :, 2:]) / 3)
    assert torch.allclose(block(x), expected, atol=1e-6)


def test_flow_layer_folds_pairs_and_taps_raw_flow():
    layer = FlowLayer(3, kind="rep", n_iter=4)
    seen = {}
    layer.tap.register_forward_hook(lambda _m, _i, out: seen.setdefault("flow", out))
    x = torch.rand(2, 3, 4, 8, 8)
    out = layer(x)
    assert out.shape == (2, 6, 3, 8, 8)
    flow = seen["flow"]
    assert flow.shape == (2, 3, 3, 2, 8, 8)
    # Channel order of the output: x-flows of all channels, then y-flows.
    assert torch.equal(out[:, :3], flow[:, :, :, 0]) and torch.equal(out[:, 3:], flow[:, :, :, 1])
    # Step t of sample b is the flow between frames t and t+1 of that sample alone.
    normalized = x[1:2] - x[1:2].min()
    normalized = normalized * (255.0 / normalized.max())
    u1, u2 = layer.tvl1(normalized[:, :, 2], normalized[:, :, 3])
    assert torch.allclose(flow[1, :, 2, 0], u1[0], atol=1e-4) and torch.allclose(flow[1, :, 2, 1], u2[0], atol=1e-4)


def test_block_errors_name_the_problem():
    with pytest.raises(ValueError, match="T >= 3"):
        FlowOfFlow(4, flow_channels=2)(torch.randn(1, 4, 2, 6, 6))
    with pytest.raises(ValueError, match=r"expected \(B, 4, T, H, W\)"):
        RepFlow(4, flow_channels=2)(torch.randn(1, 5, 3, 6, 6))
    with pytest.raises(ValueError, match="residual"):
        RepFlow(4, residual="first")
