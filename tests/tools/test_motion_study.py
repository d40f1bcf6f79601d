"""The motion-only study's runner: its grid, and two runners sharing it."""

from __future__ import annotations

import os
import subprocess
import sys

from tools import motion_study


def test_grid_has_three_seeds_of_every_ablation_and_the_long_runs():
    runs = motion_study.grid()
    ablations = {run["variant"] for run in runs if run["model"] == "rep_flow"} - {"default", "48_epochs"}
    for variant in ablations:
        assert sorted(run["seed"] for run in runs if run["variant"] == variant) == [0, 1, 2]
    long_runs = [run for run in runs if run["variant"] == "48_epochs"]
    assert {run["model"] for run in long_runs} == {"rgb", "rep_flow"}
    assert all(f"--epochs {motion_study.LONG_EPOCHS} " in motion_study.train_command(run) for run in long_runs)
    assert f"--epochs {motion_study.EPOCHS} " in motion_study.train_command(runs[0])


def test_a_folder_held_by_a_live_runner_is_skipped_and_a_dead_runners_is_taken(tmp_path):
    assert motion_study.claim(tmp_path)  # free: this process takes it
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "runner.pid").write_text(str(other.pid))
        assert not motion_study.claim(tmp_path)
    finally:
        other.kill()
        other.wait()
    assert motion_study.claim(tmp_path)  # its runner is gone
    assert (tmp_path / "runner.pid").read_text() == str(os.getpid())
