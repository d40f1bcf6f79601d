"""`repflow train --resume` after a SIGKILL mid-run ends with the same weights as an uninterrupted run."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time

import torch

from repflow.checkpoint import load_checkpoint


def _args(videos, out_dir, tiny_args):
    return ["train", "--train-data", str(videos), "--batch-size", "2", "--epochs", "4", "--checkpoint-every", "1",
            "--out-dir", str(out_dir), *tiny_args]


def _kill_after_checkpoint(args, out_dir, env, *, min_step: int, timeout: float = 240) -> int:
    """Start training, SIGKILL it as soon as a checkpoint at ``min_step`` or later exists; its step."""
    process = subprocess.Popen([sys.executable, "-m", "repflow", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env)
    checkpoint = out_dir / "checkpoint_last.pt"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if checkpoint.is_file() and load_checkpoint(checkpoint)["global_step"] >= min_step:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode(errors="replace")
    assert process.returncode == -signal.SIGKILL, f"the run ended before it could be killed:\n{output}"
    return load_checkpoint(checkpoint)["global_step"]


def test_killed_run_resumes_to_identical_weights(tiny_videos, tiny_args, tmp_path, run_repflow, repflow_env):
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    run_repflow(*_args(tiny_videos, reference_dir, tiny_args))

    killed_at = _kill_after_checkpoint(_args(tiny_videos, killed_dir, tiny_args), killed_dir, repflow_env, min_step=3)
    assert 3 <= killed_at < 8  # 4 epochs x 2 steps; step 3 is mid-epoch
    run_repflow(*_args(tiny_videos, killed_dir, tiny_args), "--resume")

    reference = load_checkpoint(reference_dir / "model.pt")
    resumed = load_checkpoint(killed_dir / "model.pt")
    assert reference["model"].keys() == resumed["model"].keys()
    for name, tensor in reference["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), f"{name} differs after resume"
    with (reference_dir / "metrics.csv").open() as a, (killed_dir / "metrics.csv").open() as b:
        rows_a, rows_b = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert [r["epoch"] for r in rows_b] == ["1", "2", "3", "4"]
    assert [r["train_loss"] for r in rows_a] == [r["train_loss"] for r in rows_b]


def test_checkpoint_contents(tiny_videos, tiny_args, tmp_path, run_repflow):
    out = tmp_path / "run"
    run_repflow("train", "--train-data", str(tiny_videos), "--val-data", str(tiny_videos), "--batch-size", "4",
                "--epochs", "1", "--out-dir", str(out), *tiny_args)
    state = load_checkpoint(out / "checkpoint_last.pt")  # weights_only=True
    for key in ("model_config", "model", "optimizer", "scheduler", "scaler", "epoch", "global_step", "rng",
                "train_config", "classes", "clip"):
        assert key in state
    assert state["epoch"] == 1 and state["classes"] == ["class_0", "class_1"]
    assert state["clip"] == {"frames": 4, "size": 32, "stride": 2, "short_side": 32, "stream": "rgb"}
    assert len(state["optimizer"]["param_groups"]) == 2
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 1 and {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "clips_per_s"} <= rows[0].keys()
    assert not list(out.glob("*.tmp"))


def test_resume_refuses_changed_settings(tiny_videos, tiny_args, tmp_path, run_repflow, repflow_env):
    out = tmp_path / "run"
    args = ["train", "--train-data", str(tiny_videos), "--batch-size", "4", "--epochs", "1", "--out-dir", str(out),
            *tiny_args]
    run_repflow(*args)
    result = subprocess.run([sys.executable, "-m", "repflow", *args, "--resume", "--lr", "0.5"],
                            capture_output=True, text=True, env=repflow_env, timeout=120)
    assert result.returncode == 2
    assert "cannot resume" in result.stderr and "lr" in result.stderr


def test_existing_run_is_not_overwritten_without_resume(tiny_videos, tiny_args, tmp_path, run_repflow, repflow_env):
    out = tmp_path / "run"
    args = ["train", "--train-data", str(tiny_videos), "--batch-size", "4", "--epochs", "1", "--out-dir", str(out),
            *tiny_args]
    run_repflow(*args)
    again = subprocess.run([sys.executable, "-m", "repflow", *args], capture_output=True, text=True,
                           env=repflow_env, timeout=120)
    assert again.returncode == 2 and "--resume" in again.stderr
    finished = run_repflow(*args, "--resume")  # a finished run resumes to "nothing left to do"
    assert "resuming" in finished.stdout + finished.stderr


def test_unwritable_out_dir_fails_before_training(tiny_videos, tiny_args, tmp_path, repflow_env):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = blocker / "run"  # cannot be created, also for root (who ignores permission bits)
    result = subprocess.run([sys.executable, "-m", "repflow", "train", "--train-data", str(tiny_videos),
                             "--batch-size", "4", "--epochs", "1", "--out-dir", str(out), *tiny_args],
                            capture_output=True, text=True, env=repflow_env, timeout=120)
    assert result.returncode == 2
    assert f"out_dir {out} is not a writable folder" in result.stderr
    assert "Traceback" not in result.stderr and "epoch" not in result.stdout + result.stderr.split("error:")[0]


def test_resume_of_a_checkpoint_older_than_some_settings(tiny_videos, tiny_args, tmp_path, run_repflow):
    """A checkpoint written before a setting existed resumes (the setting counts as its default); a setting the
    checkpoint does hold still has to match."""
    out = tmp_path / "run"
    args = ["train", "--train-data", str(tiny_videos), "--batch-size", "4", "--epochs", "2", "--out-dir", str(out),
            *tiny_args]
    run_repflow(*args, "--max-steps", "1")
    checkpoint = out / "checkpoint_last.pt"
    state = load_checkpoint(checkpoint)
    for newer in ("arch", "stacked_flows", "channels_last"):
        del state["train_config"][newer]
    torch.save(state, checkpoint)
    resumed = run_repflow(*args, "--resume")
    assert "resuming" in resumed.stdout + resumed.stderr
    assert load_checkpoint(checkpoint)["global_step"] > 1
