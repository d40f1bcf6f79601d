"""``repflow bench alignment``: do a model's flow layers show where things move?

For each flow layer of a checkpoint and each flow channel: the agreement with TV-L1 of :mod:`repflow.agreement`
(the Pearson r, over the layer's h x w positions, between the channel's |flow| at a step and classical OpenCV TV-L1
|flow| between the same input frames, area-averaged to the layer's resolution; steps without local motion skipped).
A channel's score is its mean r over the counted steps of all clips; the table gives the best and the median
channel, next to two controls: the same architecture with random weights, and an untrained TV-L1 layer on the
grayscale frames area-averaged to the layer's resolution. ``--probes`` adds rows for frozen TV-L1 probes
(:mod:`repflow.probe`: every channel, the flow layers' normalisation and iterations) on other layers' outputs, to
see how much of the motion's place the features there still carry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor, nn

from repflow.agreement import counted_steps, reference_motion, step_correlations, tvl1_magnitude
from repflow.blocks import normalize_per_sample, pairwise_flow
from repflow.checkpoint import (
    CheckpointError,
    TrainingClip,
    load_checkpoint,
    model_from_payload,
)
from repflow.data.sampling import uniform_clips
from repflow.data.sources import from_list_file
from repflow.data.transforms import apply_view, center_view, normalize
from repflow.flow import TVL1Flow
from repflow.inspect import capture_flows, list_flow_layers
from repflow.models import build_model
from repflow.probe import ProbeOptions, attach_probes
from repflow.video import VideoError, read_clip


@dataclass
class ChannelScores:
    """Running sums of per-channel r over counted steps (of all clips seen so far), and of the best channel's r
    picked anew at each step (``best_per_step``: what "the best of C channels" reaches by chance alone)."""

    sums: np.ndarray | None = None
    step_best_sum: float = 0.0
    counted: int = 0
    total: int = 0

    def add(self, magnitude: np.ndarray, reference: np.ndarray) -> None:
        """Add one clip: magnitude (C, steps, h, w), reference (steps, h, w)."""
        counted = counted_steps(reference)
        self.total += len(counted)
        if self.sums is None:
            self.sums = np.zeros(len(magnitude))
        if counted.any():
            r = step_correlations(magnitude[:, counted], reference[counted])  # (C, counted steps)
            self.sums += r.sum(axis=1)
            self.step_best_sum += float(r.max(axis=0).sum())
            self.counted += int(counted.sum())

    @property
    def means(self) -> np.ndarray:
        """Mean r per channel (NaN before any counted step)."""
        if self.sums is None or self.counted == 0:
            return np.full(0 if self.sums is None else len(self.sums), np.nan)
        return self.sums / self.counted

    @property
    def best_per_step(self) -> float:
        """Mean over counted steps of the highest channel r at that step (NaN before any counted step)."""
        return self.step_best_sum / self.counted if self.counted else float("nan")


@dataclass
class LayerAlignment:
    """Scores of one flow layer: trained model, random-weight control, untrained TV-L1 on pixels."""

    name: str
    label: str
    size: tuple[int, int] = (0, 0)
    trained: ChannelScores = field(default_factory=ChannelScores)
    random: ChannelScores = field(default_factory=ChannelScores)
    pixels: ChannelScores = field(default_factory=ChannelScores)


def _probe_options(model: nn.Module) -> ProbeOptions:
    """Probes that see what a flow layer of ``model`` would: every channel, normalised per sample, its iterations."""
    return ProbeOptions.like_flow_layers(model.config.n_iter)


def _layer_magnitudes(model: nn.Module, clip: Tensor, probes: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """|flow| (C, steps, h, w) of every flow layer, and of a probe on each of ``probes`` (keyed "probe NAME")."""
    probing = attach_probes(model, probes, options=_probe_options(model)) if probes else nullcontext({})
    with torch.inference_mode(), capture_flows(model) as flows, probing as probed:
        model(clip[None])
    flows = {**flows, **{f"probe {name}": flow for name, flow in probed.items()}}
    return {name: np.linalg.norm(flow[0].float().numpy(), axis=2) for name, flow in flows.items()}


def _pixel_flow_magnitude(frames: np.ndarray, size: tuple[int, int], n_iter: int) -> np.ndarray:
    """|flow| (1, T - 1, h, w) of an untrained TV-L1 layer on the grayscale frames area-averaged to ``size``."""
    height, width = size
    gray = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (width, height), interpolation=cv2.INTER_AREA)
            for f in frames]  # fmt: skip
    x = torch.from_numpy(np.stack(gray).astype(np.float32))[None, None]  # (1, 1, T, h, w)
    with torch.inference_mode():
        flow = pairwise_flow(TVL1Flow(1, n_iter=n_iter, learn=False), normalize_per_sample(x))
    return np.linalg.norm(flow[0].numpy(), axis=2)


def measure(
    model: nn.Module, random_model: nn.Module, clips: list[np.ndarray], motion: list[np.ndarray],
    probes: Sequence[str] = (),
) -> list[LayerAlignment]:
    """Score every flow layer of ``model`` (and of ``random_model``, same architecture) on uint8 ``clips``
    (each (T, S, S, 3), the frames the model reads), given each clip's :func:`tvl1_magnitude` in ``motion``;
    then a probe on the output of each module named in ``probes``."""
    layers = {info.name: LayerAlignment(info.name, info.label) for info in list_flow_layers(model)}
    layers.update({f"probe {name}": LayerAlignment(f"probe {name}", f"probe {name}") for name in probes})
    n_iter = model.config.n_iter
    for frames, full_motion in zip(clips, motion):
        clip = normalize(frames)
        trained, random = _layer_magnitudes(model, clip, probes), _layer_magnitudes(random_model, clip, probes)
        for name, layer in layers.items():
            magnitude = trained[name]
            layer.size = magnitude.shape[-2:]
            reference = reference_motion(full_motion, layer.size, magnitude.shape[1])
            layer.trained.add(magnitude, reference)
            layer.random.add(random[name], reference)
            pixels = _pixel_flow_magnitude(frames, layer.size, n_iter)
            layer.pixels.add(pixels, reference_motion(full_motion, layer.size, pixels.shape[1]))
    return list(layers.values())


def read_model_clip(path: Path, clip: dict[str, int]) -> np.ndarray:
    """The centre clip and centre crop a model reads from a video: uint8 (frames, size, size, 3)."""
    def choose(video_frames: int) -> np.ndarray:
        return uniform_clips(video_frames, clip["frames"], clip["stride"], 1)[0]

    frames, _ = read_clip(path, choose, short_side=clip["short_side"])
    return apply_view(frames, center_view(*frames.shape[1:3], clip["size"]))


def videos_from(paths: list[str], per_class: int) -> list[Path]:
    """Video files named directly, or the first ``per_class`` videos of each class of a list file (.txt)."""
    videos: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_file():
            raise ValueError(f"{given} does not exist")
        if path.suffix != ".txt":
            videos.append(path)
            continue
        taken: dict[int, int] = {}
        for record in from_list_file(path).records:
            if taken.get(record.label, 0) < per_class:
                taken[record.label] = taken.get(record.label, 0) + 1
                videos.append(record.path)
    return videos


def _fmt(scores: ChannelScores) -> str:
    means = scores.means
    if not len(means) or np.isnan(means).all():
        return f"{'-':>6} {'-':>6} {'-':>6}"
    return f"{np.max(means):6.3f} {np.median(means):6.3f} {scores.best_per_step:6.3f}"


def format_table(checkpoint: str, layers: list[LayerAlignment], clips: int) -> str:
    """One row per flow layer: steps counted, best and median channel r, and the two controls."""
    lines = [(f"{checkpoint}: {clips} clip(s). r: Pearson r of |flow| with TV-L1 |flow| at the layer's resolution, "
             "mean over the steps of local motion;"),
             ("best / median: the channel with the highest / median mean r; best/step: the highest channel picked "
             "anew at each step (high by chance alone)"),
             (f"{'layer':<18} {'map':>7} {'ch':>3} {'steps':>9} {'trained':>20} | {'random weights':>20} | "
              f"{'TV-L1 on pixels':>15}"),
             (f"{'':<18} {'':>7} {'':>3} {'counted':>9} {'best':>6} {'median':>6} {'b/step':>6} | "
              f"{'best':>6} {'median':>6} {'b/step':>6} | {'r':>15}")]
    for layer in layers:
        channels = 0 if layer.trained.sums is None else len(layer.trained.sums)
        steps = f"{layer.trained.counted}/{layer.trained.total}"
        pixels = layer.pixels.means
        pixel_r = f"{pixels[0]:15.3f}" if len(pixels) and not np.isnan(pixels[0]) else f"{'-':>15}"
        size = f"{layer.size[0]}x{layer.size[1]}"
        lines.append(f"{layer.label:<18} {size:>7} {channels:>3} {steps:>9} {_fmt(layer.trained)} | "
                     f"{_fmt(layer.random)} | {pixel_r}")
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoints", nargs="+", required=True, metavar="PT", help="model files to score")
    parser.add_argument("--data", nargs="+", required=True, metavar="VIDEO_OR_LIST",
                        help="held-out videos, or list files ('path label' lines, e.g. a synth test.txt)")
    parser.add_argument("--per-class", type=int, default=8, help="videos per class taken from each list file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random-weight control's initialisation")
    parser.add_argument("--probes", nargs="+", default=[], metavar="MODULE",
                        help="also score frozen TV-L1 probes (every channel) on these modules' outputs, e.g. stem "
                             "layer1 (names as in model.named_modules())")


def run(args: argparse.Namespace) -> int:
    try:
        videos = videos_from(args.data, args.per_class)
        if not videos:
            raise ValueError(f"no videos in {' '.join(args.data)}")
        read: dict[tuple, tuple[list[np.ndarray], list[np.ndarray]]] = {}  # clip settings -> clips, TV-L1 motion
        for path in args.checkpoints:
            payload = load_checkpoint(path)
            model = model_from_payload(payload, name=Path(path).name)
            if not list_flow_layers(model) and not args.probes:
                print(f"{path}: no flow layers, nothing to score (--probes scores other layers)")
                continue
            recorded = TrainingClip.from_payload(payload)  # what the model was trained to read; else 112-px defaults
            clip = {"frames": recorded.frames or 8, "stride": recorded.stride or 2, "size": recorded.size or 112,
                    "short_side": recorded.short_side or 128}
            key = tuple(sorted(clip.items()))
            if key not in read:
                clips = [read_model_clip(video, clip) for video in videos]
                read[key] = clips, [tvl1_magnitude(frames) for frames in clips]
            torch.manual_seed(args.seed)
            random_model = build_model(model.config).eval()
            layers = measure(model, random_model, *read[key], probes=args.probes)
            print(format_table(path, layers, len(videos)), flush=True)
    except (ValueError, FileNotFoundError, CheckpointError, VideoError) as error:
        print(f"repflow bench alignment: {error}", file=sys.stderr)
        return 2
    return 0
