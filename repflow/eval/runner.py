"""Run a model (or an RGB + flow two-stream pair) over every view of every test video and score it.

Each video is cut into K uniform clips x 1 or 3 crops (`repflow.data.ClipDataset` in test mode).
Clip-level accuracy counts every view on its own; video-level accuracy averages the softmax scores of
all views of a video. A two-stream pair averages the two networks' logits per view, as
`repflow.models.TwoStream` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from repflow import distributed
from repflow.data.datasets import ClipDataset
from repflow.eval.metrics import confusion_matrix, per_class_accuracy, top_k_correct
from repflow.models import TwoStream


@dataclass
class EvalResult:
    """Scores of one evaluation: per-video averaged scores plus clip-level hits."""

    classes: tuple[str, ...]
    labels: np.ndarray          # (videos,)
    video_scores: np.ndarray    # (videos, classes), mean softmax over views
    clip_top1: float
    clip_top5: float
    views_per_video: int

    @property
    def predictions(self) -> np.ndarray:
        """Predicted class of each video."""
        return self.video_scores.argmax(axis=1)

    @property
    def video_top1(self) -> float:
        """Fraction of videos whose top-scoring class is right."""
        return float(top_k_correct(self.video_scores, self.labels, 1).mean())

    @property
    def video_top5(self) -> float:
        """Fraction of videos whose label is among the 5 best scores."""
        return float(top_k_correct(self.video_scores, self.labels, 5).mean())

    @property
    def confusion(self) -> np.ndarray:
        """Video-level confusion matrix (row = true, column = predicted)."""
        return confusion_matrix(self.labels, self.predictions, len(self.classes))

    @property
    def per_class(self) -> np.ndarray:
        """Video-level accuracy of each class (NaN where a class has no test video)."""
        return per_class_accuracy(self.confusion)


class StreamModel(nn.Module):
    """Feeds a dataset item to one network, or to an RGB + flow `repflow.models.TwoStream` pair."""

    def __init__(self, rgb: nn.Module | None, flow: nn.Module | None) -> None:
        super().__init__()
        if rgb is None and flow is None:
            raise ValueError("need at least one model")
        # What each network reads: a flow network that computes its own flow (TVNet) reads the RGB clip.
        self.inputs = [_input_stream(net, role) for net, role in ((rgb, "rgb"), (flow, "flow")) if net is not None]
        self.stream = "both" if len(set(self.inputs)) == 2 else self.inputs[0]
        self.net = TwoStream(rgb, flow) if len(self.inputs) == 2 else (rgb if rgb is not None else flow)

    def forward(self, item: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.net(*(item[name] for name in self.inputs))


def _input_stream(net: nn.Module, role: str) -> str:
    """What a repflow network reads: "rgb" (3-channel clips) or "flow" (2-channel TV-L1 flow); ``role`` otherwise."""
    in_channels = getattr(getattr(net, "config", None), "in_channels", None)
    return role if in_channels is None else ("rgb" if in_channels == 3 else "flow")


@torch.no_grad()
def evaluate(model: StreamModel, dataset: ClipDataset, *, batch_size: int = 4, workers: int = 0,
             device: torch.device | str = "cpu", progress: bool = True) -> EvalResult:
    """Score every view of every video in ``dataset`` (which must be in test mode).

    Under torchrun each process scores every world_size-th video and the scores are gathered, so every
    process returns the result of the whole dataset, in the dataset's order.
    """
    if dataset.train:
        raise ValueError("evaluate needs a test-mode ClipDataset (train=False)")
    device = torch.device(device)
    model = model.to(device).eval()
    info = distributed.current()
    mine = list(range(info.rank, len(dataset), info.world_size))
    loader = DataLoader(Subset(dataset, mine), batch_size=batch_size, shuffle=False, num_workers=workers)
    labels, scores, clip_hits1, clip_hits5 = [], [], [], []
    views = 0
    for batch in tqdm(loader, desc="evaluating", unit="batch", disable=not (progress and info.is_main),
                      dynamic_ncols=True):
        inputs = {k: v.to(device) for k, v in batch.items() if k in ("rgb", "flow")}
        videos, views = next(iter(inputs.values())).shape[:2]
        logits = model({k: v.flatten(0, 1) for k, v in inputs.items()}).float().cpu()
        probabilities = logits.softmax(dim=1).view(videos, views, -1)
        label = batch["label"].numpy()
        per_view_labels = np.repeat(label, views)
        clip_hits1.append(top_k_correct(logits.numpy(), per_view_labels, 1))
        clip_hits5.append(top_k_correct(logits.numpy(), per_view_labels, 5))
        labels.append(label)
        scores.append(probabilities.mean(dim=1).numpy())
    parts = distributed.all_gather((mine, labels, scores, clip_hits1, clip_hits5, views))

    def everyone(field: int) -> np.ndarray:
        """One result of all processes as one array, in rank order."""
        return np.concatenate([array for part in parts for array in part[field]])

    order = np.argsort(np.concatenate([part[0] for part in parts]))  # back to the dataset's order
    return EvalResult(classes=tuple(dataset.classes), labels=everyone(1)[order], video_scores=everyone(2)[order],
                      clip_top1=float(everyone(3).mean()), clip_top5=float(everyone(4).mean()),
                      views_per_video=max(part[5] for part in parts))
