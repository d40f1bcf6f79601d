"""`repflow train` under faults: Ctrl-C prints one line with the last checkpoint and the command that resumes it; a
full disk is one line naming the file."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time

from repflow.checkpoint import load_checkpoint
from tests.fault_mounts import mounted_tmpfs


def test_sigint_prints_the_last_checkpoint_and_the_resume_command(tmp_path, tiny_videos, tiny_args, repflow_env):
    out = tmp_path / "run"
    args = ["train", "--train-data", str(tiny_videos), *tiny_args, "--epochs", "1000", "--batch-size", "2",
            "--checkpoint-every", "1", "--out-dir", str(out)]
    # As from a terminal: a test run started in the background (`cmd &` in a script) passes SIGINT on as ignored,
    # and Python then never raises KeyboardInterrupt.
    child = subprocess.Popen([sys.executable, "-m", "repflow", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=repflow_env,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint_last.pt").exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
        assert (out / "checkpoint_last.pt").exists(), child.communicate(timeout=10)
        time.sleep(0.5)  # mid-run, between or during steps
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    line = stderr.strip().splitlines()[-1]
    command = shlex.split(line.split("with: ", 1)[1])
    assert f"the last checkpoint is {out / 'checkpoint_last.pt'}" in line
    assert command == ["repflow", *args, "--resume"], line
    assert load_checkpoint(out / "checkpoint_last.pt")["global_step"] >= 1, "the checkpoint is whole"


def test_a_full_disk_during_training_is_one_line_naming_the_checkpoint(tmp_path, tiny_videos, tiny_args, repflow_env):
    with mounted_tmpfs(tmp_path / "full", size_kb=64) as out:
        result = subprocess.run(
            [sys.executable, "-m", "repflow", "train", "--train-data", str(tiny_videos), *tiny_args, "--epochs", "1",
             "--batch-size", "2", "--out-dir", str(out)],
            capture_output=True, text=True, env=repflow_env, timeout=240,
        )
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"repflow train: error: cannot write {out / 'checkpoint_last.pt'}: No space left on device"
        ], result.stderr
        assert not list(out.glob(".*.tmp*")), "no temporary file left"


def test_clips_longer_than_every_video_are_refused_before_training(tmp_path, tiny_videos, tiny_args, repflow_env):
    args = [*tiny_args, "--num-frames", "8", "--stride", "2"]  # 15 frames of 10-frame videos (later flags win)
    result = subprocess.run(
        [sys.executable, "-m", "repflow", "train", "--train-data", str(tiny_videos), *args, "--out-dir",
         str(tmp_path / "run")], capture_output=True, text=True, env=repflow_env, timeout=240,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "repflow train: error: num_frames 8 at stride 2 covers 15 frames, but none of the 4 training videos checked "
        "is that long (the longest has 10): lower --num-frames or --stride"
    ], result.stderr
