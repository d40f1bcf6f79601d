"""The viewer on the paper's baselines: a 2D Rep-Flow and a TVNet checkpoint show their flow layers, an I3D one
takes probes."""

import pytest
import torch

from repflow.analysis import probe_key
from repflow.checkpoint import model_payload, save_checkpoint
from repflow.models import ModelConfig, build_model
from repflow.video import write_video
from tests.viz_app.apptest_helpers import assert_clean, image_panel, run_app

CONFIGS = {
    "a_2d_rep.pt": ModelConfig(arch="resnet2d", flow="rep", width=8, num_classes=4, flow_channels=4),
    "b_tvnet.pt": ModelConfig(arch="tvnet", width=8, num_classes=4, n_iter=20, stacked_flows=3),
    "c_i3d.pt": ModelConfig(arch="i3d", width=8, num_classes=4),
}


@pytest.fixture
def baselines(tmp_path, monkeypatch, moving_square):
    models, clips = tmp_path / "models", tmp_path / "clips"
    models.mkdir()
    clips.mkdir()
    torch.manual_seed(0)
    for name, config in CONFIGS.items():
        payload = model_payload(build_model(config))
        payload["clip"] = {"frames": 8, "size": 64, "short_side": 64}
        save_checkpoint(models / name, payload)
    write_video(clips / "square.mp4", moving_square())
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(models))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(clips))
    return models


def test_flow_layers_of_2d_rep_flow_and_tvnet_and_probes_on_i3d(baselines):
    at = run_app()
    assert_clean(at)
    captions = [caption.value for caption in at.sidebar.caption]  # under the model: "Rep-Flow · 2D ResNet-18 · ..."
    assert any("Rep-Flow · 2D ResNet-18" in caption for caption in captions)
    assert image_panel(at, "▶ Rep-Flow")  # the 2D Rep-Flow model opens first: it has a flow layer

    at.selectbox(key="model_choice").select(str(baselines / "b_tvnet.pt")).run()
    assert_clean(at)
    _, caption = image_panel(at, "▶ TVNet (frames)")
    assert "ch 0" in caption  # TVNet's one (grayscale) channel

    at.selectbox(key="model_choice").select(str(baselines / "c_i3d.pt")).run()
    assert any("I3D (Inception-v1)" in caption.value for caption in at.sidebar.caption)
    assert_clean(at)  # no flow layer: it opens on a probe, labelled as one
    assert at.session_state["layer"].startswith("probe:") and image_panel(at, "▶ probe")
    assert any(c.value.startswith("This model has no flow layer, so a flow probe") for c in at.caption)
    assert any("mixed_3c (Inception3d" in option for option in at.selectbox(key="layer").options)
    at.selectbox(key="layer").set_value(probe_key("mixed_3c")).run()
    assert_clean(at)
    assert image_panel(at, "probe mixed_3c")
