"""`repflow dissect` on a tiny untrained model and toy clips: the statistics against a direct computation with
`capture_flows`, resume after a kill, the two-rank merge, unreadable clips and the bad inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from repflow.agreement import channel_agreement
from repflow.checkpoint import TrainingClip, model_payload, save_checkpoint
from repflow.cli import main
from repflow.data.datasets import ClipDataset, ClipSpec
from repflow.data.sources import from_folders
from repflow.data.toy import write_toy_dataset
from repflow.data.transforms import to_uint8
from repflow.dissect import load_dissection
from repflow.flowviz import flow_energy
from repflow.inspect import capture_flows
from repflow.models import ModelConfig, build_model
from repflow.motion_stats import direction_shares
from repflow.video import write_video

CLIP = TrainingClip(frames=4, size=32, stride=2, short_side=32)
SPEC = ClipSpec(num_frames=4, stride=2, short_side=32, crop_size=32)


def tiny_checkpoint(path: Path, flow: str, classes: list[str]) -> Path:
    torch.manual_seed(0)
    model = build_model(ModelConfig(num_classes=len(classes), flow=flow, flow_after="layer1", width=8,
                                    flow_channels=4, n_iter=2))
    return save_checkpoint(path, {**model_payload(model), "classes": classes, "clip": CLIP.to_dict()})


def write_moving_square(path: Path) -> None:
    """A square moving right over a still texture: local motion, so agreement with TV-L1 is measurable."""
    rng = np.random.default_rng(3)
    background = (rng.random((36, 48, 3)) * 60).astype(np.uint8)
    frames = np.repeat(background[None], 10, axis=0)
    for t in range(10):
        frames[t, 12:24, 4 + 3 * t : 16 + 3 * t] = 230
    write_video(path, frames, fps=15)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("dissect")
    write_toy_dataset(root / "videos", num_classes=2, videos_per_class=3, num_frames=10, height=36, width=48)
    write_moving_square(root / "videos" / "class_1" / "square.mp4")
    classes = list(from_folders(root / "videos").classes)
    tiny_checkpoint(root / "fcf.pt", "fcf", classes)
    tiny_checkpoint(root / "rgb.pt", "none", classes)
    return root


def dissect(setup: Path, out: Path, *extra: str, checkpoint: str = "fcf.pt") -> int:
    return main(["dissect", "--checkpoint", str(setup / checkpoint), "--dataset", "folders", "--data",
                 str(setup / "videos"), "--out-dir", str(out), "--workers", "0", "--no-progress", "--device", "cpu",
                 *extra])


def test_statistics_match_a_direct_computation(setup, tmp_path):
    assert dissect(setup, tmp_path / "out", "--tvl1", "--batch-size", "2") == 0
    table = pd.read_parquet(tmp_path / "out" / "clips.parquet")
    videos = from_folders(setup / "videos")
    assert sorted(set(table["layer"])) == ["flow_block.flow1", "flow_block.flow2"]
    assert len(table) == len(videos) * 8  # 4 channels per flow layer, two layers
    assert {"clip", "label", "start", "stride", "frames", "channel", "energy", "predicted", "agreement",
            *(f"dir{k}" for k in range(8))} <= set(table.columns)

    from repflow.checkpoint import load_model

    model = load_model(setup / "fcf.pt").eval()
    data = ClipDataset(videos, SPEC, train=False, num_clips=1, num_crops=1)
    square = next(i for i, record in enumerate(videos.records) if record.path.name == "square.mp4")
    for index in (0, square):
        item = data[index]
        with torch.no_grad(), capture_flows(model) as flows:
            logits = model(item["rgb"])
        rows = table[table["index"] == index]
        assert rows["clip"].iloc[0] == str(videos.records[index].path)
        assert rows["label"].iloc[0] == videos.classes[videos.records[index].label]
        assert rows["predicted"].iloc[0] == videos.classes[int(logits.argmax())]
        assert rows["start"].iloc[0] == int(item["frame_indices"][0]) and rows["frames"].iloc[0] == 4
        for layer, flow in flows.items():
            field = flow[0].permute(0, 1, 3, 4, 2).numpy()
            mine = rows[rows["layer"] == layer].sort_values("channel")
            np.testing.assert_allclose(mine["energy"], flow_energy(field), rtol=1e-5)
            shares = mine[[f"dir{k}" for k in range(8)]].to_numpy()
            np.testing.assert_allclose(shares, direction_shares(field), atol=1e-5)  # batch of 2 vs 1: float noise
            np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-5)
            expected = channel_agreement(field, to_uint8(item["rgb"][0]))
            assert np.isfinite(expected).all() == (index == square)  # the textures move as a whole: no score
            np.testing.assert_allclose(mine["agreement"], expected, rtol=1e-4, atol=1e-6)

    channels = pd.read_csv(tmp_path / "out" / "channels.csv")
    one = channels[(channels["layer"] == "flow_block.flow1") & (channels["channel"] == 2)]
    assert set(one["class"]) == set(videos.classes) and one["clips"].tolist() == [3, 4]
    for _, row in one.iterrows():
        energy = table[(table["layer"] == "flow_block.flow1") & (table["channel"] == 2)
                       & (table["label"] == row["class"])]["energy"]
        assert row["energy_mean"] == pytest.approx(energy.mean(), rel=1e-5)
        assert row["energy_std"] == pytest.approx(energy.std(ddof=1), rel=1e-4)
    means = one.set_index("class")["energy_mean"]
    best, rest = means.max(), (means.sum() - means.max()) / (len(means) - 1)
    assert one["selectivity"].iloc[0] == pytest.approx((best - rest) / (best + rest), abs=1e-6)
    assert one["preferred_class"].iloc[0] == means.idxmax()

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["complete"] and summary["clips_done"] == len(videos) and summary["wall_time_s"] > 0
    assert summary["settings"]["clip"] == {"frames": 4, "stride": 2, "short_side": 32, "size": 32}
    loaded = load_dissection(tmp_path / "out")
    assert loaded.default_channel("flow_block.flow1") == int(
        table[table["layer"] == "flow_block.flow1"].groupby("channel")["agreement"].mean().idxmax())
    assert summary["default_channels"] == loaded.default_channels(), "stored for the explorer's first view"


def test_csv_without_pyarrow_holds_the_same_numbers(setup, tmp_path, monkeypatch):
    assert dissect(setup, tmp_path / "parquet") == 0
    monkeypatch.setattr("repflow.dissect.tables.have_pyarrow", lambda: False)
    assert dissect(setup, tmp_path / "csv") == 0
    assert (tmp_path / "csv" / "clips.csv").is_file() and not (tmp_path / "csv" / "clips.parquet").exists()
    a, b = pd.read_parquet(tmp_path / "parquet" / "clips.parquet"), pd.read_csv(tmp_path / "csv" / "clips.csv")
    np.testing.assert_allclose(a["energy"], b["energy"], rtol=1e-6)
    assert list(a["clip"]) == list(b["clip"])


def test_probes_dissect_a_model_without_flow_layers(setup, tmp_path, capsys):
    assert dissect(setup, tmp_path / "none", checkpoint="rgb.pt") == 2
    assert "no flow layers" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
    assert dissect(setup, tmp_path / "probe", "--probes", "layer1", checkpoint="rgb.pt") == 0
    table = pd.read_parquet(tmp_path / "probe" / "clips.parquet")
    assert set(table["layer"]) == {"probe:layer1"} and table["channel"].nunique() == 8  # width 8: every channel


def test_bad_inputs_are_one_line_and_touch_nothing(setup, tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    common = ["dissect", "--checkpoint", str(setup / "fcf.pt"), "--workers", "0", "--no-progress"]
    assert main([*common, "--dataset", "list", "--data", str(empty), "--out-dir", str(tmp_path / "a")]) == 2
    missing = tmp_path / "missing.txt"
    missing.write_text("nowhere.mp4 0\n")
    assert main([*common, "--dataset", "list", "--data", str(missing), "--out-dir", str(tmp_path / "b")]) == 2
    assert "nowhere.mp4" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    assert dissect(setup, a_file) == 2
    assert "is a file, not a folder" in capsys.readouterr().err and a_file.read_text() == "mine"

    assert dissect(setup, tmp_path / "out") == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    capsys.readouterr()
    assert dissect(setup, tmp_path / "out", checkpoint="rgb.pt", ) == 2  # no flow layers: refused first
    assert dissect(setup, tmp_path / "out", "--probes", "layer1", checkpoint="rgb.pt") == 2
    err = capsys.readouterr().err
    assert "already holds a dissection" in err and err.count("\n") == 2
    assert dissect(setup, tmp_path / "out", "--probes", "layer1", "--resume", checkpoint="rgb.pt") == 2
    assert "other settings" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    assert "Traceback" not in capsys.readouterr().err


def test_unreadable_clips_stop_the_run_or_are_listed_and_skipped(setup, tmp_path, capsys):
    videos = from_folders(setup / "videos")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    listing = tmp_path / "list.txt"
    lines = [f"{record.path} {record.label}" for record in videos.records]
    listing.write_text("\n".join(lines[:2] + [f"{broken} 0"] + lines[2:]) + "\n")
    common = ["dissect", "--checkpoint", str(setup / "fcf.pt"), "--dataset", "list", "--data", str(listing),
              "--workers", "0", "--no-progress", "--batch-size", "1", "--part-clips", "1"]
    assert main([*common, "--out-dir", str(tmp_path / "stop")]) == 2
    err = capsys.readouterr().err
    assert "broken.mp4" in err and err.count("\n") == 1 and "Traceback" not in err
    assert (tmp_path / "stop" / "clips.parts").is_dir()  # the two clips before it are kept for --resume
    assert main([*common, "--out-dir", str(tmp_path / "skip"), "--skip-unreadable"]) == 0
    summary = json.loads((tmp_path / "skip" / "summary.json").read_text())
    assert [entry["clip"] for entry in summary["unreadable"]] == [str(broken)]
    assert summary["clips_done"] == len(videos)


def repflow_process(*args: str, env_extra: dict | None = None, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def test_a_killed_run_resumes_without_recomputing(setup, tmp_path):
    write_toy_dataset(tmp_path / "many", num_classes=2, videos_per_class=12, num_frames=10, height=36, width=48)
    args = ["-m", "repflow", "dissect", "--checkpoint", str(setup / "fcf.pt"), "--dataset", "folders", "--data",
            str(tmp_path / "many"), "--workers", "0", "--no-progress", "--batch-size", "1", "--part-clips", "1"]
    out = tmp_path / "killed"
    process = repflow_process(*args, "--out-dir", str(out))
    deadline = time.time() + 120
    while len(list((out / "clips.parts").glob("part-*"))) < 3 and time.time() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(list((out / "clips.parts").glob("part-*")))
    assert 3 <= written < 24
    finished = repflow_process(*args, "--out-dir", str(out), "--resume")
    stdout, stderr = finished.communicate(timeout=240)
    assert finished.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["clips_done"] == 24 and summary["clips_this_run"] == 24 - written
    fresh = tmp_path / "fresh"
    assert main(["dissect", *args[3:], "--out-dir", str(fresh)]) == 0
    resumed, whole = pd.read_parquet(out / "clips.parquet"), pd.read_parquet(fresh / "clips.parquet")
    pd.testing.assert_frame_equal(resumed, whole, check_exact=False, rtol=1e-5)
    pd.testing.assert_frame_equal(pd.read_csv(out / "channels.csv"), pd.read_csv(fresh / "channels.csv"),
                                  check_exact=False, rtol=1e-4, atol=2e-5)


def test_two_gloo_ranks_give_the_single_process_tables(setup, tmp_path):
    args = ["dissect", "--checkpoint", str(setup / "fcf.pt"), "--dataset", "folders", "--data",
            str(setup / "videos"), "--workers", "0", "--no-progress", "--device", "cpu", "--tvl1"]
    process = repflow_process("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "repflow",
                              *args, "--out-dir", str(tmp_path / "two"))
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert stdout.count('"out_dir"') == 1  # only rank 0 reports
    assert main([*args, "--out-dir", str(tmp_path / "one")]) == 0
    two, one = pd.read_parquet(tmp_path / "two" / "clips.parquet"), pd.read_parquet(tmp_path / "one" / "clips.parquet")
    # other batches and thread counts add float noise of ~1e-6 to the flows
    pd.testing.assert_frame_equal(two, one, check_exact=False, rtol=1e-4, atol=2e-5)
    channels_two, channels_one = (pd.read_csv(tmp_path / name / "channels.csv") for name in ("two", "one"))
    pd.testing.assert_frame_equal(channels_two, channels_one, check_exact=False, rtol=1e-4, atol=2e-5)
    assert json.loads((tmp_path / "two" / "summary.json").read_text())["processes"] == 2
    assert not (tmp_path / "two" / "clips.parts").exists()


def test_the_tvl1_cache_serves_the_next_model(setup, tmp_path):
    cache = tmp_path / "cache"
    assert dissect(setup, tmp_path / "plain", "--tvl1") == 0
    assert dissect(setup, tmp_path / "first", "--tvl1", "--tvl1-cache", str(cache)) == 0
    entries = sorted(cache.rglob("*.npy"))
    assert len(entries) == 7  # one per clip window
    stamps = [entry.stat().st_mtime_ns for entry in entries]
    assert dissect(setup, tmp_path / "second", "--tvl1", "--tvl1-cache", str(cache)) == 0
    assert [entry.stat().st_mtime_ns for entry in sorted(cache.rglob("*.npy"))] == stamps  # read, not rewritten
    plain, cached = (pd.read_parquet(tmp_path / name / "clips.parquet")["agreement"] for name in ("plain", "second"))
    np.testing.assert_allclose(cached, plain, atol=2e-3)  # the cache keeps float16 flow
