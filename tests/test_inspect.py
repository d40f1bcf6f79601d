"""Tests of the hook API (repflow.inspect)."""

from __future__ import annotations

import pytest
import torch

from repflow.inspect import capture_flows, learned_parameters, list_flow_layers
from repflow.models import ModelConfig, build_model


def _model(flow: str):
    return build_model(ModelConfig(flow=flow, width=4, num_classes=3, flow_channels=5, n_iter=3)).eval()


def _hook_count(model) -> int:
    return sum(len(module._forward_hooks) for module in model.modules())


def test_list_flow_layers():
    assert [(i.name, i.kind, i.label) for i in list_flow_layers(_model("rep"))] == [
        ("flow_block.flow1", "rep", "Rep-Flow")
    ]
    assert [(i.kind, i.label) for i in list_flow_layers(_model("fcf"))] == [
        ("fcf-1", "flow-of-flow 1/2"),
        ("fcf-2", "flow-of-flow 2/2"),
    ]
    assert list_flow_layers(_model("none")) == []


def test_capture_flows_shapes_and_no_effect_on_output():
    model = _model("fcf")
    clip = torch.randn(2, 3, 6, 64, 48)
    with torch.no_grad():
        plain = model(clip)
        with capture_flows(model) as flows:
            hooked = model(clip)
    assert torch.equal(plain, hooked)
    assert flows["flow_block.flow1"].shape == (2, 5, 5, 2, 8, 6)
    assert flows["flow_block.flow2"].shape == (2, 5, 4, 2, 8, 6)
    assert not flows["flow_block.flow1"].requires_grad
    assert _hook_count(model) == 0


def test_hooks_removed_when_forward_raises():
    model = _model("rep")
    with pytest.raises(ValueError):
        with capture_flows(model):
            model(torch.randn(1, 3, 1, 32, 32))
    assert _hook_count(model) == 0


def test_learned_parameters_reports_every_flow_layer():
    model = _model("fcf")
    with torch.no_grad():
        model.flow_block.flow2.tvl1.theta.fill_(-0.5)
    params = learned_parameters(model)
    assert set(params) == {"flow_block.flow1", "flow_block.flow2"}
    assert params["flow_block.flow1"]["theta"] == pytest.approx(0.3)
    assert params["flow_block.flow2"]["theta"] == pytest.approx(0.5)  # as the solver uses it: |theta|
    assert params["flow_block.flow1"]["lam"] == pytest.approx(0.15)
    assert params["flow_block.flow1"]["img_grad_x"].shape == (5, 1, 1, 3)
