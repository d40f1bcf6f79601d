"""Clip analysis: run a model once on a clip and keep what every picture of its flows is drawn from.

:func:`analyse_clip` resizes and crops the frames as the model was trained (:mod:`repflow.data.transforms`),
captures every flow layer through :mod:`repflow.inspect` and, when asked, the flow a frozen TV-L1 probe sees
at a chosen layer (:mod:`repflow.probe`). The app and ``repflow figure`` both start here; drawing is
:mod:`repflow.flowviz` (one panel) and :mod:`repflow.figure` (grids, animations, files).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

PROBE_PREFIX = "probe:"


@dataclass(frozen=True)
class ClipAnalysis:
    """A model run on one clip, in the layouts the viewer draws.

    frames: (T, S, S, 3) uint8, the model's input crop (so flows line up with it).
    flows: layer name -> (C, T', h, w, 2) float32 flow of batch item 0 (x, y; positive = right, down).
        A flow probe's entry is named :func:`probe_key` of its probe point.
    layer_labels: layer name -> human label such as "Rep-Flow" or "flow-of-flow 2/2", in model order.
    layer_kinds: layer name -> "rep", "fcf-1", "fcf-2" or "probe".
    probabilities: (num_classes,) softmax of the logits; None when the model's output is not
        (1, num_classes) logits (a foreign model may return features).
    channel_labels: layer name -> one label per flow channel, for layers whose channel k is not channel k of
        the layer (a probe keeps some channels of its module, or principal components); others: "ch k".
    """

    frames: np.ndarray
    flows: dict[str, np.ndarray]
    layer_labels: dict[str, str]
    layer_kinds: dict[str, str]
    probabilities: np.ndarray | None
    channel_labels: dict[str, list[str]] = field(default_factory=dict)

    def find_layer(self, spec: str) -> str:
        """The layer called ``spec`` by name, label or kind (case-insensitive); ValueError listing them if none."""
        for name in self.flows:
            if spec.lower() in (name.lower(), self.layer_labels[name].lower(), self.layer_kinds[name].lower()):
                return name
        known = ", ".join(f"{name} ({self.layer_kinds[name]}, {self.layer_labels[name]!r})" for name in self.flows)
        raise ValueError(f"no flow layer {spec!r}; this model has: {known}")

    def channel_label(self, layer: str, channel: int) -> str:
        """How channel ``channel`` of ``layer``'s flow is called: "ch 5" (the layer's own channel) or "PC1"."""
        labels = self.channel_labels.get(layer)
        return labels[channel] if labels else f"ch {channel}"


def probe_key(point: str) -> str:
    """The :attr:`ClipAnalysis.flows` key of the flow probe at ``point`` (kept apart from flow-layer names)."""
    return f"{PROBE_PREFIX}{point}"


def analyse_clip(
    model, frames: np.ndarray, *, size: int, short_side: int | None = None, probe: str | None = None, probe_options=None
) -> ClipAnalysis:
    """Run ``model`` once on ``frames`` (T, H, W, 3) uint8 RGB, short side resized to ``short_side`` (default
    ``size``) and centre-cropped to ``size`` (:func:`repflow.data.transforms.to_model_input`),
    capturing every flow layer through :mod:`repflow.inspect` and, when ``probe`` names a probe point,
    the flow a frozen TV-L1 probe computes there (:func:`repflow.probe.attach_probes` with
    ``probe_options``). A model without flow layers (any foreign model) needs a probe."""
    import torch

    from repflow.data.transforms import to_model_input, to_uint8
    from repflow.inspect import capture_flows, list_flow_layers
    from repflow.probe import attach_probes

    layers = list_flow_layers(model)
    if not layers and probe is None:
        raise ValueError(
            "this model has no flow layer (its config has flow='none'): there is no flow to show; probe one of its "
            "layers instead (repflow.probe)"
        )
    in_channels = getattr(getattr(model, "config", None), "in_channels", 3)
    if in_channels != 3:
        raise ValueError(f"this model takes {in_channels}-channel input (a flow stream); the viewer needs an RGB model")
    clip = to_model_input(frames, size, short_side=short_side)
    with ExitStack() as stack:
        stack.enter_context(torch.inference_mode())
        captured = stack.enter_context(capture_flows(model)) if layers else {}
        probes = stack.enter_context(attach_probes(model, [probe], options=probe_options)) if probe else None
        logits = model(clip.unsqueeze(0))
    shown = to_uint8(clip)
    flows = {info.name: captured[info.name][0].permute(0, 1, 3, 4, 2).float().numpy() for info in layers}
    labels = {info.name: info.label for info in layers}
    kinds = {info.name: info.kind for info in layers}
    channel_labels = {}
    if probe is not None:
        key = probe_key(probe)
        flows[key] = probes[probe][0].permute(0, 1, 3, 4, 2).float().numpy()
        labels[key] = f"probe {probe}"
        kinds[key] = "probe"
        kept = probes.channels[probe]
        channel_labels[key] = (
            [f"ch {c}" for c in kept[0].tolist()]
            if kept is not None
            else [f"PC{k + 1}" for k in range(len(flows[key]))]
        )
    is_logits = isinstance(logits, torch.Tensor) and logits.dim() == 2 and logits.shape[0] == 1
    return ClipAnalysis(
        frames=shown,
        flows=flows,
        layer_labels=labels,
        layer_kinds=kinds,
        probabilities=torch.softmax(logits[0].float(), dim=0).numpy() if is_logits else None,
        channel_labels=channel_labels,
    )
