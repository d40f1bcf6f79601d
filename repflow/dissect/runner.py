"""Run a model over a labelled clip set and write each clip's per-channel motion statistics, streamed to disk.

Each video gives one window, the view ``repflow eval --clips 1 --crops 1`` scores (`repflow.data.ClipDataset`
in test mode with one clip and one crop). Every flow layer (and every flow probe asked for) gives one row per
channel with its energy, its direction shares and, with TV-L1, its agreement with TV-L1 of the frames the model
read. Rows go to disk in parts as they are computed (`repflow.dissect.tables`), so memory stays flat and a
killed run loses at most one part. Under torchrun each process takes every N-th of the clips still to do;
rank 0 merges the parts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from repflow import distributed
from repflow.agreement import channel_agreement
from repflow.analysis import probe_key
from repflow.data.datasets import ClipDataset
from repflow.data.flow_cache import FlowCache
from repflow.data.transforms import to_uint8
from repflow.dissect.tables import DIRECTIONS, PartWriter, columns_of
from repflow.flowviz import flow_energy
from repflow.inspect import capture_flows, list_flow_layers
from repflow.motion_stats import direction_shares
from repflow.probe import ProbeOptions, attach_probes
from repflow.video import VideoError


@dataclass
class ShardResult:
    """What one process did: clips written, unreadable clips skipped (path, message), seconds."""

    clips: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


class _Guarded(Dataset):
    """Items of a `ClipDataset`; an unreadable video becomes ``{"index", "error"}`` instead of an exception."""

    def __init__(self, data: ClipDataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> dict:
        try:
            return self.data[index]
        except VideoError as error:
            return {"index": index, "error": str(error)}


def _as_list(items: list[dict]) -> list[dict]:
    return items


def layer_names(model: nn.Module, probes: Sequence[str]) -> list[str]:
    """The dissected layers as `repflow.analysis.ClipAnalysis.flows` names them: flow layers, then probes."""
    return [info.name for info in list_flow_layers(model)] + [probe_key(point) for point in probes]


@torch.no_grad()
def dissect(model: nn.Module, dataset: ClipDataset, out_dir: Path, *, done: set[int], probes: Sequence[str] = (),
            tvl1: bool = False, fmt: str = "parquet", batch_size: int = 4, workers: int = 0,
            device: torch.device | str = "cpu", skip_unreadable: bool = False, progress: bool = True,
            flush_every: int = 32, tvl1_cache: FlowCache | None = None) -> ShardResult:
    """Write this process's share of the clips of ``dataset`` not in ``done`` as parts in ``out_dir``.

    ``dataset`` must be a test-mode `ClipDataset` with one clip and one crop per video. An unreadable video
    raises `repflow.video.VideoError` (after the rows computed so far are written), or with ``skip_unreadable``
    is listed in the result and skipped. ``tvl1_cache`` keeps each window's TV-L1 flow (float16) for the next
    model dissected on the same clips.
    """
    if dataset.train or dataset.num_clips != 1 or dataset.num_crops != 1:
        raise ValueError("dissect needs a test-mode ClipDataset with one clip and one crop per video")
    device = torch.device(device)
    model = model.to(device).eval()
    info = distributed.current()
    todo = [index for index in range(len(dataset)) if index not in done]
    mine = todo[info.rank::info.world_size]
    loader = DataLoader(Subset(_Guarded(dataset), mine), batch_size=batch_size, shuffle=False, num_workers=workers,
                        collate_fn=_as_list)
    writer = PartWriter(out_dir, rank=info.rank, fmt=fmt, columns=columns_of(tvl1), flush_every=flush_every)
    options = ProbeOptions.like_flow_layers(model.config.n_iter) if hasattr(model, "config") else None
    result = ShardResult()
    began = time.perf_counter()
    bar = tqdm(total=len(mine), desc="dissecting", unit="clip", disable=not (progress and info.is_main),
               dynamic_ncols=True)
    try:
        for items in loader:
            good = [item for item in items if "error" not in item]
            for item in items:
                if "error" in item:
                    if not skip_unreadable:
                        raise VideoError(item["error"])
                    result.unreadable.append((str(dataset.videos.records[item["index"]].path), item["error"]))
            if good:
                _dissect_batch(model, good, dataset, writer, probes=probes, options=options,
                               tvl1=(tvl1_cache or FlowCache(None)) if tvl1 else None, device=device)
            result.clips += len(good)
            bar.update(len(items))
    finally:
        writer.flush()  # what was computed stays on disk, also when a video or the model failed
        bar.close()
    result.seconds = time.perf_counter() - began
    return result


def _dissect_batch(model: nn.Module, items: list[dict], dataset: ClipDataset, writer: PartWriter, *,
                   probes: Sequence[str], options: ProbeOptions | None, tvl1: FlowCache | None,
                   device: torch.device) -> None:
    clips = torch.stack([item["rgb"][0] for item in items]).to(device)  # the one view of each video
    probing = attach_probes(model, probes, options=options) if probes else None
    with capture_flows(model) as flows:
        if probing is None:
            logits = model(clips)
        else:
            with probing as probed:
                logits = model(clips)
            flows.update({probe_key(point): flow for point, flow in probed.items()})
    predicted = logits.float().argmax(dim=1).cpu().tolist()
    stride = dataset.spec.stride
    for position, item in enumerate(items):
        record = dataset.videos.records[item["index"]]
        frames = item["frame_indices"]
        if tvl1 is not None:
            clip_frames = to_uint8(item["rgb"][0])
            classical = tvl1.get(record.path, frames.numpy(), dataset.spec.short_side, clip_frames,
                                 view=f"crop{dataset.spec.crop_size}")
            motion = np.linalg.norm(classical, axis=-1)  # = repflow.agreement.tvl1_magnitude(clip_frames)
        rows: dict[str, list] = {name: [] for name in writer.columns}
        for layer, flow in flows.items():
            channels_flow = flow[position].permute(0, 1, 3, 4, 2).float().cpu().numpy()  # (C, T', h, w, 2)
            channels = len(channels_flow)
            shares = direction_shares(channels_flow)
            constant = {"index": item["index"], "clip": str(record.path), "label": dataset.classes[record.label],
                        "start": int(frames[0]), "stride": stride, "frames": len(frames), "layer": layer,
                        "predicted": dataset.classes[predicted[position]]}
            for name, value in constant.items():
                rows[name].extend([value] * channels)
            rows["channel"].extend(range(channels))
            rows["energy"].extend(flow_energy(channels_flow).tolist())
            for k, name in enumerate(DIRECTIONS):
                rows[name].extend(shares[:, k].tolist())
            if tvl1 is not None:
                rows["agreement"].extend(channel_agreement(channels_flow, clip_frames, motion=motion).tolist())
        writer.add(rows)
