""""Your own model" in the viewer: TorchScript and state-dict uploads, flow probes in the layer picker,
clear errors for files that do not fit (AppTest), and the loaders of viz_app.own_model."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from repflow import figure
from repflow.analysis import analyse_clip, probe_key
from repflow.checkpoint import CheckpointError, infer_num_classes, mismatch_report, read_state_dict
from repflow.flowviz import PanelOptions
from repflow.probe import ProbeOptions
from repflow.video import write_video
from tests.viz_app.apptest_helpers import assert_clean, image_panel, markdown_table, run_app
from viz_app import compute
from viz_app.own_model import load_torchscript
from viz_app.sources import SourceError


def features_net() -> nn.Module:
    """A foreign video network whose output is a (B, 4, T, H/2, W/2) feature map, not class scores."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv3d(3, 4, (1, 3, 3), padding=(0, 1, 1)), nn.ReLU(), nn.AvgPool3d((1, 2, 2))).eval()


@pytest.fixture
def scripted_file(tmp_path) -> Path:
    path = tmp_path / "features.pt"
    torch.jit.save(torch.jit.script(features_net()), str(path))
    return path


def smooth_pan(tmp_path) -> bytes:
    """An MP4 of a smooth (blurred) random texture panning right by 1 px per frame: motion that single-scale
    TV-L1 (the input probe) and OpenCV's multi-scale TV-L1 both recover."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (96, 128)).astype(np.float32), (0, 0), 3)
    texture = (texture - texture.min()) / (texture.max() - texture.min()) * 255
    frames = np.stack([np.repeat(texture[8:72, 40 - t : 120 - t, None], 3, axis=-1) for t in range(8)]).astype(np.uint8)
    return write_video(tmp_path / "pan.mp4", frames).read_bytes()


def use_own_model(at: AppTest, fmt: str) -> AppTest:
    at.radio(key="model_source").set_value("own").run()
    return at.radio(key="own_format").set_value(fmt).run()


def upload(at: AppTest, path: Path, name: str | None = None) -> AppTest:
    return at.file_uploader(key="own_upload").upload(name or path.name, path.read_bytes()).run()


# --- AppTest ---------------------------------------------------------------------------------------------


def test_torchscript_upload_shows_the_input_probe_beside_opencv_and_switches_channels(
    app_env, allow_torchscript, scripted_file, tmp_path
):
    at = use_own_model(run_app(), "torchscript")
    assert any("runs the model's own code" in w.value for w in at.warning), "the UI says TorchScript runs code"
    at.file_uploader(key="clip_upload").upload("pan.mp4", smooth_pan(tmp_path), "video/mp4")
    upload(at, scripted_file)
    assert_clean(at)
    assert "**features.pt** on **pan.mp4**" in at.caption[0].value
    assert at.session_state["layer"] == "probe:input", "a model without flow layers opens on the input probe"
    assert (at.session_state["frames"], at.session_state["size"]) == (8, 112), (
        "no training record: the training defaults (16 frames, 112 px), cut to the clip's 8 frames")
    assert any(o.startswith("probe · input (model input, 3 ch, 8x") for o in at.selectbox(key="layer").options)
    _, caption = image_panel(at, "▶ probe input")
    assert "PC1" in caption, "the input probe runs on the frames' first principal component"
    image_panel(at, "classical TV-L1")
    sanity = next(c.value for c in at.caption if c.value.startswith("Input probe vs OpenCV"))
    numbers = r"difference ([\d.e-]+) px \(zero flow would be ([\d.e-]+) px\).*cosine\) (-?\d+\.\d+)"
    difference, zero, cosine = map(float, re.findall(numbers, sanity)[0])
    assert difference < 0.2 * zero and cosine > 0.9, f"the input probe should look like OpenCV's TV-L1: {sanity}"
    assert any("Not a classifier output" in i.value for i in at.info)

    at.selectbox(key="layer").set_value("probe:output").run()
    assert_clean(at)
    first, caption = image_panel(at, "▶ probe output")
    assert at.number_input(key="channel").max == 3, "four feature channels kept by motion energy"
    other = (at.session_state["channel"] + 1) % 4  # a new layer opens on its most moving channel
    at.number_input(key="channel").set_value(other).run()
    second, caption = image_panel(at, "▶ probe output")
    assert second != first and f"· ch {other} · t {at.session_state['step']}" in caption
    assert_clean(at)


def test_state_dict_with_its_architecture_renders_flow_layer_and_probe(app_env, tmp_path, tiny_model):
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": tiny_model("rep", seed=2).state_dict()}, path)
    at = use_own_model(run_app(), "state_dict")
    at.selectbox(key="own_flow").set_value("rep").run()
    at.number_input(key="own_width").set_value(8)
    at.number_input(key="own_flow_channels").set_value(8)
    upload(at.run(), path)
    assert_clean(at)
    assert "**weights.pth**" in at.caption[0].value
    image_panel(at, "▶ Rep-Flow")
    predictions = markdown_table(at, "class")
    assert len(predictions) == 5 and all(row["class"].startswith("class ") for row in predictions), (
        "10 classes read from fc.weight"
    )

    options = at.selectbox(key="layer").options
    shallow = len(options)
    assert any(o.startswith("probe · layer1 (") for o in options)
    assert not any(o.startswith("probe · layer1.0.") for o in options), "deep points wait for the toggle"
    at.toggle(key="all_probes").set_value(True).run()
    assert len(at.selectbox(key="layer").options) > shallow
    at.selectbox(key="layer").set_value("probe:layer2").run()
    assert_clean(at)
    _, caption = image_panel(at, "▶ probe layer2")
    image_panel(at, "Rep-Flow ·")  # the built-in flow layer stays beside the probe
    assert any("of the probed output" in c.value for c in at.sidebar.caption), "kept channel numbers are explained"


def test_a_file_that_is_not_torchscript_gives_a_clear_error_and_the_bundled_model_stays(
    app_env, allow_torchscript, tmp_path, tiny_model
):
    path = tmp_path / "weights.pt"
    torch.save(tiny_model("rep").state_dict(), path)
    at = use_own_model(run_app(), "torchscript")
    upload(at, path)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Cannot use the model weights.pt" in e and "is not a TorchScript file" in e for e in errors), errors
    image_panel(at, "▶ flow-of-flow 1/2")
    at.number_input(key="channel").set_value(1).run()
    assert not at.exception and "ch 1" in image_panel(at, "▶ flow-of-flow 1/2")[1], "the app keeps working"


def test_a_state_dict_that_does_not_fit_the_architecture_says_where(app_env, tmp_path, tiny_model):
    path = tmp_path / "small.pt"
    torch.save(tiny_model("rep").state_dict(), path)
    at = use_own_model(run_app(), "state_dict")  # default architecture: R(2+1)D-18, width 64, no flow layer
    upload(at, path)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("small.pt does not fit R(2+1)D-18" in e and "wrong shape" in e and "unexpected" in e for e in errors), (
        errors
    )
    image_panel(at, "▶ flow-of-flow 1/2")


def test_bundled_model_offers_probe_points_and_probing_runs_under_the_model_lock(app_env, monkeypatch):
    held = []
    real = compute.analyse_clip
    monkeypatch.setattr(
        compute, "analyse_clip", lambda *a, **k: held.append(compute.MODEL_LOCK.locked()) or real(*a, **k)
    )
    compute.st.cache_data.clear()
    at = run_app()
    assert at.session_state["layer"] == "flow_block.flow1", "the bundled model opens on its first flow layer"
    assert not any(option.startswith("probe") for option in at.selectbox(key="layer").options), "probes on request"
    at.toggle(key="probes").set_value(True).run()
    at.selectbox(key="layer").set_value("probe:stem").run()
    assert_clean(at)
    image_panel(at, "▶ probe stem")
    at.slider(key="step").set_value(0).run()  # the probe opens on its most moving step, maybe past flow-of-flow's last
    image_panel(at, "flow-of-flow 2/2 ·")
    at.selectbox(key="layer").set_value("flow_block.flow1").run()  # back: the cached analysis, no new run
    assert held == [True, True], held


# --- own_model and repflow.checkpoint's state-dict fitting (no Streamlit) ---------------------------------


def test_load_torchscript_names_the_file_for_junk(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip archive")
    with pytest.raises(SourceError, match=r"mine\.pt is not a TorchScript file"):
        load_torchscript(str(junk), "mine.pt")


def test_read_state_dict_takes_the_model_entry_and_refuses_tensorless_files(tmp_path):
    torch.save({"model": {"fc.weight": torch.zeros(7, 4)}, "epoch": 3}, tmp_path / "ckpt.pt")
    state = read_state_dict(str(tmp_path / "ckpt.pt"), "ckpt.pt")
    assert list(state) == ["fc.weight"] and infer_num_classes(state, "ckpt.pt") == 7
    torch.save({"epoch": 3}, tmp_path / "empty.pt")
    with pytest.raises(CheckpointError, match="empty.pt holds no tensors"):
        read_state_dict(str(tmp_path / "empty.pt"), "empty.pt")
    with pytest.raises(CheckpointError, match="classifier weight 'fc.weight'"):
        infer_num_classes({"head.weight": torch.zeros(3, 2)}, "x.pt")


def test_mismatch_report_lists_missing_unexpected_and_misshapen_entries():
    expected = {"a": torch.zeros(2), "b": torch.zeros(3), "c": torch.zeros(1)}
    given = {"a": torch.zeros(2), "b": torch.zeros(4), "d": torch.zeros(1)}
    assert mismatch_report(expected, given) == [
        "1 missing: c",
        "1 unexpected: d",
        "1 wrong shape: b (4,) (expected (3,))",
    ]
    assert mismatch_report(expected, dict(expected)) == []


@pytest.mark.parametrize("reduce, expected", [("energy", "ch "), ("pca", "PC")])
def test_exported_figure_of_a_probe_labels_rows_with_the_probed_channels(moving_square, reduce, expected):
    options = ProbeOptions(channels=2, reduce=reduce, n_iter=5)
    analysis = analyse_clip(features_net(), moving_square(5, 40, 40), size=32, probe="output", probe_options=options)
    key = probe_key("output")
    labels = analysis.channel_labels[key]
    assert len(labels) == 2 and all(label.startswith(expected) for label in labels), labels
    assert analysis.probabilities is None, "feature maps are not class scores"
    grid = figure.paper_figure([("clip", analysis)], layer=key, channels=[1, 0], steps=[0, 2], show_frames=False,
                                options=PanelOptions(size=32))
    row_labels = [text.get_text().split("\n")[0] for text in grid.texts if text.get_ha() == "right"]  # left of rows
    assert row_labels == [labels[1], labels[0]], "rows in the order asked for, named by the probed channel"
    assert len(figure.animation_panels(analysis, channels=[1], options=PanelOptions(size=32))) == 4, (
        "one image per flow step"
    )
