"""Tests of safe checkpoint saving and loading (repflow.checkpoint)."""

from __future__ import annotations

import argparse
import errno
import pickle
import random
from pathlib import Path

import pytest
import torch

from repflow.checkpoint import (
    CheckpointError,
    TrainingClip,
    load_checkpoint,
    load_model,
    model_payload,
    save_checkpoint,
    short_side_for,
)
from repflow.io import WriteError
from repflow.models import ModelConfig, build_model

MARKER = {}


class _Exploit:
    """Unpickling this would run code (create a file); weights_only loading must refuse it."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _model():
    return build_model(ModelConfig(flow="rep", width=4, num_classes=3, flow_channels=4, n_iter=2)).eval()


def test_round_trip_restores_architecture_and_weights(tmp_path):
    model = _model()
    path = save_checkpoint(tmp_path / "m.pt", {**model_payload(model), "epoch": 3})
    loaded = load_model(path)
    assert loaded.config == model.config
    clip = torch.randn(1, 3, 4, 32, 32)
    assert torch.equal(loaded(clip), model(clip))
    assert load_checkpoint(path)["epoch"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", {"value": torch.tensor(1)})
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        save_checkpoint(path, {"value": lambda: None})  # lambdas cannot be pickled
    assert load_checkpoint(path)["value"].item() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": _Exploit(str(target))}, path)
    with pytest.raises(CheckpointError, match="holds pickled Python objects"):
        load_checkpoint(path)
    assert not target.exists()


def test_random_bytes_are_called_not_a_checkpoint_not_pickled_code(tmp_path):
    noise = tmp_path / "noise.pt"
    noise.write_bytes(bytes(random.Random(0).getrandbits(8) for _ in range(5000)))
    with pytest.raises(CheckpointError, match="noise.pt is not a PyTorch checkpoint") as caught:
        load_checkpoint(noise)
    assert "pickled code" not in str(caught.value)


def test_clear_errors_for_missing_junk_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(junk)
    foreign = save_checkpoint(tmp_path / "foreign.pt", {"state_dict": {}})
    with pytest.raises(CheckpointError, match="not a repflow checkpoint"):
        load_model(foreign)
    tensor_only = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor_only)
    with pytest.raises(CheckpointError, match="not a checkpoint dict"):
        load_checkpoint(tensor_only)


def test_training_clip_keeps_only_positive_integer_settings():
    clip = {"frames": 8, "size": 56, "stride": 2, "short_side": 64, "stream": "rgb"}
    assert TrainingClip.from_payload({"clip": clip}) == TrainingClip(8, 56, 2, 64, "rgb")
    assert TrainingClip.from_payload({"clip": clip}).to_dict() == clip  # what training stores, read back whole
    assert TrainingClip.from_payload({"clip": {"frames": 0, "size": "big", "stride": True}}) == TrainingClip()
    assert TrainingClip.from_payload({"clip": "8 frames"}) == TrainingClip() == TrainingClip.from_payload({})
    flow = {"frames": 4, "size": 32, "stride": 2, "short_side": 32, "stream": "flow", "flow_clip": 20.0}
    assert TrainingClip.from_payload({"clip": flow}).to_dict() == flow


def test_training_clip_defaults_come_from_the_clip_spec():
    from repflow.data.datasets import ClipSpec

    filled = TrainingClip(size=56).with_defaults()
    assert (filled.frames, filled.size, filled.stride) == (ClipSpec().num_frames, 56, ClipSpec().stride)


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[1].glob("models/*.pt")), ids=lambda p: p.name)
def test_bundled_checkpoints_still_load_with_their_clip(path):
    payload = load_checkpoint(path)
    clip = TrainingClip.from_payload(payload)
    assert clip.to_dict() == payload["clip"] and clip.frames and clip.size
    load_model(path)


def test_crop_fraction_carries_the_training_view_to_other_sizes():
    assert TrainingClip(size=56, short_side=64).crop_fraction == 0.875
    assert TrainingClip(size=56).crop_fraction == TrainingClip(size=64, short_side=56).crop_fraction == 1.0
    assert short_side_for(56, 0.875) == 64 and short_side_for(112, 0.875) == 128
    assert short_side_for(112, 1.0) == 112


@pytest.mark.parametrize("payload", [{"args": argparse.Namespace(lr=0.1)}, {"model": _Exploit("never")}])
def test_a_checkpoint_holding_pickled_objects_says_so_and_was_not_loaded(tmp_path, payload):
    path = tmp_path / "objects.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "objects.pt holds pickled Python objects" in message and "not loaded, for safety" in message, message
    assert "unsupported global" in message.lower(), "the class that was refused is named"


def test_a_plain_python_pickle_says_so(tmp_path):
    path = tmp_path / "dumped.pt"
    path.write_bytes(pickle.dumps({"weights": _Exploit(str(tmp_path / "pwned"))}, protocol=4))
    with pytest.raises(CheckpointError, match="holds pickled Python objects.*plain Python pickle"):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_a_folder_given_as_checkpoint_is_called_a_folder(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder, not a checkpoint file"):
        load_checkpoint(tmp_path)


def test_state_dict_of_another_architecture_gets_a_short_report_not_the_key_list(tmp_path):
    payload = model_payload(_model())
    payload["model_config"] = {**payload["model_config"], "depth": 34}
    path = save_checkpoint(tmp_path / "mismatch.pt", payload)
    with pytest.raises(CheckpointError, match=r"mismatch\.pt's weights do not fit .*missing") as caught:
        load_model(path)
    assert len(str(caught.value)) < 600, str(caught.value)


def test_a_full_disk_while_saving_leaves_the_previous_checkpoint_and_names_the_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pt", {"value": torch.tensor(1)})

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", lambda fd: full_disk(fd, b""))
    with pytest.raises(WriteError) as caught:
        save_checkpoint(path, {"value": torch.tensor(2)})
    assert str(caught.value) == f"cannot write {path}: No space left on device"
    monkeypatch.undo()
    assert load_checkpoint(path)["value"].item() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
