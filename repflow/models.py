"""(2+1)D ResNets with optional representation-flow blocks, and a two-stream baseline.

The backbone factorises every 3x3x3 convolution into a 1x3x3 spatial and a 3x1x1 temporal one, with the
intermediate width chosen to match the parameter count of the 3D convolution (Tran et al., "A Closer Look
at Spatiotemporal Convolutions for Action Recognition", CVPR 2018). Piergiovanni & Ryoo (CVPR 2019) insert
a representation-flow (or flow-of-flow) block after one residual stage, where feature maps are ~28x28 at
224 px input. Time is never strided, so the clip keeps T steps until the flow block.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, fields
from types import ModuleType
from typing import Any

import torch
from torch import Tensor, nn

from repflow.blocks import FLOW_CHANNELS, FLOW_KINDS, FLOW_N_ITER

STAGES = ("layer1", "layer2", "layer3", "layer4")
# r2plus1d is built here; the paper's baselines (2D ResNet, TVNet, I3D) in repflow.architectures.<arch>.
ARCHS = ("r2plus1d", "resnet2d", "tvnet", "i3d")
# depth -> (block type, blocks per stage)
DEPTHS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
}
CLASSIFIER = "fc"  # the module holding the class scores (its weight is (num_classes, features))
# The values each choice-valued ModelConfig field accepts (for command lines and the app's menus).
ARCHITECTURE_CHOICES: dict[str, tuple] = {
    "arch": ARCHS, "depth": tuple(DEPTHS), "flow": tuple(FLOW_KINDS), "flow_after": STAGES,
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; stored in every checkpoint.

    Attributes:
        arch: the network: "r2plus1d" (this module), or a baseline of :mod:`repflow.architectures`:
            "resnet2d" (per-frame 2D ResNet, or stacked-flow 2D ResNet when in_channels is 2), "tvnet"
            (learnable TV-L1 on grayscale frames + 2D flow ResNet) or "i3d" (Inflated Inception-v1).
        depth: ResNet depth, 18, 34 or 50.
        num_classes: size of the classifier output.
        flow: "none" (RGB baseline), "rep" (one representation-flow block) or "fcf" (flow-of-flow).
        flow_after: the stage ("layer1".."layer4") after which the flow block sits.
        width: base width; stage widths are width * (1, 2, 4, 8) (x4 for ResNet-50 outputs). 64 is standard.
        in_channels: 3 for RGB, 2 for a stream fed with optical flow.
        flow_channels: channels the flow block computes flow on (the paper uses 32).
        n_iter: TV-L1 iterations in each flow layer.
        learn_flow: whether the flow layers' parameters (theta, lambda, tau, kernels) are trained.
        stacked_flows: K, the flow fields a 2D flow stream stacks into 2K input channels ("resnet2d" on
            flow, "tvnet").
    """

    depth: int = 18
    num_classes: int = 400
    flow: str = "none"
    flow_after: str = "layer2"
    width: int = 64
    in_channels: int = 3
    flow_channels: int = FLOW_CHANNELS
    n_iter: int = FLOW_N_ITER
    learn_flow: bool = True
    arch: str = "r2plus1d"
    stacked_flows: int = 10

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.depth not in DEPTHS:
            raise ValueError(f"depth must be one of {sorted(DEPTHS)}, got {self.depth}")
        if self.flow not in FLOW_KINDS:
            raise ValueError(f"flow must be one of {tuple(FLOW_KINDS)}, got {self.flow!r}")
        if self.flow_after not in STAGES:
            raise ValueError(f"flow_after must be one of {STAGES}, got {self.flow_after!r}")
        for name in ("num_classes", "width", "in_channels", "flow_channels", "n_iter", "stacked_flows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.arch != "r2plus1d":
            _baseline(self.arch).check_config(self)

    @property
    def min_frames(self) -> int:
        """The shortest clip the model accepts (a flow-of-flow block needs 3 steps)."""
        if self.arch != "r2plus1d":
            return _baseline(self.arch).min_frames(self)
        return FLOW_KINDS[self.flow].min_frames

    @property
    def min_size(self) -> int:
        """The smallest frame side: 32 px, or enough for a flow map of at least 2x2 after ``flow_after``."""
        if self.arch != "r2plus1d":
            return _baseline(self.arch).min_size(self)
        if self.flow == "none":
            return 32
        return max(32, 8 * 2 ** STAGES.index(self.flow_after))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model_config field(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


def _mid_channels(in_channels: int, out_channels: int) -> int:
    """Intermediate width of a (2+1)D conv with the parameter count of a 3x3x3 conv (Tran et al., 2018)."""
    return (3 * 3 * 3 * in_channels * out_channels) // (3 * 3 * in_channels + 3 * out_channels)


def conv2plus1d(in_channels: int, out_channels: int, *, stride: int = 1) -> nn.Sequential:
    """1x3x3 spatial conv (spatial ``stride``), BN, ReLU, then a 3x1x1 temporal conv."""
    mid = _mid_channels(in_channels, out_channels)
    return nn.Sequential(
        nn.Conv3d(in_channels, mid, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, out_channels, (3, 1, 1), padding=(1, 0, 0), bias=False),
    )


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, 1, stride=(1, stride, stride), bias=False),
        nn.BatchNorm3d(out_channels),
    )


class BasicBlock(nn.Module):
    """Two (2+1)D convs with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv2plus1d(in_channels, channels, stride=stride)
        self.bn1 = nn.BatchNorm3d(channels)
        self.conv2 = conv2plus1d(channels, channels)
        self.bn2 = nn.BatchNorm3d(channels)
        self.shortcut = _shortcut(in_channels, channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1x1 reduce, (2+1)D conv, 1x1x1 expand (x4), with a residual connection (ResNet-50)."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv3d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(channels)
        self.conv2 = conv2plus1d(channels, channels, stride=stride)
        self.bn2 = nn.BatchNorm3d(channels)
        self.conv3 = nn.Conv3d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


class RepFlowResNet(nn.Module):
    """A (2+1)D ResNet, optionally with a flow block after ``config.flow_after``.

    Modules: ``stem``, ``layer1``..``layer4``, ``flow_block`` (absent when ``flow == "none"``), ``fc``.
    The flow layers are ``flow_block.flow1`` (and ``flow_block.flow2`` for flow-of-flow).
    Input (B, in_channels, T, H, W) with T >= ``config.min_frames`` and H, W >= ``config.min_size`` (32,
    64 for a flow block after layer4); output logits (B, classes).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        block_type, counts = DEPTHS[config.depth]
        block = BasicBlock if block_type == "basic" else Bottleneck
        stem_mid = _mid_channels(config.in_channels, config.width)
        self.stem = nn.Sequential(
            nn.Conv3d(config.in_channels, stem_mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(stem_mid),
            nn.ReLU(inplace=True),
            nn.Conv3d(stem_mid, config.width, (3, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(config.width),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
        )
        in_channels = config.width
        stage_channels = {}
        for index, (name, count) in enumerate(zip(STAGES, counts)):
            channels = config.width * 2**index
            layers = [block(in_channels, channels, stride=1 if index == 0 else 2)]
            in_channels = channels * block.expansion
            layers += [block(in_channels, channels) for _ in range(count - 1)]
            self.add_module(name, nn.Sequential(*layers))
            stage_channels[name] = in_channels
        if config.flow != "none":
            self.flow_block = FLOW_KINDS[config.flow].block(
                stage_channels[config.flow_after],
                flow_channels=config.flow_channels,
                n_iter=config.n_iter,
                learn=config.learn_flow,
            )
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(in_channels, config.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, clip: Tensor) -> Tensor:
        config = self.config
        if clip.dim() != 5 or clip.shape[1] != config.in_channels:
            raise ValueError(f"expected a clip (B, {config.in_channels}, T, H, W), got {tuple(clip.shape)}")
        if clip.shape[2] < config.min_frames:
            raise ValueError(f"this model needs T >= {config.min_frames} frames, got T = {clip.shape[2]}")
        if min(clip.shape[-2:]) < config.min_size:
            raise ValueError(
                f"frames must be at least {config.min_size}x{config.min_size}, got {tuple(clip.shape[-2:])}"
            )
        x = self.stem(clip)
        for name in STAGES:
            x = getattr(self, name)(x)
            if name == config.flow_after and config.flow != "none":
                x = self.flow_block(x)
        return self.fc(torch.flatten(self.pool(x), 1))


def _baseline(arch: str) -> ModuleType:
    """The module of :mod:`repflow.architectures` that builds ``arch``."""
    return importlib.import_module(f"repflow.architectures.{arch}")


def build_model(config: ModelConfig) -> nn.Module:
    """Build the model described by ``config``."""
    if config.arch != "r2plus1d":
        return _baseline(config.arch).build(config)
    return RepFlowResNet(config)


def to_channels_last_3d(model: nn.Module) -> nn.Module:
    """Put ``model``'s 5-D weights (the 3D convolutions') in channels-last-3d memory format, in place.

    ``model.to(memory_format=torch.channels_last_3d)`` cannot be used on a flow model: PyTorch refuses that format
    for the flow layers' 4-D kernels. Feed the model channels-last clips too (``clip.contiguous(memory_format=...)``).
    """
    for param in model.parameters():
        if param.dim() == 5:
            param.data = param.data.contiguous(memory_format=torch.channels_last_3d)
    return model


def r2plus1d_18(**overrides: Any) -> RepFlowResNet:
    """(2+1)D ResNet-18; keyword arguments are :class:`ModelConfig` fields."""
    return build_model(ModelConfig(depth=18, **overrides))


def r2plus1d_34(**overrides: Any) -> RepFlowResNet:
    """(2+1)D ResNet-34; keyword arguments are :class:`ModelConfig` fields."""
    return build_model(ModelConfig(depth=34, **overrides))


def r2plus1d_50(**overrides: Any) -> RepFlowResNet:
    """(2+1)D ResNet-50; keyword arguments are :class:`ModelConfig` fields."""
    return build_model(ModelConfig(depth=50, **overrides))


class TwoStream(nn.Module):
    """Two-stream baseline: an RGB network and a network on classical optical flow, logits averaged.

    ``forward(rgb_clip, flow_clip)``: rgb (B, 3, T, H, W) and flow (B, 2, T-1, H, W), e.g. TV-L1 flow from
    :func:`repflow.classical.tvl1` scaled the way the flow stream was trained
    (:func:`repflow.data.transforms.normalize_flow`). Late fusion by averaging the two streams' logits.
    """

    def __init__(self, rgb: nn.Module, flow: nn.Module) -> None:
        super().__init__()
        self.rgb = rgb
        self.flow = flow

    def forward(self, rgb_clip: Tensor, flow_clip: Tensor) -> Tensor:
        return 0.5 * (self.rgb(rgb_clip) + self.flow(flow_clip))
