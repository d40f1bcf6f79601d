"""The baselines' shipped configs train with `repflow train` and pair up in `repflow eval --flow-checkpoint`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repflow.checkpoint import load_checkpoint, load_model
from repflow.data.toy import write_toy_hmdb51
from repflow.inspect import list_flow_layers

SMALL = ["--depth", "18", "--width", "8", "--n-iter", "2", "--num-frames", "4", "--stride", "2", "--short-side", "32",
         "--crop-size", "32", "--epochs", "1", "--batch-size", "2", "--workers", "0", "--no-progress",
         "--stacked-flows", "2"]
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
EVAL = ["--clips", "2", "--crops", "1", "--workers", "0", "--no-progress"]


@pytest.fixture(scope="module")
def hmdb(tmp_path_factory) -> tuple[Path, list[str]]:
    data = write_toy_hmdb51(tmp_path_factory.mktemp("hmdb"), num_frames=10, height=36, width=48)
    return data, ["--data-root", str(data / "videos"), "--splits-dir", str(data / "splits")]


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_2d_two_stream_and_tvnet_pairs(tmp_path, hmdb, run_repflow):
    _, where = hmdb
    runs = {name: tmp_path / name for name in ("2d_rgb", "2d_flow", "tvnet")}
    for name, out in runs.items():
        extra = ["--flow-cache", str(tmp_path / "cache")] if name == "2d_flow" else []
        run_repflow("train", "--config", str(CONFIGS / f"hmdb51_{name}.yaml"), *where, *SMALL, *extra,
                    "--out-dir", str(out))
    flow_state = load_checkpoint(runs["2d_flow"] / "model.pt")
    assert flow_state["model_config"]["arch"] == "resnet2d" and flow_state["model_config"]["in_channels"] == 2
    assert list((tmp_path / "cache").rglob("*.npy"))  # the flow stream trained on cached TV-L1
    tvnet = load_model(runs["tvnet"] / "model.pt")
    assert [info.kind for info in list_flow_layers(tvnet)] == ["tvnet"]

    for partner in ("2d_flow", "tvnet"):
        out = tmp_path / f"eval_{partner}"
        run_repflow("eval", "--checkpoint", str(runs["2d_rgb"] / "model.pt"), "--flow-checkpoint",
                    str(runs[partner] / "model.pt"), *EVAL, "--out-dir", str(out))
        summary = _summary(out)
        assert summary["num_videos"] == 2 and summary["flow_checkpoint"].endswith(f"{partner}/model.pt")
    run_repflow("eval", "--checkpoint", str(runs["tvnet"] / "model.pt"), *EVAL, "--out-dir", str(tmp_path / "alone"))
    assert _summary(tmp_path / "alone")["num_videos"] == 2


def test_i3d_two_stream(tmp_path, hmdb, run_repflow):
    _, where = hmdb
    for stream in ("rgb", "flow"):
        run_repflow("train", "--config", str(CONFIGS / f"hmdb51_i3d_{stream}.yaml"), *where, *SMALL,
                    "--flow-cache", str(tmp_path / "cache"), "--out-dir", str(tmp_path / stream))
    assert load_checkpoint(tmp_path / "flow" / "model.pt")["model_config"]["arch"] == "i3d"
    run_repflow("eval", "--checkpoint", str(tmp_path / "rgb" / "model.pt"), "--flow-checkpoint",
                str(tmp_path / "flow" / "model.pt"), *EVAL, "--out-dir", str(tmp_path / "eval"))
    assert _summary(tmp_path / "eval")["num_videos"] == 2


@pytest.mark.parametrize("args, message", [
    (["--config", str(CONFIGS / "hmdb51_2d_flow.yaml"), "--num-frames", "8"], "num_frames must be at least 11"),
    (["--config", str(CONFIGS / "hmdb51_i3d_rgb.yaml"), "--flow", "rep"], "i3d has no flow layer"),
    (["--config", str(CONFIGS / "hmdb51_tvnet.yaml"), "--stream", "flow", "--num-frames", "16"], "stream rgb"),
])
def test_bad_architecture_settings_fail_cleanly(args, message, hmdb, repflow_env, tmp_path):
    _, where = hmdb
    result = subprocess.run([sys.executable, "-m", "repflow", "train", *args, *where, "--out-dir", str(tmp_path)],
                            capture_output=True, text=True, env=repflow_env, timeout=120)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
