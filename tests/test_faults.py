"""Calm under faults: every command checks where it writes before any work, refuses to overwrite its inputs, a
dataset or a training run, and a write that fails (full disk, read-only) is one line naming the file, with the
previous file intact."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from repflow import cli
from repflow.checkpoint import load_checkpoint, model_payload, save_checkpoint
from repflow.io import WriteError, atomic_write
from repflow.models import ModelConfig, build_model
from repflow.video import write_video
from tests.fault_mounts import mounted_tmpfs


@pytest.fixture(scope="module")
def model_and_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    torch.manual_seed(0)
    save_checkpoint(folder / "fcf.pt", model_payload(build_model(ModelConfig(flow="fcf", width=8, num_classes=5,
                                                                             flow_channels=6))))
    clip = np.full((10, 40, 48, 3), 20, np.uint8)
    for t in range(10):
        clip[t, 12:26, 4 + 2 * t : 18 + 2 * t] = 200
    write_video(folder / "square.mp4", clip)
    return folder / "fcf.pt", folder / "square.mp4"


@pytest.fixture
def read_only(tmp_path):
    with mounted_tmpfs(tmp_path / "read_only", read_only=True) as folder:
        yield folder


@pytest.fixture
def full_disk(tmp_path):
    with mounted_tmpfs(tmp_path / "full", size_kb=64) as folder:
        yield folder


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_atomic_write_to_a_read_only_place_raises_one_error_naming_the_file(read_only):
    with pytest.raises(WriteError) as caught:
        atomic_write(read_only / "out.txt", "text")
    assert str(caught.value) == f"cannot write {read_only / 'out.txt'}: Read-only file system"
    assert caught.value.__cause__.__context__ is None, "the clean-up raised no second error"


def test_a_full_disk_while_saving_a_checkpoint_keeps_the_previous_one(full_disk):
    path = save_checkpoint(full_disk / "checkpoint_last.pt", {"value": torch.tensor(1)})
    with pytest.raises(WriteError, match=f"cannot write {path}: No space left on device"):
        save_checkpoint(path, {"value": torch.zeros(100_000)})
    assert load_checkpoint(path)["value"].item() == 1
    assert [p.name for p in full_disk.iterdir()] == ["checkpoint_last.pt"], "no temporary file left"


def test_figure_to_a_read_only_place_is_refused_before_any_work(model_and_clip, read_only, capsys, monkeypatch):
    model, clip = model_and_clip
    monkeypatch.setattr("repflow.checkpoint.load_checkpoint", lambda *a, **k: pytest.fail("work started"))
    assert cli.main(["figure", "--model", str(model), "--clip", str(clip), "--out", str(read_only / "f.png")]) == 2
    assert "is not a writable folder (Read-only file system)" in one_error_line(capsys)


def test_figure_refuses_to_overwrite_its_input_or_to_write_a_folder(model_and_clip, tmp_path, capsys):
    model, clip = model_and_clip
    before = clip.read_bytes()
    assert cli.main(["figure", "--model", str(model), "--clip", str(clip), "--out", str(clip)]) == 2
    assert f"--out {clip} is one of the inputs" in one_error_line(capsys)
    assert clip.read_bytes() == before
    folder = tmp_path / "d.png"
    folder.mkdir()
    assert cli.main(["figure", "--model", str(model), "--clip", str(clip), "--out", f"{folder}/"]) == 2
    assert "is a folder: give a file name" in one_error_line(capsys)


def test_eval_refuses_a_training_runs_folder_before_any_work(model_and_clip, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(model_and_clip[0], run / "model.pt")
    (run / "summary.json").write_text('{"epochs_done": 3}')
    assert cli.main(["eval", "--checkpoint", str(run / "model.pt"), "--out-dir", str(run)]) == 2
    line = one_error_line(capsys)
    assert "is a training run's folder" in line and f"default: {run / 'eval'}" in line
    assert json.loads((run / "summary.json").read_text()) == {"epochs_done": 3}


def test_synth_refuses_a_folder_holding_a_dataset_unless_told_to_overwrite(tmp_path, capsys):
    out = tmp_path / "set"
    out.mkdir()
    (out / "train.txt").write_text("mine 0\n")
    args = ["synth", "--out", str(out), "--clips-per-class", "1", "--test-clips-per-class", "1", "--size", "32",
            "--frames", "4"]
    assert cli.main(args) == 2
    assert "pass --overwrite" in one_error_line(capsys)
    assert (out / "train.txt").read_text() == "mine 0\n"
    assert cli.main([*args, "--overwrite"]) == 0
    assert (out / "train.txt").read_text() != "mine 0\n"


def test_synth_on_a_full_disk_is_one_line_and_leaves_no_set_that_looks_complete(full_disk, capsys):
    args = ["synth", "--out", str(full_disk), "--clips-per-class", "2", "--size", "64", "--frames", "16"]
    assert cli.main(args) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]  # (above it: the progress bar)
    assert line.startswith("repflow synth: error: cannot write") and "No space left on device" in line, line
    assert not (full_disk / "train.txt").exists() and not (full_disk / "classes.txt").exists()


def test_an_os_error_while_writing_is_one_line_naming_the_file(model_and_clip, tmp_path, capsys, monkeypatch):
    model, clip = model_and_clip
    out = tmp_path / "fig.png"
    out.write_bytes(b"previous figure")

    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.replace", no_space)
    assert cli.main(["figure", "--model", str(model), "--clip", str(clip), "--frames", "8", "--out", str(out)]) == 1
    assert one_error_line(capsys) == f"repflow figure: error: cannot write {out}: No space left on device"
    assert out.read_bytes() == b"previous figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]


def test_folders_given_as_files_say_so(tmp_path, capsys):
    assert cli.main(["train", "--config", str(tmp_path)]) == 2
    assert "is a folder" in one_error_line(capsys)
    assert cli.main(["train", "--dataset", "list", "--train-data", str(tmp_path), "--out-dir",
                     str(tmp_path / "run")]) == 2
    assert "is a folder" in one_error_line(capsys)
    assert cli.main(["eval", "--checkpoint", str(tmp_path)]) == 2
    assert "is a folder, not a checkpoint file" in one_error_line(capsys)


def test_a_file_given_as_a_dataset_folder_says_so(tmp_path, capsys):
    listing = tmp_path / "train.txt"
    listing.write_text("a.mp4 0\n")
    assert cli.main(["train", "--dataset", "folders", "--train-data", str(listing), "--out-dir",
                     str(tmp_path / "run")]) == 2
    assert "is a file (for a list file use dataset=list)" in one_error_line(capsys)



def test_an_unreadable_video_is_one_line_without_the_decoders_own_lines(model_and_clip, tmp_path):
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    result = subprocess.run([sys.executable, "-m", "repflow", "figure", "--model", str(model_and_clip[0]), "--clip",
                             str(noise), "--out", str(tmp_path / "f.png")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"repflow figure: error: {noise}: not a readable media file (Invalid data found when processing input)"
    ], result.stderr
