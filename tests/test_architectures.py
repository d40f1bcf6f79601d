"""Tests of the paper's baselines (repflow.architectures): 2D ResNets, TVNet, I3D, built through ModelConfig.arch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repflow.architectures import architecture_name
from repflow.architectures.resnet2d import stack_flow_windows
from repflow.architectures.tvnet import grayscale
from repflow.bench.models import moving_clip
from repflow.checkpoint import model_from_payload, model_payload
from repflow.data.transforms import normalize, to_model_input
from repflow.inspect import capture_flows, list_flow_layers
from repflow.models import ModelConfig, build_model
from repflow.probe import attach_probes, list_probe_points

TINY = dict(width=8, num_classes=3, flow_channels=4, n_iter=2, stacked_flows=2)
# (id, config, input channels): every architecture and every input kind it takes.
CASES = [
    ("2d-rgb-r18", ModelConfig(arch="resnet2d", **TINY), 3),
    ("2d-rgb-r50", ModelConfig(arch="resnet2d", depth=50, **TINY), 3),
    ("2d-flow", ModelConfig(arch="resnet2d", in_channels=2, **TINY), 2),
    ("2d-rep", ModelConfig(arch="resnet2d", flow="rep", **TINY), 3),
    ("2d-fcf-layer3", ModelConfig(arch="resnet2d", flow="fcf", flow_after="layer3", **TINY), 3),
    ("tvnet", ModelConfig(arch="tvnet", **TINY), 3),
    ("i3d-rgb", ModelConfig(arch="i3d", **TINY), 3),
    ("i3d-flow", ModelConfig(arch="i3d", in_channels=2, **TINY), 2),
]


@pytest.mark.parametrize("config, channels", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_shapes_and_every_parameter_gets_a_gradient(config, channels):
    torch.manual_seed(0)
    model = build_model(config)
    assert model.config == config
    if config.flow != "none":
        # The block's BatchNorm starts at weight 0 (identity path); open it so gradients reach the flow layers.
        torch.nn.init.ones_(model.flow_block.bn.weight)
    clip = torch.randn(2, channels, 4, config.min_size, config.min_size + 8)
    logits = model(clip)
    assert logits.shape == (2, 3)
    logits.square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("config, channels", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_forward_on_a_tiny_real_clip_and_checkpoint_round_trip(config, channels):
    """Each network classifies a real (moving-texture) clip in eval mode, and rebuilds from its checkpoint entries."""
    torch.manual_seed(0)
    frames = moving_clip(4, 40)
    clip = to_model_input(frames, 40) if channels == 3 else _flow_input(frames)
    model = build_model(config).eval()
    with torch.no_grad():
        logits = model(clip.unsqueeze(0))
        again = model_from_payload(model_payload(model))(clip.unsqueeze(0))
    assert logits.shape == (1, 3) and torch.isfinite(logits).all()
    assert torch.equal(logits, again)


def _flow_input(frames: np.ndarray) -> torch.Tensor:
    from repflow.classical import tvl1
    from repflow.data.transforms import normalize_flow

    return normalize_flow(tvl1(frames))


def test_old_configs_still_mean_r2plus1d_and_bad_combinations_are_refused():
    old = {key: value for key, value in ModelConfig().to_dict().items() if key not in ("arch", "stacked_flows")}
    assert ModelConfig.from_dict(old).arch == "r2plus1d"
    with pytest.raises(ValueError, match="arch must be one of"):
        ModelConfig(arch="vgg")
    with pytest.raises(ValueError, match="i3d has no flow layer"):
        ModelConfig(arch="i3d", flow="rep")
    with pytest.raises(ValueError, match="stream rgb"):
        ModelConfig(arch="tvnet", in_channels=2)
    with pytest.raises(ValueError, match="set flow to 'none'"):
        ModelConfig(arch="resnet2d", in_channels=2, flow="rep")
    with pytest.raises(ValueError, match="stacked_flows must be >= 1"):
        ModelConfig(arch="resnet2d", stacked_flows=0)


def test_input_errors_are_explicit():
    flow_stream = build_model(ModelConfig(arch="resnet2d", in_channels=2, **{**TINY, "stacked_flows": 3}))
    with pytest.raises(ValueError, match="T >= 3"):
        flow_stream(torch.randn(1, 2, 2, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, 2, T, H, W\)"):
        flow_stream(torch.randn(1, 3, 4, 32, 32))
    with pytest.raises(ValueError, match="T >= 3 frames"):
        build_model(ModelConfig(arch="tvnet", **TINY))(torch.randn(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match="at least 32x32"):
        build_model(ModelConfig(arch="i3d", **TINY))(torch.randn(1, 3, 4, 16, 32))


def test_flow_windows_cover_the_clip_with_interleaved_channels():
    steps = 15
    flow = torch.arange(steps, dtype=torch.float32).view(1, 1, steps, 1, 1).repeat(2, 2, 1, 3, 4)
    flow[:, 1] += 100  # y-components: 100 + step
    windows = stack_flow_windows(flow, 10)
    assert windows.shape == (2, 20, 2, 3, 4)  # ceil(15 / 10) = 2 windows, starting at flows 0 and 5
    first, second = windows[0, :, 0, 0, 0].tolist(), windows[0, :, 1, 0, 0].tolist()
    assert first[:4] == [0, 100, 1, 101] and first[-2:] == [9, 109]  # (x1, y1, x2, y2, ..., x10, y10)
    assert second[:2] == [5, 105] and second[-2:] == [14, 114]
    starts = [stack_flow_windows(torch.arange(31.0).view(1, 1, 31, 1, 1).repeat(1, 2, 1, 1, 1), 10)[0, 0, :, 0, 0]]
    assert starts[0].tolist() == [0, 7, 14, 21]
    assert stack_flow_windows(flow[:, :, :10], 10).shape[2] == 1


def test_rgb_2d_resnet_averages_the_per_frame_predictions():
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="resnet2d", **TINY)).eval()
    clip = torch.randn(2, 3, 5, 32, 40)
    with torch.no_grad():
        per_frame = torch.stack([model(clip[:, :, t : t + 1]) for t in range(5)]).mean(dim=0)
        assert torch.allclose(model(clip), per_frame, atol=1e-5)


def test_2d_flow_stream_averages_its_windows():
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="resnet2d", in_channels=2, **{**TINY, "stacked_flows": 3})).eval()
    flow = torch.randn(1, 2, 5, 32, 32)  # 5 flows, K = 3: windows at flows 0-2 and 2-4
    with torch.no_grad():
        expected = (model(flow[:, :, 0:3]) + model(flow[:, :, 2:5])) / 2
        assert torch.allclose(model(flow), expected, atol=1e-5)


def test_tvnet_sees_the_motion_of_the_frames():
    """TVNet's untrained TV-L1 layer on grayscale frames recovers the direction of a translating texture."""
    frames = moving_clip(3, 64)  # moves 1 px left and 2 px up per frame
    clip = normalize(frames)
    gray = grayscale(clip.unsqueeze(0))
    expected = torch.from_numpy(frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    assert torch.allclose(gray[0, 0], expected, atol=1e-3)
    model = build_model(ModelConfig(arch="tvnet", **{**TINY, "n_iter": 50})).eval()
    with torch.no_grad():
        flow = model.flow(clip.unsqueeze(0))[0, :, :, 8:-8, 8:-8] * 20  # back to pixels
    assert flow.shape[:2] == (2, 2)
    assert flow[0].mean() < -0.3 and flow[1].mean() < -0.6  # left (x < 0) and up (y < 0), y about twice x


@pytest.mark.parametrize("arch, flow, expected", [
    ("resnet2d", "rep", [("flow_block.flow1", "rep")]),
    ("resnet2d", "fcf", [("flow_block.flow1", "fcf-1"), ("flow_block.flow2", "fcf-2")]),
    ("tvnet", "none", [("tvnet", "tvnet")]),
    ("resnet2d", "none", []),
    ("i3d", "none", []),
])
def test_the_app_finds_the_flow_layers(arch, flow, expected):
    model = build_model(ModelConfig(arch=arch, flow=flow, **TINY)).eval()
    assert [(info.name, info.kind) for info in list_flow_layers(model)] == expected
    with torch.no_grad(), capture_flows(model) as flows:
        model(torch.randn(1, 3, 4, 32, 32))
    assert set(flows) == {name for name, _ in expected}
    if arch == "tvnet":
        assert flows["tvnet"].shape == (1, 1, 3, 2, 32, 32) and list_flow_layers(model)[0].label == "TVNet (frames)"


@pytest.mark.parametrize("arch", ["resnet2d", "i3d"])
def test_networks_without_flow_layers_take_probes(arch):
    model = build_model(ModelConfig(arch=arch, **TINY)).eval()
    points = {point.name: point.shape for point in list_probe_points(model, frames=8, size=64)}
    stages = ("layer1", "layer2", "layer3") if arch == "resnet2d" else ("conv_2c", "mixed_3c", "mixed_4f")
    assert set(stages) <= set(points)
    if arch == "resnet2d":
        assert points["layer1"] == (8, 8, 16, 16)  # (C, T, H, W): every frame's feature map
    clip = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        plain = model(clip)
        with attach_probes(model, [stages[0]]) as probes:
            probed = model(clip)
    assert torch.equal(plain, probed)
    assert probes[stages[0]].shape[2:4] == (points[stages[0]][1] - 1, 2)


@pytest.mark.parametrize("config, channels", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_channels_last_conversion_fits_every_architecture(config, channels):
    """Training on CUDA converts 3D convolutions to channels-last-3d; the 4D TV-L1 kernels and Conv2d weights stay."""
    from repflow.models import to_channels_last_3d as to_channels_last

    model = build_model(config).eval()
    clip = torch.randn(1, channels, 4, 32, 32)
    with torch.no_grad():
        before = model(clip)
        to_channels_last(model)
        after = model(clip.contiguous(memory_format=torch.channels_last_3d))
    assert torch.allclose(before, after, atol=1e-5)
    for module in model.modules():
        if isinstance(module, torch.nn.Conv3d):
            assert module.weight.is_contiguous(memory_format=torch.channels_last_3d)


def test_channels_last_conversion_keeps_flow_layer_kernels():
    """The (2+1)D Rep-Flow model's flow kernels are 4D: ``model.to(memory_format=channels_last_3d)`` raised on them."""
    from repflow.models import to_channels_last_3d as to_channels_last

    model = build_model(ModelConfig(flow="rep", **TINY))
    with pytest.raises(RuntimeError, match="rank 5"):
        model.to(memory_format=torch.channels_last_3d)
    to_channels_last(model)
    assert model.stem[0].weight.is_contiguous(memory_format=torch.channels_last_3d)


def test_full_size_parameter_counts():
    """Standard widths: 2D ResNet-50 ~24M (ImageNet's 23.5M + a 400-class head), I3D ~12M as its paper says."""
    def count(config):
        return sum(p.numel() for p in build_model(config).parameters())
    assert 24e6 < count(ModelConfig(arch="resnet2d", depth=50)) < 25e6
    assert 11e6 < count(ModelConfig(arch="resnet2d", depth=18)) < 12e6
    assert 12e6 < count(ModelConfig(arch="i3d")) < 13e6


def test_architecture_names():
    assert architecture_name({"depth": 18}) == "R(2+1)D-18"
    assert architecture_name({"arch": "resnet2d", "depth": 50}) == "2D ResNet-50"
    assert architecture_name({"arch": "i3d", "depth": 18}) == "I3D (Inception-v1)"
