"""Channels-last memory format: only the 3D convolutions, on CUDA by default, on CPU when asked; every flow kind."""

from __future__ import annotations

import pytest
import torch

from repflow.train import loop
from repflow.train.config import config_from_dict


def _settings(tiny_videos, tmp_path, flow: str, **extra) -> dict:
    return {"dataset": "folders", "train_data": str(tiny_videos), "out_dir": str(tmp_path / flow), "flow": flow,
            "width": 8, "n_iter": 2, "num_frames": 4, "stride": 2, "short_side": 32, "crop_size": 32,
            "batch_size": 2, "epochs": 1, "max_steps": 2, "workers": 0, "progress": False, **extra}


@pytest.mark.parametrize("flow", ["none", "rep", "fcf"])
def test_channels_last_trains_every_flow_kind_on_cpu_when_asked(flow, tiny_videos, tmp_path, monkeypatch):
    converted, original = [], loop.to_channels_last_3d

    def convert(model):
        converted.append(original(model))
        return model

    monkeypatch.setattr(loop, "to_channels_last_3d", convert)
    torch.set_num_threads(1)
    summary = loop.train(config_from_dict(_settings(tiny_videos, tmp_path, flow, channels_last=True)))
    assert summary["global_step"] == 2
    (model,) = converted
    conv3d = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    assert conv3d and all(w.is_contiguous(memory_format=torch.channels_last_3d) for w in conv3d)
    flow_kernels = [p for name, p in model.named_parameters() if "flow" in name and p.dim() == 4]
    assert (flow == "none") == (not flow_kernels)  # the flow layers' 4-D kernels are trained, untouched


def test_channels_last_is_auto_by_default_off_on_cpu(tiny_videos, tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "to_channels_last_3d", lambda model: pytest.fail("converted on CPU by default"))
    config = config_from_dict(_settings(tiny_videos, tmp_path, "rep"))
    assert config.channels_last is None
    assert loop.train(config)["global_step"] == 2
