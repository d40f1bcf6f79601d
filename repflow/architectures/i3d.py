"""I3D (``ModelConfig.arch = "i3d"``): the Inflated Inception-v1 of Carreira & Zisserman, "Quo Vadis, Action
Recognition? A New Model and the Kinetics Dataset" (CVPR 2017), for RGB (``in_channels=3``) or TV-L1 flow
(``in_channels=2``, the (B, 2, T-1, H, W) clip flow of a flow stream).

Written from the paper's description (its Fig. 3): Inception-v1 (Szegedy et al., "Going Deeper with
Convolutions", CVPR 2015) with every 2D k x k filter inflated to k x k x k, batch normalisation and ReLU after
every convolution, and these strides:

    conv 7x7x7 /2, 64  -> max-pool 1x3x3 /(1,2,2) -> conv 1x1x1, 64 -> conv 3x3x3, 192 -> max-pool 1x3x3 /(1,2,2)
    -> Inc. 3b, 3c -> max-pool 3x3x3 /2 -> Inc. 4b..4f -> max-pool 2x2x2 /2 -> Inc. 5b, 5c
    -> avg-pool 2x7x7 (/1) -> dropout -> conv 1x1x1 to the classes -> average over time

An Inception module concatenates four branches: 1x1x1; 1x1x1 then 3x3x3; 1x1x1 then 3x3x3; 3x3x3 max-pool then
1x1x1, with Inception-v1's channel counts (:data:`INCEPTION`). Pooling keeps ceil-sized outputs (the paper's
TensorFlow "SAME" padding). The final average pool spans the whole feature map in space (7x7 at 224 px input) and
2 steps in time. ``width`` scales every channel count (64 = the paper's); ``depth`` and the flow-layer fields do
not apply. Weights start from scratch: the paper's ImageNet inflation needs 2D Inception weights, which repflow
does not download.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from repflow.models import ModelConfig

# name -> (1x1, 3x3 reduce, 3x3, second 3x3 reduce, second 3x3, pool projection): Inception-v1 (GoogLeNet, Table 1),
# whose 5x5 branch I3D turns into a 3x3x3 one.
INCEPTION: dict[str, tuple[int, int, int, int, int, int]] = {
    "mixed_3b": (64, 96, 128, 16, 32, 32),
    "mixed_3c": (128, 128, 192, 32, 96, 64),
    "mixed_4b": (192, 96, 208, 16, 48, 64),
    "mixed_4c": (160, 112, 224, 24, 64, 64),
    "mixed_4d": (128, 128, 256, 24, 64, 64),
    "mixed_4e": (112, 144, 288, 32, 64, 64),
    "mixed_4f": (256, 160, 320, 32, 128, 128),
    "mixed_5b": (256, 160, 320, 32, 128, 128),
    "mixed_5c": (384, 192, 384, 48, 128, 128),
}
DROPOUT = 0.5


def check_config(config: ModelConfig) -> None:
    """I3D has no representation-flow block: it reads RGB frames or precomputed TV-L1 flow."""
    if config.flow != "none":
        raise ValueError(f"arch i3d has no flow layer: set flow to 'none', not {config.flow!r} (for a flow stream "
                         "train it on TV-L1 flow with stream: flow)")


def min_frames(config: ModelConfig) -> int:
    return 1


def min_size(config: ModelConfig) -> int:
    return 32


def build(config: ModelConfig) -> "I3D":
    return I3D(config)


class Unit3d(nn.Sequential):
    """Conv3d (no bias) + BatchNorm + ReLU, padded to keep the size at stride 1."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int, int],
                 stride: tuple[int, int, int] = (1, 1, 1)) -> None:
        padding = tuple(k // 2 for k in kernel)
        super().__init__(
            nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm3d(out_channels, eps=1e-3),
            nn.ReLU(inplace=True),
        )


class Inception3d(nn.Module):
    """Four parallel branches, concatenated on channels (see the module notes)."""

    def __init__(self, in_channels: int, counts: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        one, reduce_a, three_a, reduce_b, three_b, pool = counts
        self.branch0 = Unit3d(in_channels, one, (1, 1, 1))
        self.branch1 = nn.Sequential(Unit3d(in_channels, reduce_a, (1, 1, 1)), Unit3d(reduce_a, three_a, (3, 3, 3)))
        self.branch2 = nn.Sequential(Unit3d(in_channels, reduce_b, (1, 1, 1)), Unit3d(reduce_b, three_b, (3, 3, 3)))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, stride=1, padding=1), Unit3d(in_channels, pool, (1, 1, 1)))
        self.out_channels = one + three_a + three_b + pool

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)


class I3D(nn.Module):
    """Inflated Inception-v1. Modules in forward order: ``conv_1a``, ``pool_2a``, ``conv_2b``, ``conv_2c``,
    ``pool_3a``, ``mixed_3b``, ``mixed_3c``, ``pool_4a``, ``mixed_4b``..``mixed_4f``, ``pool_5a``, ``mixed_5b``,
    ``mixed_5c``, ``dropout``, ``logits`` (a 1x1x1 conv). Input (B, in_channels, T, H, W), H, W >= 32;
    output logits (B, classes).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config

        def width(channels: int) -> int:
            return max(1, channels * config.width // 64)

        self.conv_1a = Unit3d(config.in_channels, width(64), (7, 7, 7), stride=(2, 2, 2))
        self.pool_2a = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), ceil_mode=True)
        self.conv_2b = Unit3d(width(64), width(64), (1, 1, 1))
        self.conv_2c = Unit3d(width(64), width(192), (3, 3, 3))
        self.pool_3a = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), ceil_mode=True)
        channels = width(192)
        for name, counts in INCEPTION.items():
            if name == "mixed_4b":
                self.pool_4a = nn.MaxPool3d(3, stride=2, padding=1, ceil_mode=True)
            if name == "mixed_5b":
                self.pool_5a = nn.MaxPool3d(2, stride=2, ceil_mode=True)
            module = Inception3d(channels, tuple(width(c) for c in counts))
            self.add_module(name, module)
            channels = module.out_channels
        self.dropout = nn.Dropout(DROPOUT)
        self.logits = nn.Conv3d(channels, config.num_classes, 1)

    def forward(self, clip: Tensor) -> Tensor:
        config = self.config
        if clip.dim() != 5 or clip.shape[1] != config.in_channels:
            raise ValueError(f"expected a clip (B, {config.in_channels}, T, H, W), got {tuple(clip.shape)}")
        if min(clip.shape[-2:]) < min_size(config):
            raise ValueError(f"frames must be at least 32x32, got {tuple(clip.shape[-2:])}")
        x = clip
        for name, module in self.named_children():
            if name in ("dropout", "logits"):
                break
            x = module(x)
        x = x.mean(dim=(3, 4), keepdim=True)  # the 7x7 spatial average at 224 px
        if x.shape[2] >= 2:
            x = F.avg_pool3d(x, (2, 1, 1), stride=1)  # and 2 steps in time
        return self.logits(self.dropout(x)).mean(dim=(2, 3, 4))
