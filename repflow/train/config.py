"""`TrainConfig`: every setting of a training run, in one dataclass that is the single source of truth.

A run's settings are the dataclass defaults, overridden by a YAML file (``--config``), overridden by
command-line flags; `add_config_arguments` derives one flag per field (with its help and default) so
``repflow train --help`` always lists them all.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from repflow.data.datasets import STREAMS, ClipSpec
from repflow.data.sources import DATASETS
from repflow.models import ARCHITECTURE_CHOICES, ModelConfig
from repflow.runtime import DEVICES
from repflow.video import BACKEND_NAMES

# Settings with a fixed set of values; the lists belong to the modules that use the values.
CHOICES = {
    "dataset": DATASETS,
    "stream": tuple(stream for stream in STREAMS if stream != "both"),  # a model is trained on one stream
    **ARCHITECTURE_CHOICES,
    "optimizer": ("sgd", "adamw"),
    "schedule": ("cosine", "step"),
    "device": DEVICES,
    "video_backend": BACKEND_NAMES,
}


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


def _switch(help: str) -> Any:
    """An on/off setting whose default (None, "auto") lets the hardware decide."""
    return field(default=None, metadata={"help": help, "type": bool})


def value_type(item: dataclasses.Field) -> type:
    """The type a setting's values have (a switch's default is None, its values bool)."""
    return item.metadata.get("type", type(item.default))


@dataclass
class TrainConfig:
    """Settings of one training run (see docs/training.md)."""

    # data
    dataset: str = _opt("folders", "folders: train_data/val_data are class-folder dirs; list: they are list files "
                        "('path label' lines); hmdb51 / kinetics400: the official layouts under data_root")
    data_root: str = _opt("", "hmdb51: folder of class folders of .avi; kinetics400: folder holding train/ and val/")
    train_data: str = _opt("", "folders: class-folder dir; list: list file (for hmdb51/kinetics400 unused)")
    val_data: str = _opt("", "like train_data, for validation (empty: no validation)")
    split: int = _opt(1, "hmdb51: official split 1, 2 or 3")
    splits_dir: str = _opt("", "hmdb51: folder of <class>_test_split<N>.txt files (empty: data_root)")
    train_csv: str = _opt("", "kinetics400: csv (youtube_id,time_start,time_end,label) of the train videos (optional)")
    val_csv: str = _opt("", "kinetics400: csv of the val videos (optional)")
    video_backend: str = _opt("auto", "video decoder: auto, decord or pyav")
    skip_unreadable: bool = _opt(False, "training: use the next video (with a warning naming the file) when one "
                                 "cannot be decoded, instead of stopping")
    # clips
    num_frames: int = _opt(ClipSpec.num_frames, "frames per clip")
    stride: int = _opt(ClipSpec.stride, "temporal stride between clip frames")
    short_side: int = _opt(ClipSpec.short_side, "frames are resized so their short side has this many pixels")
    crop_size: int = _opt(ClipSpec.crop_size, "square crop fed to the model")
    flip: bool = _opt(True, "random horizontal flips in training")
    stream: str = _opt("rgb", "rgb: RGB frames; flow: classical TV-L1 flow of the clip (2 channels, for two-stream)")
    flow_cache: str = _opt("", "folder caching TV-L1 clip flows for stream=flow (empty: <out_dir>/flow_cache)")
    # model (repflow.models.ModelConfig; num_classes and in_channels come from the data)
    arch: str = _opt(ModelConfig.arch, "network: r2plus1d ((2+1)D ResNet), resnet2d (2D ResNet per frame, or on "
                     "stacked flow with stream=flow), tvnet (TVNet flow stream on RGB), i3d (Inflated Inception-v1)")
    stacked_flows: int = _opt(ModelConfig.stacked_flows, "resnet2d on stream=flow, tvnet: flow fields stacked as "
                              "one 2D input (K)")
    depth: int = _opt(ModelConfig.depth, "ResNet depth: 18, 34 or 50")
    flow: str = _opt("rep", "flow layer: none (baseline), rep (representation flow) or fcf (flow-of-flow)")
    flow_after: str = _opt(ModelConfig.flow_after, "ResNet stage after which the flow layer sits")
    width: int = _opt(ModelConfig.width, "base channel width (64 standard, 8 for a tiny CPU model)")
    flow_channels: int = _opt(ModelConfig.flow_channels, "channels the flow layer works on")
    n_iter: int = _opt(ModelConfig.n_iter, "TV-L1 iterations in the flow layer")
    learn_flow: bool = _opt(ModelConfig.learn_flow, "learn the flow layer's theta, lambda, tau and kernels")
    # optimisation
    epochs: int = _opt(30, "training epochs")
    batch_size: int = _opt(16, "clips per batch on each process (global batch = batch_size x processes)")
    optimizer: str = _opt("sgd", "sgd (momentum) or adamw")
    lr: float = _opt(0.01, "learning rate (paper: 0.01 with SGD)")
    momentum: float = _opt(0.9, "SGD momentum")
    weight_decay: float = _opt(1e-6, "weight decay (paper: 1e-6)")
    flow_lr_scale: float = _opt(0.01, "the flow layers' own parameters train at lr x this (paper: 0.01)")
    schedule: str = _opt("cosine", "learning-rate schedule after warm-up: cosine or step")
    warmup_epochs: float = _opt(1.0, "linear warm-up length in epochs (0: none)")
    step_epochs: int = _opt(10, "step schedule: multiply lr by gamma every this many epochs")
    gamma: float = _opt(0.1, "step schedule factor")
    grad_clip: float = _opt(0.0, "clip the gradient norm to this (0: off)")
    # run
    out_dir: str = _opt("runs/train", "folder for checkpoints, metrics.csv and summary.json")
    resume: bool = _opt(False, "continue from out_dir/checkpoint_last.pt if it exists")
    seed: int = _opt(0, "seed of data order, augmentation and initialisation")
    workers: int = _opt(4, "DataLoader worker processes per training process")
    device: str = _opt("auto", "auto (cuda if available), cpu or cuda")
    amp: bool = _opt(True, "mixed precision (bfloat16/float16 autocast) on CUDA")
    channels_last: bool | None = _switch("channels-last memory format for the 3D convolutions (auto: on CUDA only; "
                                         "--channels-last also on CPU, --no-channels-last nowhere)")
    sync_bn: bool = _opt(False, "SyncBatchNorm across processes (multi-GPU)")
    tensorboard: bool = _opt(False, "also log to TensorBoard in out_dir/tensorboard (needs the tensorboard package)")
    checkpoint_every: int = _opt(0, "also checkpoint every this many steps within an epoch (0: only per epoch)")
    max_steps: int = _opt(0, "stop after this many optimiser steps in total (0: no limit; for smoke tests)")
    progress: bool = _opt(True, "show a progress bar")

    def validate(self) -> "TrainConfig":
        """Raise ValueError naming any setting that is out of range; returns self."""
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got {getattr(self, name)!r}")
        positive = ("num_frames", "stride", "short_side", "crop_size", "epochs", "batch_size", "width", "n_iter",
                    "stacked_flows")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.crop_size > self.short_side:
            raise ValueError(f"crop_size ({self.crop_size}) cannot exceed short_side ({self.short_side})")
        if self.num_frames < 3:
            raise ValueError(f"num_frames must be >= 3 (the models need T >= 3), got {self.num_frames}")
        stacks_flow = self.arch == "tvnet" or (self.arch == "resnet2d" and self.stream == "flow")
        if stacks_flow and self.num_frames <= self.stacked_flows:
            raise ValueError(f"arch {self.arch} stacks {self.stacked_flows} flow fields: num_frames must be at least "
                             f"{self.stacked_flows + 1}, got {self.num_frames}")
        if self.dataset in ("folders", "list") and not self.train_data:
            raise ValueError(
                f"dataset={self.dataset} needs train_data (a {'folder' if self.dataset == 'folders' else 'list file'})"
            )
        if self.dataset in ("hmdb51", "kinetics400") and not self.data_root:
            raise ValueError(f"dataset={self.dataset} needs data_root")
        if self.lr <= 0 or self.workers < 0 or self.warmup_epochs < 0:
            raise ValueError("lr must be > 0, workers >= 0 and warmup_epochs >= 0")
        return self


def config_from_dict(values: dict[str, Any], *, source: str = "config") -> TrainConfig:
    """A validated TrainConfig from ``values``; unknown keys or wrong types raise ValueError naming ``source``."""
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{source}: unknown setting(s) {', '.join(unknown)}")
    converted = {}
    for name, value in values.items():
        kind = value_type(known[name])
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is None and known[name].default is None:
            pass  # a switch left on auto
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{source}: {name} must be {kind.__name__}, got {value!r}")
        converted[name] = value
    return TrainConfig(**converted).validate()


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"config file {path} is a folder: give a YAML file")
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of setting: value, found {type(values).__name__}")
    return values


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` plus one ``--field-name`` flag per TrainConfig field (default None = not given)."""
    parser.add_argument("--config", metavar="FILE", help="YAML file of settings; flags given here override it")
    group = parser.add_argument_group("settings (YAML keys use underscores)")
    for item in fields(TrainConfig):
        flag = "--" + item.name.replace("_", "-")
        default = {"": "empty", None: "auto"}.get(item.default, item.default)
        help_text = f"{item.metadata['help']} (default: {default})"
        if value_type(item) is bool:
            group.add_argument(flag, dest=item.name, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        else:
            choices = CHOICES.get(item.name)
            group.add_argument(flag, dest=item.name, type=type(item.default), default=None, choices=choices,
                               metavar=None if choices else item.name.upper(), help=help_text)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults <- YAML file (``args.config``) <- flags given on the command line."""
    values = load_yaml(args.config) if getattr(args, "config", None) else {}
    source = args.config or "command line"
    for item in fields(TrainConfig):
        given = getattr(args, item.name, None)
        if given is not None:
            values[item.name] = given
    return config_from_dict(values, source=source)


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain dict of the settings (for checkpoints, YAML and JSON)."""
    return dataclasses.asdict(config)
