"""repflow.train.optim: the paper's separate flow-parameter group and the warm-up schedules."""

from __future__ import annotations

import pytest
import torch

from repflow.models import ModelConfig, build_model
from repflow.train.config import TrainConfig
from repflow.train.optim import build_optimizer, build_scheduler, flow_layer_parameters, lr_factor


def test_flow_parameters_get_a_hundredth_of_the_rate():
    model = build_model(ModelConfig(width=8, num_classes=3, flow="fcf", n_iter=2))
    optimizer = build_optimizer(model, TrainConfig(train_data="x", lr=0.01))
    network, flow = optimizer.param_groups
    assert network["lr"] == 0.01 and flow["lr"] == pytest.approx(1e-4)
    flow_params = flow_layer_parameters(model)
    assert len(flow_params) > 0 and {id(p) for p in flow["params"]} == {id(p) for p in flow_params}
    everything = {id(p) for p in model.parameters()}
    assert {id(p) for p in network["params"]} | {id(p) for p in flow["params"]} == everything
    assert optimizer.defaults["momentum"] == 0.9 and optimizer.defaults["weight_decay"] == 1e-6


def test_adamw_and_baseline_without_flow_layers():
    model = build_model(ModelConfig(width=8, num_classes=3, flow="none"))
    optimizer = build_optimizer(model, TrainConfig(train_data="x", optimizer="adamw"))
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.param_groups[1]["params"] == []


def test_schedule_shapes():
    kwargs = dict(total_steps=100, warmup_steps=10, step_every=30, gamma=0.1)
    assert lr_factor(0, schedule="cosine", **kwargs) == pytest.approx(0.1)
    assert lr_factor(9, schedule="cosine", **kwargs) == pytest.approx(1.0)
    assert lr_factor(55, schedule="cosine", **kwargs) == pytest.approx(0.5)
    assert lr_factor(99, schedule="cosine", **kwargs) < 0.01
    assert [lr_factor(s, schedule="step", **kwargs) for s in (10, 39, 40, 70)] == pytest.approx([1, 1, 0.1, 0.01])


def test_scheduler_steps_both_groups():
    model = build_model(ModelConfig(width=8, num_classes=3, flow="rep", n_iter=2))
    config = TrainConfig(train_data="x", lr=0.1, epochs=2, warmup_epochs=0.5)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, steps_per_epoch=4)
    rates = []
    for _ in range(8):
        rates.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx([0.05, 0.0005]) and rates[1] == pytest.approx([0.1, 0.001])
    assert rates[-1][0] < rates[2][0]
