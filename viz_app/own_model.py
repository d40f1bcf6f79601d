""""Your own model": a TorchScript file, or a state dict plus a repflow architecture.

No Streamlit here: these functions load a model the user brings and raise ``SourceError`` with a message
meant for the user (naming the file, what was expected and what was found). State dicts are read only
through :func:`repflow.checkpoint.load_checkpoint` (``torch.load(weights_only=True)``); a TorchScript file
is not pickle, but it runs the model's own code, which the app says next to the upload.
"""

from __future__ import annotations

import torch
from torch import nn

from repflow.checkpoint import load_checkpoint
from repflow.models import ModelConfig, build_model
from viz_app.sources import ModelSource, SourceError

STATE_DICT_KEYS = ("model", "state_dict")  # where checkpoints of other projects often keep the weights
CLASSIFIER_WEIGHT = "fc.weight"
EXAMPLES = 3


def load_own_model(source: ModelSource, name: str) -> nn.Module:
    """The model ``source`` describes, in eval mode; ``name`` is the file name shown in errors."""
    if source.kind == "torchscript":
        return load_torchscript(source.file.path, name)
    if source.kind == "state_dict":
        return load_state_dict_model(source.file.path, name, dict(source.architecture))
    raise ValueError(f"not an own-model kind: {source.kind!r}")


def load_torchscript(path: str, name: str) -> nn.Module:
    """``torch.jit.load`` on the CPU, its cryptic errors for other files turned into one clear message."""
    try:
        return torch.jit.load(path, map_location="cpu").eval()
    except Exception as error:  # torch.jit.load raises RuntimeError with miniz internals for any other file
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SourceError(
            f"{name} is not a TorchScript file (one written by torch.jit.save of a scripted or traced model). "
            f"A state dict needs the format 'state dict + architecture'. torch.jit.load said: {first_line[:200]}"
        ) from error


def read_state_dict(path: str, name: str) -> dict[str, torch.Tensor]:
    """The tensors of a state dict file: the file's dict itself, or its "model" / "state_dict" entry."""
    payload = load_checkpoint(path)
    for key in STATE_DICT_KEYS:
        if isinstance(payload.get(key), dict):
            payload = payload[key]
            break
    tensors = {key: value for key, value in payload.items() if isinstance(value, torch.Tensor)}
    if not tensors:
        raise SourceError(f"{name} holds no tensors: expected a state dict (parameter name -> tensor)")
    return tensors


def infer_num_classes(state: dict[str, torch.Tensor], name: str) -> int:
    """Classes of a repflow model's state dict, from the shape of its classifier ``fc.weight``."""
    weight = state.get(CLASSIFIER_WEIGHT)
    if weight is None or weight.dim() != 2:
        found = f"a tensor of shape {tuple(weight.shape)}" if weight is not None else "no such entry"
        raise SourceError(
            f"{name}: a repflow state dict has a 2-D classifier weight '{CLASSIFIER_WEIGHT}', found {found} "
            f"(first keys: {list(state)[:EXAMPLES]})"
        )
    return int(weight.shape[0])


def mismatch_report(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor]) -> list[str]:
    """Short, readable differences between two state dicts (missing, unexpected and misshapen entries)."""
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    misshapen = [
        f"{key} {tuple(given[key].shape)} (expected {tuple(expected[key].shape)})"
        for key in expected
        if key in given and given[key].shape != expected[key].shape
    ]
    report = []
    for what, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", misshapen)):
        if items:
            more = f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
            report.append(f"{len(items)} {what}: {', '.join(items[:EXAMPLES])}{more}")
    return report


def load_state_dict_model(path: str, name: str, architecture: dict) -> nn.Module:
    """Build the repflow model ``architecture`` (``ModelConfig`` fields; ``num_classes`` from the file) and
    load the state dict of ``path`` into it; a state dict that does not fit says where."""
    state = read_state_dict(path, name)
    try:
        config = ModelConfig(**{**architecture, "num_classes": infer_num_classes(state, name)})
    except (TypeError, ValueError) as error:
        raise SourceError(f"{name}: invalid architecture {architecture}: {error}") from error
    model = build_model(config)
    report = mismatch_report(model.state_dict(), state)
    if report:
        raise SourceError(
            f"{name} does not fit {describe_architecture(config)}: {'; '.join(report)}. "
            "Pick the architecture the weights were trained with."
        )
    model.load_state_dict(state)
    return model.eval()


def describe_architecture(config: ModelConfig) -> str:
    """E.g. "R(2+1)D-18, flow 'rep' after layer2, width 8, 8 flow channels"."""
    flow = f"flow {config.flow!r} after {config.flow_after}" if config.flow != "none" else "no flow layer"
    return f"R(2+1)D-{config.depth}, {flow}, width {config.width}, {config.flow_channels} flow channels"
