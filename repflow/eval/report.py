"""Write an evaluation's results: summary.json, per_class.csv, confusion.csv / confusion.png, predictions.csv."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from repflow.eval.runner import EvalResult
from repflow.io import atomic_path, atomic_write


def summary(result: EvalResult, **context: Any) -> dict[str, Any]:
    """The headline numbers plus per-class accuracy, with ``context`` (checkpoints, data, views) merged in."""
    per_class = result.per_class
    return {
        **context,
        "num_videos": int(len(result.labels)),
        "views_per_video": result.views_per_video,
        "clip_top1": result.clip_top1,
        "clip_top5": result.clip_top5,
        "video_top1": result.video_top1,
        "video_top5": result.video_top5,
        "mean_class_accuracy": float(np.nanmean(per_class)) if not np.isnan(per_class).all() else None,
        "per_class_accuracy": {name: (None if math.isnan(acc) else float(acc))
                               for name, acc in zip(result.classes, per_class)},
    }


def write_report(result: EvalResult, out_dir: str | Path, *, video_paths: Sequence[Path], **context: Any) -> dict:
    """Write every output file into ``out_dir``, each atomically (a failed write leaves the previous file);
    returns the summary dict."""
    out_dir = Path(out_dir)
    report = summary(result, **context)
    atomic_write(out_dir / "summary.json", json.dumps(report, indent=2))
    per_class = [["class", "videos", "accuracy"]] + [
        [name, int(total), "" if math.isnan(acc) else f"{acc:.6f}"]
        for name, total, acc in zip(result.classes, result.confusion.sum(axis=1), result.per_class)
    ]
    atomic_write(out_dir / "per_class.csv", csv_text(per_class))
    confusion = [["true \\ predicted", *result.classes]] + [
        [name, *row.tolist()] for name, row in zip(result.classes, result.confusion)
    ]
    atomic_write(out_dir / "confusion.csv", csv_text(confusion))
    predictions = [["video", "label", "predicted", "score"]]
    for path, label, scores in zip(video_paths, result.labels, result.video_scores):
        predicted = int(scores.argmax())
        predictions.append([str(path), result.classes[label], result.classes[predicted], f"{scores[predicted]:.6f}"])
    atomic_write(out_dir / "predictions.csv", csv_text(predictions))
    plot_confusion(result.confusion, result.classes, out_dir / "confusion.png")
    return report


def csv_text(rows: list[list[Any]]) -> str:
    """``rows`` as CSV text."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue()


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: str | Path) -> Path:
    """A row-normalised confusion-matrix heat map (class names shown for up to 60 classes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=float), where=totals > 0)
    size = min(20.0, 3.0 + 0.25 * len(classes))
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, label="fraction of the true class")
    if len(classes) <= 20:
        for (row, column), count in np.ndenumerate(matrix):
            if count:
                colour = "white" if normalised[row, column] > 0.5 else "black"
                axes.text(column, row, str(count), ha="center", va="center", fontsize=8, color=colour)
    if len(classes) <= 60:
        axes.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
        axes.set_yticks(range(len(classes)), classes, fontsize=7)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title("Confusion matrix (video level)")
    figure.tight_layout()
    try:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=120)
    finally:
        plt.close(figure)
    return Path(path)
