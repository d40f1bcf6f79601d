"""2D ResNets on video: per-frame RGB, stacked optical flow, and 2D Rep-Flow (``ModelConfig.arch = "resnet2d"``).

The network is a 2D ResNet-18/34/50 (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016)
whose every stage runs on each time step of a (B, C, T, H, W) input on its own (:class:`PerFrame`), so the
feature maps between stages stay (B, C, T, H, W): a flow block can sit there and probes can watch them.
Class scores are computed per time step and averaged over time. What the time steps are depends on the input:

* RGB (``in_channels=3``, ``flow="none"``): the frames. The per-frame baseline of Piergiovanni & Ryoo (CVPR 2019),
  the spatial stream of a two-stream network (Simonyan & Zisserman, NeurIPS 2014).
* Flow stream (``in_channels=2``): the input is TV-L1 flow (B, 2, T-1, H, W), as
  :class:`repflow.data.ClipDataset` gives it for ``stream="flow"``. K = ``stacked_flows`` consecutive flow fields are
  stacked into 2K input channels ordered (x1, y1, x2, y2, ...), K = 10 as in Simonyan & Zisserman's temporal
  stream. A clip of N = T-1 flows gives ceil(N / K) windows whose starts are spread evenly from 0 to N - K (so
  together they cover every flow, overlapping when K does not divide N: 15 flows -> starts 0, 5; 31 -> 0, 7, 14,
  21); all windows run as one batch and their class scores are averaged.
* 2D Rep-Flow (``flow="rep"`` or ``"fcf"``): RGB frames, with the representation-flow (or flow-of-flow) block of
  :mod:`repflow.blocks` after stage ``flow_after``, computing flow between consecutive frames' feature maps
  (the block shortens time by one or two steps). The paper's "2D ResNet + Rep-Flow" row.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from repflow.blocks import FlowOfFlow, RepFlow
from repflow.models import DEPTHS, STAGES, ModelConfig


def check_config(config: ModelConfig) -> None:
    """A flow block needs RGB frames: on a stacked-flow input its time steps are windows, not frames."""
    if config.in_channels == 2 and config.flow != "none":
        raise ValueError("arch resnet2d on flow input (in_channels=2) stacks flow fields as channels and takes no "
                         f"flow layer: set flow to 'none', not {config.flow!r}")


def min_frames(config: ModelConfig) -> int:
    """Input time steps needed: K flows for a flow stream, else 1, 2 or 3 frames (no, one or two flow layers)."""
    if config.in_channels == 2:
        return config.stacked_flows
    return {"none": 1, "rep": 2, "fcf": 3}[config.flow]


def min_size(config: ModelConfig) -> int:
    """32 px, or enough for a flow map of at least 2x2 after ``flow_after`` (the stages stride as in (2+1)D)."""
    if config.flow == "none":
        return 32
    return max(32, 8 * 2 ** STAGES.index(config.flow_after))


def build(config: ModelConfig) -> "ResNet2D":
    return ResNet2D(config)


def stack_flow_windows(flow: Tensor, stacked: int) -> Tensor:
    """(B, 2, N, H, W) flow -> (B, 2K, W', H, W): W' = ceil(N / K) windows of K consecutive flow fields,
    starts spread evenly over [0, N - K], channels (x1, y1, ..., xK, yK)."""
    batch, _, steps, height, width = flow.shape
    if steps < stacked:
        raise ValueError(f"stacking {stacked} flow fields needs at least {stacked} flow steps (a clip of "
                         f"{stacked + 1} frames), got {steps}")
    count = math.ceil(steps / stacked)
    starts = [round(i * (steps - stacked) / (count - 1)) for i in range(count)] if count > 1 else [0]
    windows = [flow[:, :, s : s + stacked].transpose(1, 2).reshape(batch, 2 * stacked, height, width) for s in starts]
    return torch.stack(windows, dim=2)


class PerFrame(nn.Module):
    """Runs a 2D module on every time step: (B, C, T, H, W) -> (B, C', T, H', W')."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, steps, height, width = x.shape
        out = self.module(x.transpose(1, 2).reshape(batch * steps, channels, height, width))
        return out.view(batch, steps, *out.shape[1:]).transpose(1, 2)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_channels))


class BasicBlock2d(nn.Module):
    """Two 3x3 convs with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = _shortcut(in_channels, channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class Bottleneck2d(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand (x4), with a residual connection (ResNet-50)."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


class ResNet2D(nn.Module):
    """A 2D ResNet applied to every time step, class scores averaged over time (see the module notes).

    Modules: ``stem``, ``layer1``..``layer4`` (each a :class:`PerFrame`), ``flow_block`` (only with a flow layer),
    ``fc``; the flow layers are ``flow_block.flow1`` (and ``flow_block.flow2``). Input (B, 3, T, H, W) RGB or
    (B, 2, T-1, H, W) flow; output logits (B, classes).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        block_type, counts = DEPTHS[config.depth]
        block = BasicBlock2d if block_type == "basic" else Bottleneck2d
        in_channels = 2 * config.stacked_flows if config.in_channels == 2 else config.in_channels
        self.stem = PerFrame(nn.Sequential(
            nn.Conv2d(in_channels, config.width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(config.width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        ))
        in_channels = config.width
        stage_channels = {}
        for index, (name, count) in enumerate(zip(STAGES, counts)):
            channels = config.width * 2**index
            layers = [block(in_channels, channels, stride=1 if index == 0 else 2)]
            in_channels = channels * block.expansion
            layers += [block(in_channels, channels) for _ in range(count - 1)]
            self.add_module(name, PerFrame(nn.Sequential(*layers)))
            stage_channels[name] = in_channels
        if config.flow != "none":
            flow_block = RepFlow if config.flow == "rep" else FlowOfFlow
            self.flow_block = flow_block(stage_channels[config.flow_after], flow_channels=config.flow_channels,
                                         n_iter=config.n_iter, learn=config.learn_flow)
        self.fc = nn.Linear(in_channels, config.num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, clip: Tensor) -> Tensor:
        config = self.config
        if clip.dim() != 5 or clip.shape[1] != config.in_channels:
            raise ValueError(f"expected a clip (B, {config.in_channels}, T, H, W), got {tuple(clip.shape)}")
        if clip.shape[2] < min_frames(config):
            raise ValueError(f"this model needs T >= {min_frames(config)} time steps, got T = {clip.shape[2]}")
        if min(clip.shape[-2:]) < min_size(config):
            raise ValueError(f"frames must be at least {min_size(config)}x{min_size(config)}, "
                             f"got {tuple(clip.shape[-2:])}")
        x = stack_flow_windows(clip, config.stacked_flows) if config.in_channels == 2 else clip
        x = self.stem(x)
        for name in STAGES:
            x = getattr(self, name)(x)
            if name == config.flow_after and config.flow != "none":
                x = self.flow_block(x)
        per_step = self.fc(x.mean(dim=(3, 4)).transpose(1, 2))  # (B, T', classes): scores of every time step
        return per_step.mean(dim=1)
