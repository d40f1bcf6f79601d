"""The shipped configs run end to end (`repflow train` then `repflow eval`) on tiny HMDB-51 / Kinetics layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repflow.checkpoint import load_checkpoint
from repflow.data.toy import write_toy_hmdb51, write_toy_kinetics

SMALL = ["--depth", "18", "--width", "8", "--n-iter", "2", "--num-frames", "4", "--stride", "2", "--short-side", "32",
         "--crop-size", "32", "--epochs", "1", "--batch-size", "2", "--workers", "0", "--no-progress"]
VIDEO = dict(num_frames=10, height=36, width=48)
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_help_shows_every_setting(run_repflow):
    text = run_repflow("train", "--help").stdout
    for flag in ("--dataset", "--lr", "--flow-lr-scale", "--schedule", "--warmup-epochs", "--resume", "--sync-bn",
                 "--checkpoint-every", "--tensorboard", "--amp", "--no-amp"):
        assert flag in text
    assert "default: 1e-06" in text


def test_hmdb51_configs_and_two_stream_eval(tmp_path, run_repflow):
    data = write_toy_hmdb51(tmp_path / "hmdb", **VIDEO)
    where = ["--data-root", str(data / "videos"), "--splits-dir", str(data / "splits")]
    rgb, flow = tmp_path / "rgb", tmp_path / "flow"
    run_repflow("train", "--config", str(CONFIGS / "hmdb51_rgb.yaml"), *where, *SMALL, "--out-dir", str(rgb))
    run_repflow(
        "train",
        "--config",
        str(CONFIGS / "hmdb51_two_stream_flow.yaml"),
        *where,
        *SMALL,
        "--out-dir",
        str(flow),
        "--flow-cache",
        str(tmp_path / "cache"),
    )
    flow_state = load_checkpoint(flow / "model.pt")
    assert flow_state["model_config"]["in_channels"] == 2 and flow_state["clip"]["flow_clip"] == 20.0
    assert list((tmp_path / "cache").rglob("*.npy"))
    out = tmp_path / "eval"
    run_repflow("eval", "--checkpoint", str(rgb / "model.pt"), "--flow-checkpoint", str(flow / "model.pt"),
                "--clips", "2", "--crops", "1", "--workers", "0", "--no-progress", "--out-dir", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "hmdb51" and summary["num_videos"] == 2  # split 1 test set: 1 video per class
    assert set(summary["per_class_accuracy"]) == {"brush_hair", "cartwheel"}


def test_kinetics_flow_of_flow_config(tmp_path, run_repflow):
    data = write_toy_kinetics(tmp_path / "k400", **VIDEO)
    out = tmp_path / "fcf"
    result = run_repflow("train", "--config", str(CONFIGS / "kinetics400_flow_of_flow.yaml"), "--data-root", str(data),
                         "--train-csv", str(data / "train.csv"), "--val-csv", str(data / "validate.csv"), *SMALL,
                         "--out-dir", str(out))
    final = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0.0 <= final["val_acc"] <= 1.0
    state = load_checkpoint(out / "model.pt")
    assert state["model_config"]["flow"] == "fcf" and state["classes"] == ["abseiling", "air drumming"]
    run_repflow("eval", "--checkpoint", str(out / "model.pt"), "--clips", "1", "--crops", "3", "--workers", "0",
                "--no-progress")
    assert json.loads((out / "eval" / "summary.json").read_text())["views_per_video"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--train-data", "/nonexistent/videos"], "/nonexistent/videos"),
        (["--dataset", "hmdb51"], "needs data_root"),
        (["--train-data", ".", "--optimizer", "rmsprop"], "invalid choice"),
    ],
)
def test_bad_runs_fail_cleanly(args, message, repflow_env):
    result = subprocess.run([sys.executable, "-m", "repflow", "train", *args], capture_output=True, text=True,
                            env=repflow_env, timeout=120)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_unreadable_video_stops_with_its_name(tmp_path, repflow_env):
    from repflow.data.toy import write_toy_dataset

    write_toy_dataset(tmp_path / "videos", num_classes=2, videos_per_class=1, **VIDEO)
    (tmp_path / "videos" / "class_0" / "corrupt.mp4").write_bytes(b"\0" * 64)
    args = ["train", "--train-data", str(tmp_path / "videos"), "--out-dir", str(tmp_path / "run"), *SMALL,
            "--workers", "1"]
    result = subprocess.run([sys.executable, "-m", "repflow", *args], capture_output=True, text=True,
                            env=repflow_env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "corrupt.mp4" in result.stderr and "Traceback" not in result.stderr
    skipped = subprocess.run([sys.executable, "-m", "repflow", *args, "--skip-unreadable"], capture_output=True,
                             text=True, env=repflow_env, timeout=120)
    assert skipped.returncode == 0 and "corrupt.mp4" in skipped.stderr


def test_tensorboard_flag(tmp_path, tiny_videos, repflow_env):
    import importlib.util

    args = ["train", "--train-data", str(tiny_videos), "--out-dir", str(tmp_path / "run"), *SMALL, "--tensorboard"]
    result = subprocess.run([sys.executable, "-m", "repflow", *args], capture_output=True, text=True,
                            env=repflow_env, timeout=120)
    if importlib.util.find_spec("tensorboard") is None:
        assert result.returncode == 2 and "pip install tensorboard" in result.stderr
    else:
        assert result.returncode == 0 and list((tmp_path / "run" / "tensorboard").glob("events.*"))
