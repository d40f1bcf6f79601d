"""Saving and loading checkpoints safely: atomic writes, ``weights_only`` loads, clear errors; what a checkpoint
says about its model (`TrainingClip`: how its input clips were made)."""

from __future__ import annotations

import dataclasses
import io
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from repflow.architectures import architecture_name as architecture_name  # re-exported: model descriptions
from repflow.data.datasets import ClipSpec
from repflow.io import atomic_write
from repflow.models import ARCHITECTURE_CHOICES as ARCHITECTURE_CHOICES  # re-exported: the architecture menus
from repflow.models import CLASSIFIER, ModelConfig, build_model

STATE_DICT_KEYS = ("model", "state_dict")  # where checkpoints of other projects often keep the weights
EXAMPLES = 3  # entries named in a mismatch message


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, unsafe, or not a repflow model."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.

    A crash mid-write leaves the previous checkpoint intact. The payload is serialised in memory first, so a full
    disk or a read-only folder surfaces as the file system's own error (`repflow.io.WriteError`), not as an error
    inside torch's zip writer.
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write(path, buffer.getbuffer())


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint dict with ``torch.load(weights_only=True)``; never runs pickled code."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with warnings.catch_warnings():  # its notes on pickle protocols: the error below says what matters
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        lines = str(error).splitlines()
        culprit = next((line.strip() for line in lines if "unsupported global" in line.lower()), "")
        if not culprit and is_plain_pickle(path):  # pickle.dump's protocols 2-5, which the safe loader refuses
            culprit = "It is a plain Python pickle (pickle.dump), not a torch.save file."
        if not culprit and "allowed global" not in str(error).lower():  # the unpickler choked on bytes, not a class
            raise CheckpointError(f"{path.name} is not a PyTorch checkpoint (its bytes are not a saved "
                                  f"dict of tensors)") from error
        raise CheckpointError(
            f"{path.name} holds pickled Python objects, not only weights (tensors, numbers, strings), so it was not "
            f"loaded, for safety (torch.load with weights_only=True). {culprit}".strip()
        ) from error
    except Exception as error:  # torch.load raises many types (KeyError, RuntimeError, ...) on junk files
        raise CheckpointError(
            f"{path.name} is not a readable PyTorch checkpoint ({type(error).__name__}: {error})"
        ) from error
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path.name} holds a {type(payload).__name__}, not a checkpoint dict")
    return payload


def is_plain_pickle(path: Path) -> bool:
    """Whether the file starts as ``pickle.dump`` starts one (protocol 2 to 5)."""
    with open(path, "rb") as file:
        head = file.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def model_payload(model: nn.Module) -> dict[str, Any]:
    """The part of a checkpoint that rebuilds ``model``: its config and state dict."""
    config = getattr(model, "config", None)
    if not isinstance(config, ModelConfig):
        raise TypeError("model_payload needs a repflow model with a ModelConfig in `model.config`")
    return {"model_config": config.to_dict(), "model": model.state_dict()}


@dataclass(frozen=True)
class TrainingClip:
    """How a model's input clips were made in training, stored in its checkpoints as the ``"clip"`` dict.

    frames, stride: clip length and temporal stride; short_side: the frames' short side after resizing; size:
    the square centre crop fed to the model; stream: "rgb" or "flow"; flow_clip: a flow stream's input is
    TV-L1 flow clipped to +-``flow_clip`` pixels and divided by it. None = not recorded (older checkpoints).
    """

    frames: int | None = None
    size: int | None = None
    stride: int | None = None
    short_side: int | None = None
    stream: str = "rgb"
    flow_clip: float | None = None

    @classmethod
    def of(cls, spec: ClipSpec, *, stream: str, flow_clip: float | None = None) -> "TrainingClip":
        """The record of clips cut as ``spec`` describes."""
        return cls(spec.num_frames, spec.crop_size, spec.stride, spec.short_side, stream, flow_clip)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "TrainingClip":
        """The ``"clip"`` entry of a checkpoint dict; sizes that are missing or not positive integers are None."""
        clip = payload.get("clip") if isinstance(payload.get("clip"), dict) else {}
        sizes = {key: clip[key] for key in ("frames", "size", "stride", "short_side")
                 if type(clip.get(key)) is int and clip[key] > 0}
        flow_clip = clip.get("flow_clip")
        return cls(**sizes, stream=clip.get("stream") if clip.get("stream") in ("rgb", "flow") else "rgb",
                   flow_clip=float(flow_clip) if isinstance(flow_clip, (int, float)) else None)

    def to_dict(self) -> dict[str, Any]:
        """The ``"clip"`` entry to store (unrecorded fields left out)."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}

    def with_defaults(self, *, min_frames: int = 1) -> "TrainingClip":
        """Frames, size and stride the clip does not record filled in with `ClipSpec`'s defaults, with at least
        ``min_frames`` frames (the model's shortest clip, :func:`shortest_clip`): the window `repflow figure` and
        the app show a checkpoint's model with by default."""
        defaults = ClipSpec()
        return dataclasses.replace(self, frames=max(self.frames or defaults.num_frames, min_frames),
                                   size=self.size or defaults.crop_size, stride=self.stride or defaults.stride)

    @property
    def crop_fraction(self) -> float:
        """The share of the short side the centre crop covers (``size / short_side``), 1.0 when unknown;
        :func:`short_side_for` scales it to another input size."""
        if self.size is not None and self.short_side is not None and self.short_side >= self.size:
            return self.size / self.short_side
        return 1.0


def shortest_clip(config: dict[str, Any]) -> int:
    """The fewest frames the model of a ``model_config`` dict accepts (at least 2: a flow needs a pair of frames;
    e.g. 3 for flow-of-flow, K + 1 for TVNet with K stacked flows); ValueError for an invalid config."""
    return max(ModelConfig.from_dict(dict(config)).min_frames, 2)


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
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{name} describes no repflow architecture: {error}") from error
    weights = payload["model"]
    report = mismatch_report(model.state_dict(), weights) if isinstance(weights, dict) else ["no state dict"]
    if report:
        raise CheckpointError(f"{name}'s weights do not fit its repflow architecture: {'; '.join(report)}")
    try:
        model.load_state_dict(weights)
    except (TypeError, ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{name} does not match its repflow architecture: {first}") from error
    return model.eval()


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load a repflow model (in eval mode) from a model file or a training checkpoint."""
    return model_from_payload(load_checkpoint(path, map_location), name=Path(path).name)


def read_state_dict(path: str | Path, name: str) -> dict[str, torch.Tensor]:
    """The tensors of a state dict file: the file's dict itself, or its "model" / "state_dict" entry."""
    payload = load_checkpoint(path)
    for key in STATE_DICT_KEYS:
        if isinstance(payload.get(key), dict):
            payload = payload[key]
            break
    tensors = {key: value for key, value in payload.items() if isinstance(value, torch.Tensor)}
    if not tensors:
        raise CheckpointError(f"{name} holds no tensors: expected a state dict (parameter name -> tensor)")
    return tensors


def infer_num_classes(state: dict[str, torch.Tensor], name: str) -> int:
    """Classes of a repflow model's state dict, from the shape of its classifier weight."""
    key = f"{CLASSIFIER}.weight"
    weight = state.get(key)
    if weight is None or weight.dim() != 2:
        found = f"a tensor of shape {tuple(weight.shape)}" if weight is not None else "no such entry"
        raise CheckpointError(
            f"{name}: a repflow state dict has a 2-D classifier weight '{key}', found {found} "
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


def fit_state_dict(path: str | Path, architecture: dict[str, Any], *, name: str) -> nn.Module:
    """Build the repflow model ``architecture`` (`ModelConfig` fields; ``num_classes`` read from the weights)
    and load the state dict file ``path`` into it, in eval mode; weights that do not fit say where."""
    state = read_state_dict(path, name)
    try:
        config = ModelConfig(**{**architecture, "num_classes": infer_num_classes(state, name)})
    except (TypeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"{name}: invalid architecture {architecture}: {error}") from error
    model = build_model(config)
    report = mismatch_report(model.state_dict(), state)
    if report:
        raise CheckpointError(
            f"{name} does not fit {describe_architecture(config)}: {'; '.join(report)}. "
            "Pick the architecture the weights were trained with."
        )
    model.load_state_dict(state)
    return model.eval()


def describe_architecture(config: ModelConfig) -> str:
    """E.g. "R(2+1)D-18, flow 'rep' after layer2, width 8, 8 flow channels"."""
    flow = f"flow {config.flow!r} after {config.flow_after}" if config.flow != "none" else "no flow layer"
    return f"{architecture_name(config.to_dict())}, {flow}, width {config.width}, {config.flow_channels} flow channels"


def default_architecture() -> dict[str, Any]:
    """The `ModelConfig` defaults, the starting point of a "state dict + architecture" form."""
    return ModelConfig().to_dict()
