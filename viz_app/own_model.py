""""Your own model": a TorchScript file, or a state dict plus a repflow architecture.

No Streamlit here: these functions load a model the user brings and raise ``SourceError`` / ``CheckpointError``
with a message meant for the user (naming the file, what was expected and what was found). State dicts are read
and fitted by :func:`repflow.checkpoint.fit_state_dict` (``torch.load(weights_only=True)``); a TorchScript file
is not pickle, but it runs the model's own code, which the app says next to the upload.
"""

from __future__ import annotations

import torch
from torch import nn

from repflow.checkpoint import fit_state_dict
from viz_app.sources import ModelSource, SourceError


def load_own_model(source: ModelSource, name: str) -> nn.Module:
    """The model ``source`` describes, in eval mode; ``name`` is the file name shown in errors."""
    if source.kind == "torchscript":
        return load_torchscript(source.file.path, name)
    if source.kind == "state_dict":
        return fit_state_dict(source.file.path, dict(source.architecture), name=name)
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
