"""A researcher's own checkpoint runs as it was trained: the app opens it with its own training window (the one
``repflow figure`` draws by default), re-opens the window when the model changes, and every label describes the
model, clip and layers on screen (issue 23)."""

import pytest
import streamlit as st
import torch

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.models import ModelConfig, build_model
from repflow.video import write_video
from tests.viz_app.apptest_helpers import (
    assert_clean,
    captions,
    export_rows,
    image_panel,
    markdown_table,
    open_export,
    run_app,
)

ARCHITECTURES = {
    "r2plus1d_rgb": ModelConfig(flow="none", width=8, num_classes=4),
    "r2plus1d_rep": ModelConfig(flow="rep", width=8, num_classes=4, flow_channels=4),
    "r2plus1d_fcf": ModelConfig(flow="fcf", width=8, num_classes=4, flow_channels=4),
    "resnet2d_rep": ModelConfig(arch="resnet2d", flow="rep", width=8, num_classes=4, flow_channels=4),
    "tvnet": ModelConfig(arch="tvnet", width=8, num_classes=4, n_iter=5, stacked_flows=10),  # needs 11 frames
    "i3d": ModelConfig(arch="i3d", width=8, num_classes=4),
}
# What training records: 8 frames at stride 1 (48 px crop of a 56 px short side), 16 at stride 2 (64 of 80).
WINDOWS = {8: {"frames": 8, "stride": 1, "size": 48, "short_side": 56},
           16: {"frames": 16, "stride": 2, "size": 64, "short_side": 80}}


def save_model(path, config: ModelConfig, clip: dict | None = None, seed: int = 0):
    torch.manual_seed(seed)
    payload = model_payload(build_model(config).eval())
    if clip is not None:
        payload["clip"] = clip
    save_checkpoint(path, payload)
    return path


@pytest.fixture
def long_clip(tmp_path, moving_square):
    """clips/ with one 36-frame clip (long enough for 16 frames at stride 2)."""
    clips = tmp_path / "clips"
    clips.mkdir()
    write_video(clips / "long_square.mp4", moving_square(frames=36, textured=True))
    return clips


def recorded_inputs(monkeypatch, module) -> list:
    """(frames, size, short_side) of every ``analyse_clip`` call made through ``module``."""
    calls = []
    real = module.analyse_clip

    def record(model, frames, **kwargs):
        calls.append((frames.copy(), kwargs["size"], kwargs["short_side"]))
        return real(model, frames, **kwargs)

    monkeypatch.setattr(module, "analyse_clip", record)
    return calls


def figure_inputs(checkpoint, clip, monkeypatch, tmp_path) -> tuple:
    """What ``repflow figure`` puts through the model by default (its first clip's frames, size, short side)."""
    from repflow import analysis
    from repflow.cli import main

    calls = recorded_inputs(monkeypatch, analysis)
    assert main(["figure", "--model", str(checkpoint), "--clip", str(clip), "--channels", "0", "--steps", "0",
                 "--cell-px", "32", "--dpi", "50", "--out", str(tmp_path / "figure.png")]) == 0
    monkeypatch.undo()
    return calls[0]


@pytest.mark.parametrize("frames", sorted(WINDOWS))
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_the_app_and_repflow_figure_draw_the_same_window_of_a_checkpoint(
    arch, frames, tmp_path, long_clip, monkeypatch
):
    from viz_app import compute

    models = tmp_path / "models"
    models.mkdir()
    checkpoint = save_model(models / f"{arch}_{frames}.pt", ARCHITECTURES[arch], WINDOWS[frames])
    clip = long_clip / "long_square.mp4"
    expected_frames, stride = frames, WINDOWS[frames]["stride"]
    if arch == "tvnet":
        expected_frames = max(frames, 11)  # its shortest clip: 10 stacked flows need 11 frames
    drawn, size, short_side = figure_inputs(checkpoint, clip, monkeypatch, tmp_path)
    assert len(drawn) == expected_frames and (size, short_side) == (WINDOWS[frames]["size"],
                                                                   WINDOWS[frames]["short_side"])

    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(models))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(long_clip))
    shown = recorded_inputs(monkeypatch, compute)
    st.cache_data.clear()
    at = run_app()
    assert_clean(at)
    assert (at.session_state["frames"], at.session_state["stride"], at.session_state["start"]) == (
        expected_frames, stride, 0)
    last = (expected_frames - 1) * stride
    assert at.caption[0].value.split(": ", 1)[1].startswith(f"frames 0–{last}"), at.caption[0].value
    ((frames_in, size_in, short_side_in),) = shown
    assert (size_in, short_side_in) == (size, short_side)
    assert frames_in.shape == drawn.shape and (frames_in == drawn).all(), "the same frames, resized and cropped alike"


@pytest.fixture
def own_models(tmp_path):
    """A bundled flow-of-flow model trained on 8 frames, and a researcher's 16-frame Rep-Flow and TVNet models."""
    models, mine = tmp_path / "models", tmp_path / "mine"
    models.mkdir()
    mine.mkdir()
    save_model(models / "bundled_fcf.pt", ARCHITECTURES["r2plus1d_fcf"], {"frames": 8, "size": 64, "short_side": 72})
    rep16 = save_model(mine / "rep16.pt", ARCHITECTURES["r2plus1d_rep"], WINDOWS[16], seed=1)
    tvnet = save_model(mine / "tvnet.pt", ARCHITECTURES["tvnet"], {"frames": 12, "size": 48, "short_side": 48})
    return models, rep16, tvnet


def main_row_captions(at) -> list[str]:
    return captions(at)


def test_upload_switch_upload_shows_each_model_with_its_own_window_and_words(own_models, long_clip, monkeypatch):
    models, rep16, tvnet = own_models
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(models))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(long_clip))
    at = run_app()
    assert_clean(at)
    assert at.session_state["frames"] == 8 and at.session_state["size"] == 64
    assert any(c.value.startswith("flow-of-flow · R(2+1)D-18") for c in at.sidebar.caption)
    at.selectbox(key="layer").set_value("flow_block.flow2").run()

    at.file_uploader(key="model_upload").upload("rep16.pt", rep16.read_bytes()).run()
    assert_clean(at)
    assert (at.session_state["frames"], at.session_state["stride"], at.session_state["size"]) == (16, 2, 64)
    assert "**rep16.pt**" in at.caption[0].value and "frames 0–30 (every 2)" in at.caption[0].value
    assert "short side resized to 80, centre crop 64×64" in at.caption[0].value
    sidebar = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("Shown: your upload rep16.pt · Rep-Flow · R(2+1)D-18") for c in sidebar), sidebar
    assert not any(c.startswith("flow-of-flow ·") for c in sidebar), "the bundled model is not described"
    captions = main_row_captions(at)
    assert any(c.startswith("▶ Rep-Flow") for c in captions) and not any("flow-of-flow" in c for c in captions)
    assert not at.info, "no slot for a second layer the model does not have"

    at.file_uploader(key="model_upload").clear().run()  # back to the bundled model
    assert_clean(at)
    assert (at.session_state["frames"], at.session_state["stride"], at.session_state["size"]) == (8, 1, 64)
    assert at.session_state["layer"] == "flow_block.flow1", "the bundled model's first layer, not the one left"
    assert any(c.value.startswith("flow-of-flow · R(2+1)D-18") for c in at.sidebar.caption)
    assert not any(c.value.startswith("Shown: your upload") for c in at.sidebar.caption)

    at.file_uploader(key="model_upload").upload("tvnet.pt", tvnet.read_bytes()).run()
    assert_clean(at)
    assert (at.session_state["frames"], at.session_state["size"]) == (12, 48), "TVNet's own window (>= 11 frames)"
    assert any(c.value.startswith("Shown: your upload tvnet.pt · TVNet flow layer") for c in at.sidebar.caption)
    assert image_panel(at, "▶ TVNet")
    assert not any("probe" in c.value for c in at.caption), "TVNet's layer is learned, not a frozen probe"
    parameters = markdown_table(at, "layer")
    assert [row["layer"] for row in parameters] == ["TVNet (frames)"] and float(parameters[0]["θ (theta)"]) > 0


def test_an_uploaded_clip_is_named_in_the_sidebar_and_the_export_rows_follow_its_ranking(
    app_env, tmp_path, moving_square
):
    at = open_export(run_app())
    assert_clean(at)
    first = [int(at.button(key=f"rank_{i}").label) for i in range(4)]
    assert export_rows(at).value == first
    write_video(tmp_path / "mine.mp4", moving_square(frames=12, textured=True)[:, :, ::-1].copy())
    at.file_uploader(key="clip_upload").upload("mine.mp4", (tmp_path / "mine.mp4").read_bytes()).run()
    assert_clean(at)
    assert any(c.value.startswith("Shown: your upload mine.mp4") for c in at.sidebar.caption)
    ranked = [int(at.button(key=f"rank_{i}").label) for i in range(4)]
    assert ranked != first, "(the test needs a clip that ranks the channels otherwise)"
    assert export_rows(at).value == ranked, "the rows are this clip's best channels"
    at.file_uploader(key="clip_upload").clear().run()
    assert not any(c.value.startswith("Shown: your upload") for c in at.sidebar.caption)
    assert export_rows(at).value == [int(at.button(key=f"rank_{i}").label) for i in range(4)]


def test_a_model_without_flow_layers_opens_on_a_labelled_probe(tmp_path, long_clip, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    rgb = ModelConfig(flow="none", flow_after="layer1", width=8, num_classes=4)
    save_model(models / "rgb.pt", rgb, {"frames": 8, "size": 64, "short_side": 64})
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(models))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(long_clip))
    at = run_app()
    assert_clean(at)
    assert at.session_state["layer"] == "probe:layer1", "where its paired flow model has its flow layer"
    assert image_panel(at, "▶ probe layer1")
    assert any(c.value.startswith("This model has no flow layer, so a flow probe shows") for c in at.caption)



def test_a_trained_window_the_app_or_the_clip_cannot_hold_is_said(tmp_path, long_clip, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    save_model(models / "long.pt", ARCHITECTURES["r2plus1d_rep"], {"frames": 80, "size": 48, "short_side": 48})
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(models))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(long_clip))
    at = run_app()
    assert_clean(at)
    assert [i.value for i in at.sidebar.info] == [
        "The model was trained with clips of 80 frames; the app takes 3–64, so it uses 64."]
    assert at.session_state["frames"] == 36, "then cut to the clip's 36 frames"
    assert any(c.value == r"long\_square.mp4 has 36 frames, too few for the model's window of 64, so the window is "
               "shorter." for c in at.sidebar.caption)  # (the name escaped for markdown: it shows long_square.mp4)
