"""`repflow eval` end to end on tiny trained models (single stream and two-stream), and `evaluate` itself."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from repflow.checkpoint import load_model
from repflow.data.datasets import ClipDataset, ClipSpec
from repflow.data.sources import from_folders
from repflow.data.toy import write_toy_dataset
from repflow.eval.runner import StreamModel, evaluate

TINY = ["--width", "8", "--num-frames", "4", "--stride", "2", "--short-side", "32", "--crop-size", "32",
        "--workers", "0", "--no-progress", "--epochs", "1", "--batch-size", "4"]


def repflow(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "repflow", *args], capture_output=True, text=True, env=env,
                            timeout=240)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny RGB Rep-Flow model and a tiny TV-L1 flow-stream model trained one epoch on 2 toy classes."""
    root = tmp_path_factory.mktemp("eval")
    write_toy_dataset(root / "train", num_classes=2, videos_per_class=2, num_frames=10, height=36, width=48)
    write_toy_dataset(root / "val", num_classes=2, videos_per_class=2, num_frames=10, height=36, width=48, seed=1)
    common = ["train", "--train-data", str(root / "train"), "--val-data", str(root / "val"), *TINY]
    repflow(*common, "--flow", "rep", "--n-iter", "2", "--out-dir", str(root / "rgb"))
    repflow(*common, "--flow", "none", "--stream", "flow", "--out-dir", str(root / "flow"))
    return root


def test_eval_writes_every_report(trained):
    out = trained / "report"
    result = repflow("eval", "--checkpoint", str(trained / "rgb" / "model.pt"), "--clips", "2", "--crops", "3",
                     "--workers", "0", "--no-progress", "--out-dir", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(result.stdout.strip().splitlines()[-1])["video_top1"] == summary["video_top1"]
    assert summary["num_videos"] == 4 and summary["views_per_video"] == 6
    confusion = list(csv.reader((out / "confusion.csv").open()))
    assert confusion[0] == ["true \\ predicted", "class_0", "class_1"]
    counts = np.array([[int(x) for x in row[1:]] for row in confusion[1:]])
    assert counts.sum() == 4 and summary["video_top1"] == pytest.approx(np.trace(counts) / 4)
    assert summary["video_top5"] == 1.0 and summary["clip_top5"] == 1.0  # 2 classes
    assert set(summary["per_class_accuracy"]) == {"class_0", "class_1"}
    predictions = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(predictions) == 4 and all(p["label"] in ("class_0", "class_1") for p in predictions)
    assert (out / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(csv.DictReader((out / "per_class.csv").open()))) == 2


def test_eval_under_torchrun_matches_one_process(trained):
    """3 processes share the 4 videos unevenly (2, 1, 1); rank 0 reports the same as one process, in order."""
    args = ["eval", "--checkpoint", str(trained / "rgb" / "model.pt"), "--clips", "2", "--crops", "3",
            "--workers", "0", "--no-progress"]
    repflow(*args, "--out-dir", str(trained / "one"))
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=3",
                             "-m", "repflow", *args, "--out-dir", str(trained / "three")],
                            capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count('"out_dir"') == 1, "only rank 0 reports"
    one, three = (json.loads((trained / name / "summary.json").read_text()) for name in ("one", "three"))
    for key in ("num_videos", "views_per_video", "clip_top1", "clip_top5", "video_top1", "per_class_accuracy"):
        assert one[key] == three[key], key
    rows_one, rows_three = (
        list(csv.DictReader((trained / name / "predictions.csv").open())) for name in ("one", "three")
    )
    assert [(r["video"], r["predicted"]) for r in rows_one] == [(r["video"], r["predicted"]) for r in rows_three]
    assert [float(r["score"]) for r in rows_one] == pytest.approx([float(r["score"]) for r in rows_three], abs=1e-5)


def test_two_stream_eval(trained):
    out = trained / "two_stream"
    repflow("eval", "--checkpoint", str(trained / "rgb" / "model.pt"), "--flow-checkpoint",
            str(trained / "flow" / "model.pt"), "--clips", "1", "--crops", "1", "--workers", "0", "--no-progress",
            "--out-dir", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["flow_checkpoint"].endswith("model.pt") and summary["num_videos"] == 4


def test_eval_errors_are_clean(trained, tmp_path):
    swapped = repflow("eval", "--checkpoint", str(trained / "flow" / "model.pt"), "--flow-checkpoint",
                      str(trained / "rgb" / "model.pt"), check=False)
    assert swapped.returncode == 2 and "flow-stream" in swapped.stderr and "Traceback" not in swapped.stderr
    write_toy_dataset(tmp_path / "three", num_classes=3, videos_per_class=1, num_frames=6, height=32, width=32)
    wrong = repflow("eval", "--checkpoint", str(trained / "rgb" / "model.pt"), "--data", str(tmp_path / "three"),
                    check=False)
    assert wrong.returncode == 2 and "class" in wrong.stderr
    missing = repflow("eval", "--checkpoint", str(tmp_path / "nope.pt"), check=False)
    assert missing.returncode == 2 and "nope.pt" in missing.stderr


def test_flow_stream_eval_reads_the_training_runs_tvl1_cache(trained, monkeypatch):
    """Validation during training cached the TV-L1 flow of every video's centre clip; evaluating one centre clip
    per video computes no flow, and other clips add their flows to the same cache."""
    from repflow.cli import main
    from repflow.data import flow_cache

    cache = trained / "flow" / "flow_cache"
    cached = sorted(cache.rglob("*.npy"))
    assert cached, "training filled the run's cache"
    computed = []
    real = flow_cache.clip_flow
    monkeypatch.setattr(flow_cache, "clip_flow", lambda frames: computed.append(1) or real(frames))
    args = ["eval", "--checkpoint", str(trained / "flow" / "model.pt"), "--crops", "1", "--workers", "0",
            "--no-progress"]
    assert main([*args, "--clips", "1", "--out-dir", str(trained / "flow_eval_1")]) == 0
    assert computed == [] and sorted(cache.rglob("*.npy")) == cached
    assert main([*args, "--clips", "3", "--out-dir", str(trained / "flow_eval_3")]) == 0
    assert len(computed) == 4 * 3, "3 uniform clips per video, none of them the centre clip"
    assert len(list(cache.rglob("*.npy"))) == len(cached) + 12, "new flows go into the run's cache"


class ConstantModel(nn.Module):
    """Always prefers class 1; counts the clips it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.clips = 0

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        self.clips += len(clip)
        return torch.tensor([[0.0, 2.0]]).repeat(len(clip), 1)


def test_evaluate_counts_views_and_averages(trained):
    videos = from_folders(trained / "val")
    dataset = ClipDataset(videos, ClipSpec(num_frames=4, stride=2, short_side=32, crop_size=32), train=False,
                          num_clips=3, num_crops=3)
    model = ConstantModel()
    result = evaluate(StreamModel(model, None), dataset, batch_size=3, progress=False)
    assert model.clips == 4 * 9 and result.views_per_video == 9
    assert result.video_top1 == 0.5 and result.clip_top1 == 0.5
    assert result.confusion.tolist() == [[0, 2], [0, 2]]
    assert np.allclose(result.video_scores, torch.tensor([0.0, 2.0]).softmax(0).numpy())


def test_two_stream_model_averages_logits(trained):
    rgb, flow = load_model(trained / "rgb" / "model.pt"), load_model(trained / "flow" / "model.pt")
    item = {"rgb": torch.randn(2, 3, 4, 32, 32), "flow": torch.randn(2, 2, 3, 32, 32)}
    with torch.no_grad():
        expected = 0.5 * (rgb(item["rgb"]) + flow(item["flow"]))
        assert torch.allclose(StreamModel(rgb, flow)(item), expected)
    assert StreamModel(rgb, flow).stream == "both" and StreamModel(None, flow).stream == "flow"
