"""Tests of the (2+1)D ResNets and the two-stream baseline (repflow.models)."""

from __future__ import annotations

import itertools

import pytest
import torch

from repflow.models import STAGES, ModelConfig, TwoStream, build_model, r2plus1d_18, r2plus1d_34, r2plus1d_50

CONFIGS = [
    ModelConfig(depth=depth, flow=flow, flow_after=stage, width=4, num_classes=3, flow_channels=4, n_iter=2)
    for depth, flow, stage in itertools.product((18, 34, 50), ("none", "rep", "fcf"), ("layer2", "layer3"))
] + [ModelConfig(depth=18, flow=flow, flow_after=stage, width=4, num_classes=3, flow_channels=4, n_iter=2)
     for flow, stage in itertools.product(("rep", "fcf"), ("layer1", "layer4"))]


def _name(config: ModelConfig) -> str:
    return f"r{config.depth}-{config.flow}-{config.flow_after}"


@pytest.mark.parametrize("config", CONFIGS, ids=_name)
def test_every_config_runs_and_every_parameter_gets_a_gradient(config):
    torch.manual_seed(0)
    model = build_model(config)
    if config.flow != "none":
        # The block's BatchNorm starts at weight 0 (identity path); open it so gradients reach the flow layers.
        torch.nn.init.ones_(model.flow_block.bn.weight)
    clip = torch.randn(2, 3, 4, config.min_size, config.min_size + 8)
    logits = model(clip)
    assert logits.shape == (2, 3)
    logits.square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("frames", [3, 7])
def test_any_clip_length_from_three_frames(frames):
    model = build_model(ModelConfig(flow="fcf", width=4, num_classes=2, flow_channels=4, n_iter=2)).eval()
    assert model(torch.randn(1, 3, frames, 33, 45)).shape == (1, 2)


def test_input_errors_are_explicit():
    model = build_model(ModelConfig(flow="fcf", width=4, num_classes=2, flow_channels=4, n_iter=2))
    with pytest.raises(ValueError, match="T >= 3"):
        model(torch.randn(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match="at least 32x32"):
        model(torch.randn(1, 3, 4, 16, 32))
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        model(torch.randn(1, 2, 4, 32, 32))
    with pytest.raises(ValueError, match="flow must be one of"):
        ModelConfig(flow="two")
    with pytest.raises(ValueError, match="flow_after"):
        ModelConfig(flow_after="layer5")
    late = build_model(ModelConfig(flow="rep", flow_after="layer4", width=4, num_classes=2, flow_channels=4))
    with pytest.raises(ValueError, match="at least 64x64"):
        late(torch.randn(1, 3, 4, 48, 48))


def test_builders_and_stable_module_names():
    assert r2plus1d_18(width=4, num_classes=2).config.depth == 18
    assert r2plus1d_34(width=4, num_classes=2).config.depth == 34
    model = r2plus1d_50(width=4, num_classes=2, flow="fcf", flow_channels=4)
    names = dict(model.named_modules())
    assert {"stem", "fc", "flow_block", "flow_block.flow1", "flow_block.flow2", *STAGES} <= names.keys()


def test_full_size_resnet50_has_expected_scale():
    """Standard width: ResNet-50 (2+1)D is in the tens of millions of parameters, ResNet-18 ~30M."""
    def count(model):
        return sum(p.numel() for p in model.parameters())

    assert 25e6 < count(r2plus1d_18(num_classes=400)) < 40e6
    assert 40e6 < count(r2plus1d_50(num_classes=400)) < 60e6


def test_config_round_trip_and_unknown_fields():
    config = ModelConfig(depth=34, flow="rep", width=16)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown model_config field"):
        ModelConfig.from_dict({**config.to_dict(), "dropout": 0.5})


def test_two_stream_averages_logits():
    rgb = build_model(ModelConfig(width=4, num_classes=3)).eval()
    flow = build_model(ModelConfig(width=4, num_classes=3, in_channels=2)).eval()
    rgb_clip, flow_clip = torch.randn(1, 3, 4, 32, 32), torch.randn(1, 2, 3, 32, 32)
    fused = TwoStream(rgb, flow)(rgb_clip, flow_clip)
    assert torch.allclose(fused, (rgb(rgb_clip) + flow(flow_clip)) / 2)
