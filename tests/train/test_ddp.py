"""torchrun with 2 CPU processes (gloo): ranks end with identical weights and the loss goes down."""

from __future__ import annotations

import json
import subprocess
import sys

from repflow.checkpoint import load_checkpoint
from repflow.data.toy import write_toy_dataset

EPOCHS = 24


def test_two_gloo_ranks_train_in_sync(tiny_args, tmp_path, repflow_env):
    # 8 videos and 4 clips per rank: BatchNorm statistics over 2 clips made the per-step loss jump by 1.0 or
    # more, which hid the trend of a short run.
    write_toy_dataset(tmp_path / "videos", num_classes=2, videos_per_class=4, num_frames=10, height=36, width=48)
    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "repflow", "train", "--train-data", str(tmp_path / "videos"), "--batch-size", "4",
               "--epochs", str(EPOCHS), "--device", "cpu", "--out-dir", str(out), *tiny_args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=repflow_env)
    assert result.returncode == 0, result.stdout + result.stderr

    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2
    digests = summary["rank_weight_digests"]
    assert len(digests) == 2 and digests[0] == digests[1]
    # each epoch is one step of 4 clips per rank over the 8 videos; losses are averaged over both ranks
    losses = [row["train_loss"] for row in summary["history"]]
    assert len(losses) == EPOCHS
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses
    state = load_checkpoint(out / "checkpoint_last.pt")
    assert state["world_size"] == 2 and state["global_step"] == EPOCHS
    assert result.stdout.count('"out_dir"') == 1  # only rank 0 reports
