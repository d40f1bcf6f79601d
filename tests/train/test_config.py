"""repflow.train.config: YAML + flags, every field on --help, clear errors."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from repflow.train.config import TrainConfig, add_config_arguments, config_from_args, config_from_dict


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return config_from_args(parser.parse_args(argv))


def test_help_lists_every_field_with_default():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    text = parser.format_help()
    for item in fields(TrainConfig):
        assert "--" + item.name.replace("_", "-") in text
    assert "(default: 0.01)" in text and "(default: sgd)" in text


def test_yaml_then_flags(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train_data: videos\nlr: 1\nepochs: 5\nflip: false\n")
    config = parse("--config", str(path), "--epochs", "7", "--flip")
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.epochs == 7 and config.flip is True and config.train_data == "videos"
    assert config.momentum == 0.9  # untouched default


@pytest.mark.parametrize(
    "values, message",
    [
        ({"train_data": "x", "learning_rate": 0.1}, "unknown setting"),
        ({"train_data": "x", "epochs": "ten"}, "epochs must be int"),
        ({"train_data": "x", "optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"train_data": "x", "crop_size": 200}, "cannot exceed short_side"),
        ({"dataset": "hmdb51"}, "needs data_root"),
        ({}, "needs train_data"),
        ({"train_data": "x", "num_frames": 2}, "num_frames must be >= 3"),
    ],
)
def test_bad_settings(values, message):
    with pytest.raises(ValueError, match=message):
        config_from_dict(values, source="test.yaml")


def test_bad_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- a list\n- not a mapping\n")
    with pytest.raises(ValueError, match="bad.yaml: expected a mapping"):
        parse("--config", str(path))
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        parse("--config", str(tmp_path / "missing.yaml"))


def test_shipped_configs_are_valid():
    from pathlib import Path

    from repflow.train.config import load_yaml

    folder = Path(__file__).parents[2] / "configs"
    for dataset in ("hmdb51", "kinetics400"):
        for setup in ("rgb", "rep_flow", "flow_of_flow", "two_stream_flow"):
            assert config_from_dict(load_yaml(folder / f"{dataset}_{setup}.yaml")).dataset == dataset
    for path in sorted(folder.glob("*.yaml")):
        config_from_dict(load_yaml(path), source=str(path))  # every shipped config is valid
