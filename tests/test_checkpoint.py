"""Tests of safe checkpoint saving and loading (repflow.checkpoint)."""

from __future__ import annotations

import random

import pytest
import torch

from repflow.checkpoint import (
    CheckpointError,
    crop_fraction,
    load_checkpoint,
    load_model,
    model_payload,
    save_checkpoint,
    short_side_for,
    training_clip,
)
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
    with pytest.raises(Exception):
        save_checkpoint(path, {"value": lambda: None})  # lambdas cannot be pickled
    assert load_checkpoint(path)["value"].item() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": _Exploit(str(target))}, path)
    with pytest.raises(CheckpointError, match="not plain weights"):
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


def test_state_dict_of_another_architecture_is_reported(tmp_path):
    payload = model_payload(_model())
    payload["model_config"] = {**payload["model_config"], "depth": 34}
    path = save_checkpoint(tmp_path / "mismatch.pt", payload)
    with pytest.raises(CheckpointError, match="does not match its repflow architecture"):
        load_model(path)


def test_training_clip_keeps_only_positive_integer_settings():
    clip = {"frames": 8, "size": 56, "stride": 2, "short_side": 64, "stream": "rgb"}
    assert training_clip({"clip": clip}) == {"frames": 8, "size": 56, "stride": 2, "short_side": 64}
    assert training_clip({"clip": {"frames": 0, "size": "big", "stride": True}}) == {}
    assert training_clip({"clip": "8 frames"}) == {} and training_clip({}) == {}


def test_crop_fraction_carries_the_training_view_to_other_sizes():
    assert crop_fraction({"size": 56, "short_side": 64}) == 0.875
    assert crop_fraction({"size": 56}) == crop_fraction({"size": 64, "short_side": 56}) == 1.0
    assert short_side_for(56, 0.875) == 64 and short_side_for(112, 0.875) == 128
    assert short_side_for(112, 1.0) == 112
