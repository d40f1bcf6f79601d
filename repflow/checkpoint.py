"""Saving and loading checkpoints safely: atomic writes, ``weights_only`` loads, clear errors."""

from __future__ import annotations

import os
import pickle
import uuid
from pathlib import Path
from typing import Any

import torch
from torch import nn

from repflow.models import ModelConfig, build_model


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, unsafe, or not a repflow model."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.

    A crash mid-write leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    # os.open honours the umask (mkstemp would make the checkpoint readable by its owner only).
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint dict with ``torch.load(weights_only=True)``; never runs pickled code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        culprit = next((line.strip() for line in str(error).splitlines() if "Unsupported global" in line), "")
        if not culprit and "allowed global" not in str(error):  # the unpickler choked on bytes, not on a class
            raise CheckpointError(f"{path.name} is not a PyTorch checkpoint (its bytes are not a saved "
                                  f"dict of tensors)") from error
        raise CheckpointError(
            f"{path.name} holds objects that are not plain weights (pickled code or classes), so it was "
            f"not loaded, for safety. {culprit}".strip()
        ) from error
    except Exception as error:  # torch.load raises many types (KeyError, RuntimeError, ...) on junk files
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint ({type(error).__name__}: {error})") from error
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path.name} holds a {type(payload).__name__}, not a checkpoint dict")
    return payload


def model_payload(model: nn.Module) -> dict[str, Any]:
    """The part of a checkpoint that rebuilds ``model``: its config and state dict."""
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig):
        raise TypeError("model_payload needs a repflow model with a ModelConfig in `model.config`")
    return {"model_config": config.to_dict(), "model": model.state_dict()}


def training_clip(payload: dict[str, Any]) -> dict[str, int]:
    """``frames``, ``size`` (crop), ``stride`` and ``short_side`` a checkpoint was trained with, from its
    optional ``"clip"`` entry.

    Entries that are missing or not positive integers are left out, so callers apply their own defaults.
    """
    clip = payload.get("clip") if isinstance(payload.get("clip"), dict) else {}
    keys = ("frames", "size", "stride", "short_side")
    return {key: clip[key] for key in keys if type(clip.get(key)) is int and clip[key] > 0}


def crop_fraction(clip: dict[str, int]) -> float:
    """The share of the short side a :func:`training_clip`'s centre crop covers (``size / short_side``), 1.0
    when unknown; :func:`short_side_for` scales it to another input size."""
    if "size" in clip and "short_side" in clip and clip["short_side"] >= clip["size"]:
        return clip["size"] / clip["short_side"]
    return 1.0


def short_side_for(size: int, fraction: float) -> int:
    """The short side to resize frames to so that a centre ``size`` crop covers ``fraction`` of it."""
    return max(size, round(size / fraction))


def model_from_payload(payload: dict[str, Any], *, name: str = "checkpoint") -> nn.Module:
    """Rebuild the model a checkpoint dict describes; mismatches raise :class:`CheckpointError`."""
    if "model_config" not in payload or "model" not in payload:
        raise CheckpointError(
            f"{name} is not a repflow checkpoint: it needs 'model_config' and 'model' entries, "
            f"found {sorted(map(str, payload))[:8]}"
        )
    try:
        model = build_model(ModelConfig.from_dict(dict(payload["model_config"])))
        model.load_state_dict(payload["model"])
    except (TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{name} does not match its repflow architecture: {error}") from error
    return model.eval()


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load a repflow model (in eval mode) from a model file or a training checkpoint."""
    return model_from_payload(load_checkpoint(path, map_location), name=Path(path).name)
