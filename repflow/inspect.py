"""The hook API: find a model's flow layers, capture their flows during a forward pass, read their parameters.

Everything the app and user code need to look inside a network goes through here.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from torch import Tensor, nn

from repflow.blocks import FLOW_KINDS, LAYER_LABELS, FlowLayer

# How each model flow kind ("none", "rep", "fcf") is called, for menus and descriptions.
FLOW_KIND_LABELS = {name: kind.label for name, kind in FLOW_KINDS.items()}


@dataclass(frozen=True)
class FlowLayerInfo:
    """A flow layer of a model: its module name, its kind ("rep", "fcf-1", "fcf-2", "tvnet") and a display label."""

    name: str
    kind: str

    @property
    def label(self) -> str:
        return LAYER_LABELS.get(self.kind, self.kind)


def _flow_layers(model: nn.Module) -> list[tuple[str, FlowLayer]]:
    return [(name, module) for name, module in model.named_modules() if isinstance(module, FlowLayer)]


def list_flow_layers(model: nn.Module) -> list[FlowLayerInfo]:
    """Every flow layer of ``model``, in forward order."""
    return [FlowLayerInfo(name, layer.kind) for name, layer in _flow_layers(model)]


@contextmanager
def capture_flows(model: nn.Module) -> Iterator[dict[str, Tensor]]:
    """Record the raw flows of every flow layer during forward passes inside the ``with`` block.

    ``flows[name]`` is a detached (B, C', T', 2, H, W) tensor: C' flow channels, T' flow steps, and
    (x, y) flow in feature-map pixels (positive = moves right / down). Later passes overwrite earlier
    ones. All hooks are removed on exit, also when the block raises.
    """
    flows: dict[str, Tensor] = {}
    handles = []

    def recorder(name: str):
        def hook(_module: nn.Module, _inputs: tuple, output: Tensor) -> None:
            flows[name] = output.detach()

        return hook

    try:
        for name, layer in _flow_layers(model):
            handles.append(layer.tap.register_forward_hook(recorder(name)))
        yield flows
    finally:
        for handle in handles:
            handle.remove()


def learned_parameters(model: nn.Module) -> dict[str, dict[str, float | Tensor]]:
    """Per flow layer: theta, lam, tau (positive values as the solver uses them) and its kernels."""
    result: dict[str, dict[str, float | Tensor]] = {}
    for name, layer in _flow_layers(model):
        tvl1 = layer.tvl1
        entry: dict[str, float | Tensor] = {
            key: abs(float(getattr(tvl1, key).detach())) for key in ("theta", "lam", "tau")
        }
        for key in ("img_grad_x", "img_grad_y", "flow_grad_x", "flow_grad_y", "div_x", "div_y"):
            entry[key] = getattr(tvl1, key).detach().clone()
        result[name] = entry
    return result
