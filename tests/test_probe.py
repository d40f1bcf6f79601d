"""Tests of the flow probes (repflow.probe) and their benchmark (repflow.bench.probe)."""

from __future__ import annotations

import argparse
import copy

import cv2
import numpy as np
import pytest
import torch
from matplotlib import cbook
from torch import nn

from repflow.bench import probe as probe_bench
from repflow.classical import tvl1
from repflow.models import ModelConfig, build_model
from repflow.probe import (
    ProbeOptions,
    attach_probes,
    feature_change_energy,
    list_probe_points,
    probe_flow,
)

SHIFT = (0.6, -0.4)  # (dx, dy) per frame in pixels: right and up
MARGIN = 8  # border pixels left out of flow statistics


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A real photograph (ships with matplotlib), 96x96 RGB."""
    image = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    image = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), (96, 112), interpolation=cv2.INTER_AREA)
    return image[8:104]


def translated_clip(image: np.ndarray, dx: float, dy: float, frames: int = 3) -> np.ndarray:
    """uint8 (T, H, W, 3): ``image`` moved by (t*dx, t*dy) pixels at frame t (bilinear)."""
    height, width = image.shape[:2]
    moves = [np.float32([[1, 0, t * dx], [0, 1, t * dy]]) for t in range(frames)]
    return np.stack([cv2.warpAffine(image, move, (width, height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT) for move in moves])


def as_clip(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float (1, 3, T, H, W) in [0, 1]."""
    return torch.from_numpy(frames).float().div(255).permute(3, 0, 1, 2).unsqueeze(0)


def mean_flow(flow: torch.Tensor, margin: int) -> tuple[float, float]:
    """Mean (x, y) of a (B, K, T', 2, H, W) flow away from the border."""
    inner = flow[..., margin:-margin, margin:-margin]
    return float(inner[:, :, :, 0].mean()), float(inner[:, :, :, 1].mean())


def plain_model() -> nn.Module:
    """A video network built from plain torch.nn: a stride-2 average pool (a smoothed half-size copy of the
    frames) feeding a 1x3x3 conv, pooling and a classifier."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.AvgPool3d((1, 2, 2)),
        nn.Conv3d(3, 4, (1, 3, 3), padding=(0, 1, 1)),
        nn.ReLU(),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    ).eval()


def tiny_backbone() -> nn.Module:
    """repflow's RGB-only (2+1)D ResNet-18, treated as a foreign model (it has no flow layer)."""
    torch.manual_seed(0)
    return build_model(ModelConfig(width=4, num_classes=3)).eval()


def hook_count(model: nn.Module) -> int:
    return sum(len(module._forward_hooks) for module in model.modules())


# --- flow is right in sign and size ---------------------------------------------------------------


def test_input_probe_measures_a_sub_pixel_translation(texture):
    frames = translated_clip(texture, *SHIFT)
    model = plain_model()
    with torch.no_grad(), attach_probes(model, ["input"]) as probes:
        model(as_clip(frames))
    flow = probes["input"]
    assert flow.shape == (1, 3, 2, 2, 96, 96)
    dx, dy = mean_flow(flow, MARGIN)
    assert dx == pytest.approx(SHIFT[0], abs=0.08) and dy == pytest.approx(SHIFT[1], abs=0.08)
    # It looks like OpenCV's flow of the same frames (which is multi-scale and more accurate).
    opencv = torch.from_numpy(tvl1(frames)).permute(0, 3, 1, 2)  # (T-1, 2, H, W)
    difference = (flow[0].mean(dim=0) - opencv)[..., MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert float(difference.norm(dim=1).mean()) < 0.2


def test_probe_after_a_stride_2_stage_sees_half_the_displacement(texture):
    model = plain_model()
    with torch.no_grad(), attach_probes(model, ["input", "0", "1"]) as probes:
        model(as_clip(translated_clip(texture, *SHIFT)))
    half = (SHIFT[0] / 2, SHIFT[1] / 2)
    for name in ("0", "1"):  # the pooled frames, and a conv on them
        assert probes[name].shape[-2:] == (48, 48)
        dx, dy = mean_flow(probes[name], MARGIN // 2)
        assert dx == pytest.approx(half[0], abs=0.06) and dy == pytest.approx(half[1], abs=0.06), name
    input_dx, _ = mean_flow(probes["input"], MARGIN)
    assert mean_flow(probes["0"], MARGIN // 2)[0] / input_dx == pytest.approx(0.5, abs=0.08)


def test_opposite_motion_gives_opposite_flow(texture):
    model = plain_model()
    results = []
    for sign in (1, -1):
        with torch.no_grad(), attach_probes(model, ["0"]) as probes:
            model(as_clip(translated_clip(texture, sign * SHIFT[0], sign * SHIFT[1])))
        results.append(mean_flow(probes["0"], MARGIN // 2))
    (dx1, dy1), (dx2, dy2) = results
    assert dx1 > 0.2 and dy1 < -0.1 and dx2 < -0.2 and dy2 > 0.1


# --- the model is left alone ---------------------------------------------------------------------


def test_output_and_gradients_are_bit_for_bit_unchanged_in_training_mode():
    model = tiny_backbone().train()
    twin = copy.deepcopy(model)
    clip = torch.randn(2, 3, 4, 32, 32)
    plain = model(clip)
    plain.sum().backward()
    with attach_probes(twin, ["input", "stem", "layer1.0.conv2", "layer2"]) as probes:
        probed = twin(clip)
    probed.sum().backward()
    assert torch.equal(plain, probed)
    for (name, a), b in zip(model.named_parameters(), twin.parameters()):
        assert torch.equal(a.grad, b.grad), name
    for a, b in zip(model.buffers(), twin.buffers()):  # BatchNorm running statistics
        assert torch.equal(a, b)
    assert set(probes) == {"input", "stem", "layer1.0.conv2", "layer2"}
    assert not any(flow.requires_grad for flow in probes.values())


def test_hooks_removed_and_forward_restored_on_exit_also_after_an_error():
    model = tiny_backbone()
    with pytest.raises(ValueError, match="frames must be at least"):
        with attach_probes(model, ["input", "layer2"]):
            model(torch.randn(1, 3, 4, 16, 16))
    assert hook_count(model) == 0 and "forward" not in model.__dict__
    with attach_probes(model, ["layer2"]):
        assert hook_count(model) == 1
    assert hook_count(model) == 0 and "forward" not in model.__dict__


# --- foreign models: repflow's backbone, TorchScript -----------------------------------------------


def test_probes_on_the_rgb_backbone_have_the_capture_flows_layout():
    model = tiny_backbone()
    clip = torch.randn(2, 3, 5, 64, 48)
    seen = {}
    model.layer2.register_forward_hook(lambda _m, _i, output: seen.setdefault("layer2", output.clone()))
    options = ProbeOptions(channels=3, n_iter=5)
    with torch.no_grad(), attach_probes(model, ["layer2", "layer3.1.conv2"], options=options) as probes:
        model(clip)
    assert probes["layer2"].shape == (2, 3, 4, 2, 8, 6)  # (B, K, T-1, 2, H, W)
    assert probes["layer3.1.conv2"].shape == (2, 3, 4, 2, 4, 3)
    # The kept channels are each sample's three most moving ones, most moving first.
    expected = feature_change_energy(seen["layer2"]).topk(3, dim=1).indices
    assert torch.equal(probes.channels["layer2"], expected)


def test_torchscript_file_input_and_output_probes(tmp_path):
    model = tiny_backbone()
    clip = torch.randn(1, 3, 4, 32, 32)
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.trace(model, clip), str(path))
    scripted = torch.jit.load(str(path))
    own_forward = scripted.__dict__.get("forward")
    options = ProbeOptions(n_iter=5)

    assert [point.name for point in list_probe_points(scripted, frames=4, size=32)] == ["input"]
    with torch.no_grad():
        reference = model(clip)
        with attach_probes(model, ["input"], options=options) as eager_probes:
            model(clip)
        with attach_probes(scripted, ["input"], options=options) as probes:
            output = scripted(clip)
    assert torch.equal(output, reference)
    assert torch.equal(probes["input"], eager_probes["input"])
    assert scripted.__dict__.get("forward") is own_forward and torch.equal(scripted(clip), reference)

    with pytest.raises(ValueError, match="TorchScript submodule"):
        with attach_probes(scripted, ["layer2"]):
            pass

    # A scripted feature extractor: its (B, C, T, H, W) output is a probe point.
    features = torch.jit.script(nn.Sequential(nn.Conv3d(3, 4, 1), nn.AvgPool3d((1, 2, 2))))
    assert [(p.name, p.shape) for p in list_probe_points(features, frames=4, size=32)] == [
        ("input", (3, 4, 32, 32)),
        ("output", (4, 4, 16, 16)),
    ]
    with torch.no_grad(), attach_probes(features, ["output"], options=options) as probes:
        features(clip)
    assert probes["output"].shape == (1, 4, 3, 2, 16, 16)


# --- listing probe points ------------------------------------------------------------------------


class SharedReLU(nn.Module):
    """Uses one ReLU twice, and returns its features: a shape list_probe_points must handle."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, 5, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        self.bn = nn.BatchNorm3d(5)
        self.relu = nn.ReLU()
        self.head = nn.Linear(5, 2)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        features = self.relu(self.bn(self.relu(self.conv(clip))))
        self.head(features.mean(dim=(2, 3, 4)))
        return features


def test_list_probe_points_names_shapes_and_exclusions():
    model = SharedReLU().train()
    running_mean = model.bn.running_mean.clone()
    points = list_probe_points(model, frames=6, size=40)
    assert [(p.name, p.module_type, p.shape) for p in points] == [
        ("input", "model input", (3, 6, 40, 40)),
        ("conv", "Conv3d", (5, 6, 20, 20)),
        ("bn", "BatchNorm3d", (5, 6, 20, 20)),
        ("output", "model output", (5, 6, 20, 20)),
    ]  # "relu" runs twice, "head" is not a (B, C, T, H, W) map
    assert points[1].label == "conv (Conv3d, 5 ch, 6x20x20)"
    assert model.training and model.bn.training and hook_count(model) == 0 and "forward" not in model.__dict__
    assert torch.equal(model.bn.running_mean, running_mean)  # it ran in eval mode


def test_list_probe_points_of_the_backbone_reports_stage_resolutions():
    points = {p.name: p.shape for p in list_probe_points(tiny_backbone(), frames=4, size=64)}
    assert points["input"] == (3, 4, 64, 64)
    assert points["layer1"] == (4, 4, 16, 16) and points["layer2"] == (8, 4, 8, 8) and points["layer4"] == (32, 4, 2, 2)
    assert "fc" not in points and "output" not in points


def test_list_probe_points_explains_a_failing_forward():
    with pytest.raises(ValueError, match=r"zero clip of shape \(1, 3, 4, 16, 16\) failed"):
        list_probe_points(tiny_backbone(), frames=4, size=16)


# --- channel reduction and normalisation ---------------------------------------------------------


def moving_pattern(shift: int, steps: int = 3, size: int = 24) -> torch.Tensor:
    """(T, H, W): a smooth random pattern moving ``shift`` px right per step (whole-pixel, exact)."""
    noise = torch.rand(1, 1, size + 8, size + 8 + steps * shift, generator=torch.Generator().manual_seed(1))
    base = torch.nn.functional.avg_pool2d(noise, 5, 1, 2)[0, 0]
    lefts = [4 + (steps - t) * shift for t in range(steps)]
    return torch.stack([base[4 : 4 + size, left : left + size] for left in lefts])


def test_energy_keeps_the_moving_channel_and_pca_finds_the_shared_motion():
    pattern = moving_pattern(1)
    static = pattern[0].expand_as(pattern)
    features = torch.stack([static, static * 2, pattern, static * 0.5]).unsqueeze(0)  # channel 2 moves
    flow, kept = probe_flow(features, ProbeOptions(channels=1, n_iter=30), n_iter=30)
    assert kept.tolist() == [[2]] and mean_flow(flow, 4)[0] > 0.4

    mixed = torch.stack([pattern * w for w in (1.0, -0.5, 2.0)]).unsqueeze(0)
    mixed = mixed + 0.01 * torch.randn(mixed.shape, generator=torch.Generator().manual_seed(0))
    flow, kept = probe_flow(mixed, ProbeOptions(channels=1, reduce="pca"), n_iter=30)
    assert kept is None and flow.shape == (1, 1, 2, 2, 24, 24) and mean_flow(flow, 4)[0] > 0.4

    _, kept = probe_flow(mixed, ProbeOptions(channels=2, reduce="none"), n_iter=1)
    assert kept.tolist() == [[0, 1]]


def test_per_channel_normalisation_sees_a_faint_channel_that_per_sample_misses():
    pattern = moving_pattern(1)
    features = torch.stack([pattern * 1000, pattern * 0.001]).unsqueeze(0)
    features[0, 0] = features[0, 0, :1]  # the strong channel stands still
    options = dict(channels=None, reduce="none", n_iter=30)
    per_channel, _ = probe_flow(features, ProbeOptions(**options), n_iter=30)
    per_sample, _ = probe_flow(features, ProbeOptions(normalize="sample", **options), n_iter=30)
    assert mean_flow(per_channel[:, 1:], 4)[0] > 0.4
    assert abs(mean_flow(per_sample[:, 1:], 4)[0]) < 0.05


# --- clear errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layers, message",
    [
        (["nope"], "has no submodule 'nope'"),
        ([], "non-empty list"),
        ("layer2", "non-empty list"),
    ],
)
def test_bad_layer_names(layers, message):
    with pytest.raises(ValueError, match=message):
        with attach_probes(tiny_backbone(), layers):
            pass


def test_unusable_probe_points_fail_the_forward_pass_with_a_clear_message():
    model = tiny_backbone()
    clip = torch.randn(1, 3, 4, 32, 32)
    with pytest.raises(ValueError, match=r"probe 'fc': expected a \(B, C, T, H, W\) tensor .* shape \(1, 3\)"):
        with torch.no_grad(), attach_probes(model, ["fc"]):
            model(clip)
    with pytest.raises(ValueError, match="'layer1.0.relu': the module ran 2 times"):
        with torch.no_grad(), attach_probes(model, ["layer1.0.relu"]):
            model(clip)
    assert hook_count(model) == 0


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(channels=0), "channels must be >= 1"),
        (dict(reduce="svd"), "reduce must be one of"),
        (dict(normalize="batch"), "normalize must be one of"),
        (dict(n_iter=0), "n_iter must be >= 1"),
        (dict(lam=0.0), "lam must be > 0"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        ProbeOptions(**options)


def test_probe_defaults_more_iterations_at_the_input():
    options = ProbeOptions()
    assert options.iterations("input") > options.iterations("layer2")
    assert ProbeOptions(n_iter=7).iterations("input") == 7


# --- benchmark -----------------------------------------------------------------------------------


def test_bench_probe_prints_measured_overheads(capsys):
    parser = argparse.ArgumentParser()
    probe_bench.configure(parser)
    args = parser.parse_args(["--frames", "3", "--size", "32", "--depth", "18", "--width", "4", "--points", "input",
                              "layer2", "--n-iter", "2", "--repeats", "1"])
    assert probe_bench.run(args) == 0
    out = capsys.readouterr().out
    assert "3 frames of 32x32, (2+1)D ResNet-18 width 4" in out
    rows = [line for line in out.splitlines() if line.startswith("| input") or line.startswith("| layer2")]
    assert [row.split(" | ")[1] for row in rows] == ["3 x 2 x 32x32", "8 x 2 x 4x4", "3 x 2 x 32x32; 8 x 2 x 4x4"]
    assert all(row.rstrip(" |").endswith("%") for row in rows)


def test_bench_probe_measure_returns_real_times():
    model = tiny_backbone()
    clip = torch.randn(1, 3, 3, 32, 32)
    result = probe_bench.measure(model, clip, ("input",), ProbeOptions(n_iter=2), repeats=1)
    assert result.forward_ms > 0 and result.probed_ms > 0
    assert result.overhead == pytest.approx((result.probed_ms - result.forward_ms) / result.forward_ms)
    assert result.flow_shapes == {"input": (3, 2, 2, 32, 32)}
