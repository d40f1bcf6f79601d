"""The Compare page: two models' flows on one clip, row above row (AppTest), on the bundled motion-only models and
on tiny models with a broken checkpoint among them."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.models import ModelConfig, build_model
from repflow.video import write_video
from tests.viz_app.apptest_helpers import TIMEOUT, assert_clean
from viz_app import compare_page, compute

PAGE = """
import streamlit as st
from viz_app import compare_page, compute
st.navigation([st.Page(compare_page.page, title="Compare", url_path="compare", default=True)]).run()
"""
CLASSES = ["slide_left", "slide_right", "still"]


def run_page() -> AppTest:
    return AppTest.from_string(PAGE, default_timeout=TIMEOUT).run()


def row_headings(at: AppTest) -> list[str]:
    return [heading.value for heading in at.subheader]


def predictions(at: AppTest) -> list[str]:
    return [text.value for text in at.markdown if text.value.startswith("Top-3:")]


def test_helpers_read_the_true_class_and_the_top_classes():
    assert compare_page.true_class("motion_only_arm_backward_fast.mp4", ["arm_forward_fast", "arm_backward_fast"]) \
        == "arm_backward_fast"
    assert compare_page.true_class("my_clip.mp4", ["walking"]) is None
    assert compare_page.true_class("x_standing_up.mp4", ["up", "standing_up"]) == "standing_up", "the longest name"
    top = compare_page.top_classes(np.array([0.1, 0.6, 0.3]), ["a", "b", "c"], k=2)
    assert top == [("b", pytest.approx(0.6)), ("c", pytest.approx(0.3))]


def test_the_page_opens_on_the_motion_only_rep_flow_and_rgb_models(monkeypatch):
    """The bundled folders: Rep-Flow's learned flow above a probe of the RGB model where Rep-Flow has its layer."""
    monkeypatch.delenv("REPFLOW_MODELS_DIR", raising=False)
    monkeypatch.delenv("REPFLOW_SAMPLES_DIR", raising=False)
    at = run_page()
    assert_clean(at)
    assert at.selectbox(key="compare_model_A").value.endswith("motion_only_rep_flow.pt")
    assert at.selectbox(key="compare_model_B").value.endswith("motion_only_rgb.pt")
    assert at.selectbox(key="compare_clip").value.endswith("motion_only_arm_forward_fast.mp4")
    first, second = row_headings(at)
    assert "motion" in first and "Rep" in first and "its flow layer" in first
    assert "rgb" in second and "probe layer1" in second, "the probe sits where Rep-Flow has its flow layer"
    lines = predictions(at)
    assert len(lines) == 2 and all("true class **arm" in line for line in lines)
    frames = [image for image in at.image if image.captions and image.captions[0].startswith("frame ")]
    channels = [image for image in at.image if image.captions and image.captions[0].startswith("#")]
    assert len(frames) == 2 and len(channels) == 2 * 3, "two rows: a frame and the top 3 channels each"
    assert at.get("download_button"), "the comparison's export"


@pytest.fixture
def compare_env(tmp_path, monkeypatch, tiny_model, moving_square):
    """models/: a Rep-Flow model (flow layer after layer1) and an RGB model (whose own config says layer3) with class
    names, and a file that is no checkpoint; clips/: a square sliding right, named after one class."""
    models, clips = tmp_path / "models", tmp_path / "clips"
    models.mkdir()
    for name, flow, after in [("a_rep.pt", "rep", "layer1"), ("b_rgb.pt", "none", "layer3")]:
        model = build_model(ModelConfig(flow=flow, flow_after=after, width=8, num_classes=3, flow_channels=8)).eval()
        payload = {**model_payload(model), "classes": CLASSES, "clip": {"frames": 8, "size": 64, "short_side": 64}}
        save_checkpoint(models / name, payload)
    (models / "c_broken.pt").write_bytes(b"not a checkpoint")
    write_video(clips / "square_slide_right.mp4", moving_square(textured=True))
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(models))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(clips))
    return tmp_path


def test_without_the_bundled_defaults_the_first_two_models_are_compared(compare_env):
    """The RGB model is probed where the other model has its flow layer (layer1), not where its own config says."""
    at = run_page()
    assert_clean(at)
    first, second = row_headings(at)
    assert "a\\_rep.pt" in first and "b\\_rgb.pt" in second and "probe layer1" in second
    assert all("true class **slide\\_right**" in line for line in predictions(at))
    before = [image.value[0] for image in at.image]
    step = at.slider(key="compare_step")
    step.set_value((step.value + 1) % (step.max + 1)).run()
    assert_clean(at)
    assert [image.value[0] for image in at.image] != before, "another step, other panels"
    at.slider(key="compare_channels").set_value(1).run()
    assert_clean(at)
    assert len([image for image in at.image if image.captions and image.captions[0].startswith("#")]) == 2
    at.selectbox(key="compare_model_B").select(str(compare_env / "models" / "a_rep.pt")).run()
    assert_clean(at)
    assert "the same file" in at.info[0].value and len(row_headings(at)) == 2


def test_a_broken_checkpoint_is_one_message_and_the_other_row_stays(compare_env):
    at = run_page()
    at.selectbox(key="compare_model_B").select(str(compare_env / "models" / "c_broken.pt")).run()
    assert not at.exception
    assert len(at.error) == 1, [error.value for error in at.error]
    assert at.error[0].value.startswith("Model B: cannot use c\\_broken.pt: ")
    assert "is not a PyTorch checkpoint" in at.error[0].value
    assert str(compare_env) not in at.error[0].value, "no server path"
    assert len(row_headings(at)) == 1 and "a\\_rep.pt" in row_headings(at)[0]


def test_no_models_and_no_clips_are_messages(compare_env, monkeypatch, tmp_path):
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(tmp_path / "nothing"))
    at = run_page()
    assert not at.exception and len(at.error) == 1 and "No model checkpoint found" in at.error[0].value
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(compare_env / "models"))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(tmp_path / "nothing"))
    at = run_page()
    assert not at.exception and len(at.error) == 1 and "No video found" in at.error[0].value


def test_the_export_pads_a_short_row_with_white():
    tile = compute.png(np.zeros((32, 32, 3), np.uint8))
    rows = [[(tile, "frame 0"), (tile, "#1 ch 0 · energy 1"), (tile, "#2 ch 1 · energy 0.5")], [(tile, "frame 0"),
            (tile, "#1 ch 3 · energy 2")]]
    png = compare_page.comparison_png.__wrapped__(rows, ("test",), ("A: a\nRep-Flow", "B: b\nprobe layer1"))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape[1] == 3 * 32 + 2 * 4, "three columns and two gaps"
    bottom_right = image[-32:, -32:]
    assert (bottom_right == 255).all() and (image[-32:, :32] == 0).all(), "B's missing third panel is blank"
