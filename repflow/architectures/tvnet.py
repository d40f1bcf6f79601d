"""TVNet flow stream (``ModelConfig.arch = "tvnet"``): a learnable TV-L1 layer on the frames feeding a 2D flow ResNet.

TVNet (Fan, Huang, Gan, Ermon, Gong & Huang, "End-to-End Learning of Motion Representation for Video
Understanding", CVPR 2018) unrolls the TV-L1 optical-flow solver into network layers on the grayscale frames, so
the flow is computed inside the network and its parameters are trained end to end with the classifier. Here:

* the clip (B, 3, T, H, W), normalised RGB as every repflow model takes it, is turned back into grayscale
  intensities (ITU-R BT.601 luma, 0-255);
* :class:`repflow.blocks.FlowLayer` (kind ``"tvnet"``, one channel) runs ``n_iter`` TV-L1 iterations between every
  pair of consecutive frames with learnable theta, lambda, tau and difference kernels (``learn_flow``). One scale
  and one warp (the second frame is never re-warped by the current flow): TVNet's multi-scale pyramid and
  re-warping are not added, so large motions are under-estimated (the classical flow a two-stream network gets is
  OpenCV's 5-scale, 5-warp TV-L1). The configs use 50 iterations. One scale, one warp and 50 iterations are the
  defaults of the TVNet authors' released code;
* the flow, in pixels, is clipped and scaled exactly as cached TV-L1 flow is for a flow stream
  (:func:`repflow.data.transforms.normalize_flow`: +-``FLOW_CLIP`` px -> [-1, 1]) and goes to the stacked-flow 2D
  ResNet of :mod:`repflow.architectures.resnet2d` (K = ``stacked_flows`` fields as 2K channels).

It is the flow stream of the paper's "TVNet (+RGB)" row: its partner is the per-frame RGB 2D ResNet, paired at
evaluation through ``repflow eval --flow-checkpoint`` (both streams read the RGB clip).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from repflow.architectures.resnet2d import ResNet2D
from repflow.blocks import TVNET_LAYER, FlowLayer
from repflow.data.transforms import FLOW_CLIP, MEAN, STD
from repflow.models import ModelConfig

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601


def check_config(config: ModelConfig) -> None:
    """TVNet reads RGB frames and is itself the flow layer: in_channels 3, no representation-flow block."""
    if config.in_channels != 3:
        raise ValueError(f"arch tvnet computes its flow from RGB frames: train it on stream rgb (in_channels 3), "
                         f"not on {config.in_channels}-channel input")
    if config.flow != "none":
        raise ValueError(f"arch tvnet has its own TV-L1 layer on the frames and no flow block: set flow to 'none', "
                         f"not {config.flow!r}")


def min_frames(config: ModelConfig) -> int:
    """K + 1 frames give the K flow fields of one stacked window."""
    return config.stacked_flows + 1


def min_size(config: ModelConfig) -> int:
    return 32


def build(config: ModelConfig) -> "TVNet":
    return TVNet(config)


def grayscale(clip: Tensor) -> Tensor:
    """Normalised RGB (B, 3, T, H, W) (``MEAN``/``STD`` of :mod:`repflow.data.transforms`) -> luma (B, 1, T, H, W)
    in 0-255."""
    shape = (1, 3, 1, 1, 1)
    rgb = clip * clip.new_tensor(STD).view(shape) + clip.new_tensor(MEAN).view(shape)
    return (rgb * clip.new_tensor(LUMA).view(shape)).sum(dim=1, keepdim=True) * 255.0


class TVNet(nn.Module):
    """TVNet flow stream: ``tvnet`` (the TV-L1 :class:`~repflow.blocks.FlowLayer` on grayscale frames) and
    ``stream`` (the stacked-flow :class:`~repflow.architectures.resnet2d.ResNet2D`).

    Input (B, 3, T, H, W) RGB with T >= ``stacked_flows`` + 1; output logits (B, classes).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tvnet = FlowLayer(1, kind=TVNET_LAYER, n_iter=config.n_iter, learn=config.learn_flow)
        self.stream = ResNet2D(dataclasses.replace(config, arch="resnet2d", in_channels=2))

    def flow(self, clip: Tensor) -> Tensor:
        """The flow the stream classifies: (B, 2, T-1, H, W), (x, y), clipped to +-FLOW_CLIP px, scaled to [-1, 1]."""
        return torch.clamp(self.tvnet(grayscale(clip)), -FLOW_CLIP, FLOW_CLIP) / FLOW_CLIP

    def forward(self, clip: Tensor) -> Tensor:
        config = self.config
        if clip.dim() != 5 or clip.shape[1] != 3:
            raise ValueError(f"expected an RGB clip (B, 3, T, H, W), got {tuple(clip.shape)}")
        if clip.shape[2] < min_frames(config):
            raise ValueError(f"this model needs T >= {min_frames(config)} frames, got T = {clip.shape[2]}")
        if min(clip.shape[-2:]) < min_size(config):
            raise ValueError(f"frames must be at least 32x32, got {tuple(clip.shape[-2:])}")
        return self.stream(self.flow(clip))
