"""Network blocks built on the flow layer: representation flow and flow-of-flow (Piergiovanni & Ryoo, 2019).

Both blocks take video features (B, C, T, H, W), compute TV-L1 flow between consecutive time steps of a
bottlenecked copy of them, map the flow back to C channels and add it to the input as a residual, so they
can be dropped between two stages of any video CNN. The output is shorter in time: T-1 (one flow layer)
or T-2 (flow-of-flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from inspect import signature
from typing import Iterable

import torch
from torch import Tensor, nn

from repflow.flow import TVL1Flow

_RANGE_EPS = 1e-6
FLOW_N_ITER: int = signature(TVL1Flow).parameters["n_iter"].default  # the flow layer's own default (10)
FLOW_CHANNELS = 32  # channels a flow block computes flow on (the paper's choice)


def normalize_per_sample(x: Tensor, scale: float = 255.0) -> Tensor:
    """Min-max normalise each sample of ``x`` (B, ...) to [0, ``scale``] independently of the others.

    A constant sample maps to zeros (never NaN), so it yields zero flow.
    """
    flat = x.flatten(1)
    low = flat.min(dim=1).values
    span = flat.max(dim=1).values - low
    shape = (-1,) + (1,) * (x.dim() - 1)
    return (x - low.view(shape)) * (scale / span.clamp_min(_RANGE_EPS)).view(shape)


def pairwise_flow(tvl1: TVL1Flow, x: Tensor) -> Tensor:
    """TV-L1 flow of ``tvl1`` between every pair of consecutive time steps of ``x`` (B, C, T, H, W).

    ``x`` must already be normalised (see :func:`normalize_per_sample`). Returns (B, C, T-1, 2, H, W):
    the flow from step t to t+1 as (x-flow, y-flow) in pixels of the feature map.
    """
    batch, channels, steps, height, width = x.shape
    if steps < 2:
        raise ValueError(f"a flow layer needs at least 2 time steps, got input of shape {tuple(x.shape)}")
    # Fold the T-1 frame pairs (t, t+1) into the batch: (B*(T-1), C, H, W).
    frames = x.transpose(1, 2)
    first = frames[:, :-1].reshape(-1, channels, height, width)
    second = frames[:, 1:].reshape(-1, channels, height, width)
    u1, u2 = tvl1(first, second)
    return torch.stack([u1, u2], dim=2).view(batch, steps - 1, channels, 2, height, width).transpose(1, 2)


class FlowLayer(nn.Module):
    """Per-sample normalisation + TV-L1 flow between every pair of consecutive time steps.

    (B, C, T, H, W) -> (B, 2C, T-1, H, W), the channels ordered (x-flows of all C, then y-flows).
    The raw flow (B, C, T-1, 2, H, W) passes through ``self.tap`` (an identity), where
    ``repflow.inspect`` hooks in. ``kind`` names the layer's role: "rep", "fcf-1" or "fcf-2".
    """

    def __init__(
        self, channels: int, *, kind: str, n_iter: int = FLOW_N_ITER, learn: bool | Iterable[str] = True
    ) -> None:
        super().__init__()
        self.kind = kind
        self.tvl1 = TVL1Flow(channels, n_iter=n_iter, learn=learn)
        self.tap = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, steps, height, width = x.shape
        if steps < 2:
            raise ValueError(f"a flow layer needs at least 2 time steps, got input of shape {tuple(x.shape)}")
        flow = self.tap(pairwise_flow(self.tvl1, normalize_per_sample(x)))  # (B, C, T-1, 2, H, W)
        return flow.permute(0, 3, 1, 2, 4, 5).reshape(batch, 2 * channels, steps - 1, height, width)


def _residual(x: Tensor, steps: int, mode: str) -> Tensor:
    """The input's contribution to a block whose output has ``steps`` time steps."""
    if mode == "last":
        return x[:, :, x.shape[2] - steps :]
    # "mean": average each run of consecutive input steps that one output step covers.
    window = x.shape[2] - steps + 1
    return x.unfold(2, window, 1).mean(dim=-1)


class _FlowBlock(nn.Module):
    """Shared frame of both blocks: bottleneck conv, flow layers (built by the subclass), conv back to C,
    BatchNorm with weight 0, residual, ReLU.

    Args:
        in_channels: channels C of the block's input and output.
        flow_channels: channels the flow is computed on (the paper uses 32).
        n_iter: TV-L1 iterations; learn: see :class:`repflow.flow.TVL1Flow`.
        residual: "last" adds the input's last steps, "mean" the average of the input steps each output covers.
    """

    min_steps: int
    layer_labels: dict[str, str]  # kind of each of the block's flow layers -> its display label

    def __init__(
        self,
        in_channels: int,
        *,
        flow_channels: int = FLOW_CHANNELS,
        n_iter: int = FLOW_N_ITER,
        learn: bool | Iterable[str] = True,
        residual: str = "last",
    ) -> None:
        super().__init__()
        if residual not in ("last", "mean"):
            raise ValueError(f"residual must be 'last' or 'mean', got {residual!r}")
        self.in_channels = in_channels
        self.residual = residual
        self.bottleneck = nn.Conv3d(in_channels, flow_channels, kernel_size=1, bias=False)
        self._build_flow(flow_channels, n_iter, learn)
        self.project = nn.Conv3d(2 * flow_channels, in_channels, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm3d(in_channels)
        # Zero-initialised scale: an untrained block passes its input through (identity path).
        nn.init.zeros_(self.bn.weight)
        self.relu = nn.ReLU(inplace=True)

    def _build_flow(self, flow_channels: int, n_iter: int, learn: bool | Iterable[str]) -> None:
        raise NotImplementedError

    def _flow(self, features: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected (B, {self.in_channels}, T, H, W) features, got {tuple(x.shape)}")
        if x.shape[2] < self.min_steps:
            raise ValueError(f"{type(self).__name__} needs T >= {self.min_steps} time steps, got T = {x.shape[2]}")
        out = self.bn(self.project(self._flow(self.bottleneck(x))))
        return self.relu(out + _residual(x, out.shape[2], self.residual))


class RepFlow(_FlowBlock):
    """Representation flow block: bottleneck conv C -> ``flow_channels``, one flow layer, conv back to C.

    Arguments as :class:`_FlowBlock`. (B, C, T, H, W) -> (B, C, T-1, H, W).
    """

    min_steps = 2
    layer_labels = {"rep": "Rep-Flow"}

    def _build_flow(self, flow_channels: int, n_iter: int, learn: bool | Iterable[str]) -> None:
        self.flow1 = FlowLayer(flow_channels, kind="rep", n_iter=n_iter, learn=learn)

    def _flow(self, features: Tensor) -> Tensor:
        return self.flow1(features)


class FlowOfFlow(_FlowBlock):
    """Flow-of-flow block: flow layer, 1x3x3 conv (+BN, ReLU), a second flow layer on that, conv back to C.

    The second layer sees how the first layer's flow changes over time, an acceleration-like feature;
    the paper reports it beats a single flow layer. Arguments as :class:`_FlowBlock`.
    (B, C, T, H, W) -> (B, C, T-2, H, W).
    """

    min_steps = 3
    layer_labels = {"fcf-1": "flow-of-flow 1/2", "fcf-2": "flow-of-flow 2/2"}

    def _build_flow(self, flow_channels: int, n_iter: int, learn: bool | Iterable[str]) -> None:
        self.flow1 = FlowLayer(flow_channels, kind="fcf-1", n_iter=n_iter, learn=learn)
        self.between = nn.Sequential(
            nn.Conv3d(2 * flow_channels, flow_channels, kernel_size=(1, 3, 3), padding=(0, 1, 1), bias=False),
            nn.BatchNorm3d(flow_channels),
            nn.ReLU(inplace=True),
        )
        self.flow2 = FlowLayer(flow_channels, kind="fcf-2", n_iter=n_iter, learn=learn)

    def _flow(self, features: Tensor) -> Tensor:
        return self.flow2(self.between(self.flow1(features)))


@dataclass(frozen=True)
class FlowKind:
    """A kind of flow block a model can hold: the ``flow`` value of a model config, its block class (None for
    "none"), and the label people see."""

    name: str
    block: type[_FlowBlock] | None
    label: str

    @property
    def min_frames(self) -> int:
        """The shortest clip a model with this block accepts."""
        return self.block.min_steps if self.block is not None else 1

    @property
    def layer_labels(self) -> dict[str, str]:
        """Display label of each of the block's flow layers, by layer kind ("rep", "fcf-1", "fcf-2")."""
        return dict(self.block.layer_labels) if self.block is not None else {}


# The one registry of flow kinds: model configs, CLI choices, `repflow.inspect` labels and the app read it.
FLOW_KINDS: dict[str, FlowKind] = {
    "none": FlowKind("none", None, "no flow layer"),
    "rep": FlowKind("rep", RepFlow, "Rep-Flow"),
    "fcf": FlowKind("fcf", FlowOfFlow, "flow-of-flow"),
}
# A flow layer outside any block: TVNet's layer on the grayscale frames (repflow.architectures.tvnet).
TVNET_LAYER = "tvnet"
LAYER_LABELS: dict[str, str] = {
    **{kind: label for flow in FLOW_KINDS.values() for kind, label in flow.layer_labels.items()},
    TVNET_LAYER: "TVNet (frames)",
}
