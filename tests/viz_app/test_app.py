"""AppTest tests of the viewer: rendering, interaction, caching, uploads, bad input and export."""

import io
import os
import pickle
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.video import write_video
from tests.viz_app.apptest_helpers import (
    assert_clean,
    captions,
    export_columns,
    image_panel,
    markdown_table,
    new_app,
    open_export,
    row_args,
    row_bytes_sent,
    run_app,
)
from viz_app import main_row


def video_bytes(tmp_path, frames, name="clip.mp4") -> bytes:
    return write_video(tmp_path / name, frames).read_bytes()


def test_default_page_renders_frames_flows_classical_grid_predictions(app_env):
    at = run_app()
    assert_clean(at)
    shown = captions(at)
    assert any(c.startswith("frame ") and c.endswith("(input crop)") for c in shown)
    assert any("flow-of-flow 1/2" in c for c in shown), "the default model is the flow-of-flow one"
    assert any(c.startswith("▶ flow-of-flow 1/2") for c in shown), "a bundled model opens on its first layer"
    assert at.selectbox(key="layer").value == "flow_block.flow1"
    assert any("classical TV-L1" in c for c in shown)
    assert len(at.pills(key="grid_pick").options) == 8, "one grid choice per channel"
    assert at.session_state["frames"] == 8 and at.session_state["size"] == 64, (
        "defaults from the checkpoint's clip entry"
    )
    assert at.session_state["channel"] == int(at.button(key="rank_0").label), "opens on the most moving channel"
    predictions, parameters = markdown_table(at, "class"), markdown_table(at, "layer")
    assert len(predictions) == 5 and all(row["class"].startswith("action") for row in predictions)
    probabilities = [float(row["probability"]) for row in predictions]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
    assert [len(row[""]) for row in predictions] == [max(1, round(20 * p)) for p in probabilities], "bars as long"
    assert len(parameters) == 2 and all(float(row["θ (theta)"]) > 0 for row in parameters)


def test_a_sessions_first_view_is_the_row_alone_until_the_page_reports_it_shown(app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.viz_app.apptest_helpers import APP, TIMEOUT

    starts = []  # whether each run starts the window's TV-L1 job
    real = main_row.classical_file
    monkeypatch.setattr(main_row, "classical_file", lambda *a, start: starts.append(start) or real(*a, start=start))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # a new session whose page has not reported yet
    assert_clean(at)
    assert row_args(at)["report_shown"] is True and row_bytes_sent(at) > 0, "the row asks for the report"
    assert not at.get("button_group") and not at.markdown, "no grid, no predictions yet"
    assert starts == [False], "the TV-L1 job waits until the row is on screen"
    at.session_state[main_row.SHOWN] = {"shown": True}  # the page's report (it reruns the explorer's fragment)
    at.run()
    assert_clean(at)
    assert row_args(at)["report_shown"] is False and row_bytes_sent(at) == 0, "the page has the data already"
    assert starts == [False, True]
    assert len(at.pills(key="grid_pick").options) == 8 and len(markdown_table(at, "class")) == 5


def test_the_model_sees_the_view_its_checkpoint_was_trained_on(app_env, monkeypatch):
    from viz_app import compute

    views = []
    real = compute.analyse_clip
    monkeypatch.setattr(
        compute, "analyse_clip", lambda *a, **k: views.append((k["size"], k["short_side"])) or real(*a, **k)
    )
    st.cache_data.clear()
    assert_clean(run_app())
    assert views == [(64, 80)], "trained at short side 80, crop 64: the app resizes to 80 and crops 64"


def test_classical_flow_follows_the_frames_the_model_is_fed(app_env):
    at = run_app()  # b_fcf.pt: short side 80, crop 64
    assert "short side resized to 80" in at.caption[0].value
    fcf_frame, _ = image_panel(at, "input crop")
    fcf_classical, _ = image_panel(at, "classical TV-L1")

    at.selectbox(key="model_choice").select(str(app_env / "models" / "a_rep.pt")).run()
    at.number_input(key="size").set_value(64).run()  # same clip, window and size; no crop share known: short side 64
    assert_clean(at)
    assert "short side resized to 64, centre crop 64" in at.caption[0].value
    assert image_panel(at, "input crop")[0] != fcf_frame
    assert image_panel(at, "classical TV-L1")[0] != fcf_classical, "TV-L1 of the frames now shown, not a cached one"


def test_channel_step_layer_and_options_redraw_without_rerunning_the_network(app_env, monkeypatch):
    from viz_app import compute

    calls = []
    real = compute.analyse_clip
    monkeypatch.setattr(compute, "analyse_clip", lambda *a, **k: calls.append(1) or real(*a, **k))
    st.cache_data.clear()
    at = run_app()
    assert_clean(at)
    first, _ = image_panel(at, "▶ flow-of-flow 1/2")

    at.number_input(key="channel").set_value(3).run()
    after_channel, caption = image_panel(at, "▶ flow-of-flow 1/2")
    assert "ch 3" in caption and after_channel != first

    at.slider(key="step").set_value(4).run()
    after_step, caption = image_panel(at, "▶ flow-of-flow 1/2")
    assert "t 4" in caption and after_step != after_channel

    at.selectbox(key="layer").select("flow_block.flow2").run()  # a new layer opens on its own best channel and step
    rep_url, caption = image_panel(at, "▶ flow-of-flow 2/2")
    assert f"ch {at.session_state['channel']} · t {at.session_state['step']}" in caption

    at.radio(key="colouring").set_value("magnitude").run()
    assert image_panel(at, "▶ flow-of-flow 2/2")[0] != rep_url
    at.checkbox(key="arrows").check().run()
    at.slider(key="opacity").set_value(0.5).run()
    at.radio(key="normalisation").set_value("fixed").run()
    assert "scale 1 px/step" in image_panel(at, "▶ flow-of-flow 2/2")[1], "the fixed scale is stated"
    assert_clean(at)
    assert len(calls) == 1, "the forward pass ran once for all these changes"


def test_a_channel_change_draws_nothing_on_the_server_and_sends_the_row_no_new_data(app_env, monkeypatch):
    """The page holds every channel of every layer (the main row's data file): a channel change draws no panel on
    the server (the grid does not depend on the channel and comes from its cache) and sends the row the same file
    with the new channel."""
    from repflow import flowviz
    from viz_app import main_row

    at = run_app()
    assert_clean(at)
    before = row_args(at)
    file = main_row.served_folder() / before["file"]
    assert row_bytes_sent(at) == file.stat().st_size, "the first run sends the data inside its message"
    drawn = []
    real = flowviz.render_panel
    monkeypatch.setattr(flowviz, "render_panel", lambda flows, channel, *a, **k: drawn.append(channel) or real(
        flows, channel, *a, **k))
    other = (at.number_input(key="channel").value + 1) % 8
    at.number_input(key="channel").set_value(other).run()
    assert_clean(at)
    after = row_args(at)
    assert drawn == [], "no panel drawn on the server"
    assert after["file"] == before["file"] and after["classical"] == before["classical"]
    assert row_bytes_sent(at) == 0, "the page holds the data already: only the file's name is sent again"
    assert after["state"] == {**before["state"], "channel": other}


def test_ranking_and_grid_buttons_select_a_channel(app_env):
    at = run_app()
    top = int(at.button(key="rank_0").label)
    at.button(key="rank_0").click().run()
    assert at.session_state["channel"] == top
    assert f"ch {top}" in image_panel(at, "▶")[1]
    at.pills(key="grid_pick").set_value(5).run()
    assert at.session_state["channel"] == 5
    assert "ch 5" in image_panel(at, "▶")[1]
    at.radio(key="grid_sort").set_value("motion energy at this step").run()
    order = [int(option.removeprefix("ch ")) for option in at.pills(key="grid_pick").options]
    assert sorted(order) == list(range(8)), "every channel is offered once"
    assert order != list(range(8)), "sorted by motion energy, not by number (the seeded model's channels differ)"


def test_play_advances_to_the_last_step_and_stops(app_env):
    at = run_app()
    last = int(at.slider(key="step").max)
    at.select_slider(key="play_speed").set_value(16)
    at.slider(key="step").set_value(last)
    at.toggle(key="play").set_value(True).run()  # from the last step, play starts over at 0
    assert at.session_state["step"] == last
    assert at.session_state["play"] is False
    assert f"t {last}" in image_panel(at, "▶")[1]


def test_valid_video_upload_is_shown(app_env, tmp_path, moving_square):
    at = run_app()
    data = video_bytes(tmp_path, moving_square(10, 48, 56), "mine.mp4")
    at.file_uploader(key="clip_upload").upload("mine.mp4", data, "video/mp4").run()
    assert_clean(at)
    assert "**mine.mp4**" in at.caption[0].value or "mine.mp4" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("corrupt.mp4", b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 200, "Cannot use the video corrupt.mp4"),
        ("notes.mp4", b"just some text, not a video\n" * 10, "Cannot use the video notes.mp4"),
        ("empty.mp4", b"", "the file is empty"),
    ],
)
def test_bad_video_upload_shows_an_error_and_keeps_the_previous_clip(app_env, name, content, message):
    at = run_app()
    before = image_panel(at, "▶")[0]
    at.file_uploader(key="clip_upload").upload(name, content, "video/mp4").run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert image_panel(at, "▶")[0] == before, "the previous clip is still shown"


def test_one_frame_video_is_refused_clearly(app_env, tmp_path, moving_square):
    at = run_app()
    at.file_uploader(key="clip_upload").upload("one.mp4", video_bytes(tmp_path, moving_square(1)), "video/mp4").run()
    assert not at.exception
    assert any("has 1 frame" in e.value and "at least 3" in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize(
    "height, width, gray",
    [(32, 37, False), (120, 45, False), (40, 67, True)],
    ids=["smallest", "portrait-odd-width", "grayscale-odd-width"],
)
def test_odd_sizes_and_grayscale_render(app_env, tmp_path, moving_square, height, width, gray):
    frames = moving_square(6, height, width, gray=gray)
    at = run_app()
    at.file_uploader(key="clip_upload").upload("odd.mp4", video_bytes(tmp_path, frames), "video/mp4").run()
    assert_clean(at)
    assert "on **odd.mp4**" in at.caption[0].value


def test_long_clip_is_cut_to_the_chosen_window(app_env, tmp_path, moving_square):
    at = run_app()
    at.file_uploader(key="clip_upload").upload(
        "long.mp4", video_bytes(tmp_path, moving_square(30, 32, 32)), "video/mp4"
    ).run()
    at.number_input(key="start").set_value(20).run()
    assert_clean(at)
    assert "frames 20–27 of 30" in at.caption[0].value
    assert at.number_input(key="start").max == 22, "the window cannot run past the clip's end"


class WritesAFile:
    """Unpickling this would run code: it must never happen."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_checkpoint_with_pickled_code_is_refused_without_running_it(app_env, tmp_path):
    marker = tmp_path / "code_ran"
    at = run_app()
    payload = pickle.dumps({"model_config": {}, "model": WritesAFile(str(marker))}, protocol=2)
    at.file_uploader(key="model_upload").upload("evil.pt", payload).run()
    assert not at.exception
    assert not marker.exists(), "the pickled code was executed"
    assert any("Cannot use the model evil.pt" in e.value for e in at.error)
    assert image_panel(at, "▶ flow-of-flow 1/2"), "the bundled model is still shown"


def test_checkpoint_of_another_architecture_is_refused(app_env, tmp_path, tiny_model):
    payload = model_payload(tiny_model("fcf"))
    payload["model_config"] = {**payload["model_config"], "width": 16}  # weights no longer fit the config
    save_checkpoint(tmp_path / "other.pt", payload)
    at = run_app()
    at.file_uploader(key="model_upload").upload("other.pt", (tmp_path / "other.pt").read_bytes()).run()
    assert not at.exception
    assert any("Cannot use the model other.pt" in e.value for e in at.error), [e.value for e in at.error]


def test_uploaded_rep_flow_checkpoint_is_used(app_env, tmp_path, tiny_model):
    save_checkpoint(tmp_path / "mine.pt", model_payload(tiny_model("rep", seed=3)))
    at = run_app()
    at.file_uploader(key="model_upload").upload("mine.pt", (tmp_path / "mine.pt").read_bytes()).run()
    assert_clean(at)
    assert "**mine.pt**" in at.caption[0].value
    assert not at.info, "no slot for a flow-of-flow layer the model does not have"
    flows = [c for c in captions(at) if "Rep-Flow" in c or "flow-of-flow" in c]
    assert len(flows) == 1 and flows[0].startswith("▶ Rep-Flow")


def test_an_uploaded_checkpoint_opens_on_its_last_flow_layer(app_env, tmp_path, tiny_model):
    save_checkpoint(tmp_path / "mine.pt", model_payload(tiny_model("fcf", seed=3)))
    at = run_app()
    assert image_panel(at, "▶ flow-of-flow 1/2"), "the bundled model opens on its first flow layer"
    at.file_uploader(key="model_upload").upload("mine.pt", (tmp_path / "mine.pt").read_bytes()).run()
    assert_clean(at)
    assert "**mine.pt**" in at.caption[0].value
    assert at.selectbox(key="layer").value == "flow_block.flow2"
    assert image_panel(at, "▶ flow-of-flow 2/2")


def test_no_model_folder_says_what_to_do(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(tmp_path / "nothing_here"))
    at = run_app()
    assert not at.exception
    assert any("No model checkpoint found" in e.value and "REPFLOW_MODELS_DIR" in e.value for e in at.error)


@pytest.fixture
def deferred_downloads(monkeypatch):
    """file name -> callable that the download button runs when clicked (Streamlit's deferred data)."""
    captured = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        captured[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return captured


def test_export_buttons_give_valid_png_pdf_svg(app_env, deferred_downloads):
    at = open_export(run_app())
    at.number_input(key="start").set_value(3).run()  # a window that does not start at frame 0
    at.number_input(key="export_dpi").set_value(60).run()
    files = {name.rsplit(".", 1)[1]: make for name, make in deferred_downloads.items()}
    assert set(files) >= {"png", "pdf", "svg"}
    png = files["png"]()
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert files["pdf"]().startswith(b"%PDF-")
    svg = files["svg"]()
    assert b"<svg" in svg and b"<image" in svg
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode())
    assert "3→4" in texts and "0→1" not in texts, f"columns headed by the clip's frame numbers: {texts}"


def test_export_tvl1_row_is_in_the_downloaded_figure(app_env, deferred_downloads, monkeypatch):
    from repflow import figure

    pairs = []  # the frame pairs TV-L1 ran on
    monkeypatch.setattr(figure, "pair_tvl1", lambda pair, run=figure.pair_tvl1: pairs.append(pair) or run(pair))

    def download(fmt: str) -> bytes:
        return next(make for name, make in deferred_downloads.items() if name.endswith(f".{fmt}"))()

    def svg_texts() -> list[str]:
        return re.findall(r"<text[^>]*>([^<]*)</text>", download("svg").decode())

    at = open_export(run_app())
    at.number_input(key="export_dpi").set_value(60).run()
    assert "TV-L1" not in svg_texts(), "no TV-L1 row unless asked for"
    at.checkbox(key="export_tvl1").check().run()
    assert_clean(at)
    texts = svg_texts()
    assert "TV-L1" in texts, "the row is labelled"
    assert "OpenCV Dual TV-L1 between the same frames" in " ".join(texts), "the caption says what it is"
    once = len(pairs)
    assert once > 0
    download("png"), download("pdf")
    assert len(pairs) == once, "the other formats reuse the TV-L1 flows of the first download"


def test_gif_animation_is_built_and_offered(app_env):
    at = open_export(run_app())
    at.button(key="build_animation").click().run()
    assert_clean(at)
    settings, data = at.session_state["animation"]
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF" and gif.n_frames == at.slider(key="step").max + 1, (
        "one image per step of the first layer (the one shown)"
    )
    assert np.asarray(gif.convert("RGB")).shape[1] > 4 * 100, "frame, two flow layers and TV-L1 side by side"
    assert at.get("download_button"), "the download button serves these bytes"
    assert image_panel(at, "animation preview")

    at.selectbox(key="model_choice").select(str(app_env / "models" / "a_rep.pt")).run()
    assert_clean(at)
    assert not [i for i in at.image if "animation preview" in (i.captions or [""])[0]], "built for another model"


def test_sidebar_labels_are_whole_and_name_no_install_path(app_env):
    at = run_app()
    assert_clean(at)
    kinds = ("selectbox", "number_input", "slider", "select_slider", "toggle")
    labels = [widget.label for kind in kinds for widget in at.get(kind)]
    absolute_path = re.compile(r"(^|[\s(])/\w")  # "/work/...", "(/tmp/...": a path, not "px/step"
    assert not [label for label in labels if str(app_env) in label or absolute_path.search(label)], labels
    assert at.selectbox(key="model_choice").label == "Bundled model"
    assert at.selectbox(key="clip_choice").label == "Sample clip"
    assert at.select_slider(key="play_speed").label == "Steps per second"
    assert at.select_slider(key="play_speed").proto.label_visibility.value == 0, "the speed label is shown"
    assert "flow-of-flow · R(2+1)D-18 · width 8 · 10 classes" in [c.value for c in at.sidebar.caption]


def test_a_single_channel_heading_reads_as_english(app_env):
    at = run_app()
    at.toggle(key="probes").set_value(True).run()
    at.selectbox(key="layer").select("probe:input").run()
    assert_clean(at)
    assert "The only channel of probe input at step" in " ".join(h.value for h in at.subheader)


def test_export_steps_follow_the_layer(app_env):
    at = run_app()
    assert not at.get("download_button") and not at.get("multiselect"), "the closed export draws no widgets"
    open_export(at)
    assert export_columns(at).options == [str(s) for s in range(7)]
    at.selectbox(key="layer").select("flow_block.flow2").run()
    steps = export_columns(at)
    assert steps.options == [str(s) for s in range(6)] and steps.value[-1] == 5, "flow2 has 6 steps, the last chosen"


def test_replacing_a_good_upload_by_a_broken_one_keeps_the_good_one(app_env, tmp_path, moving_square):
    at = run_app()
    uploader = at.file_uploader(key="clip_upload")
    uploader.upload("mine.mp4", video_bytes(tmp_path, moving_square(10, 48, 56)), "video/mp4").run()
    assert "on **mine.mp4**" in at.caption[0].value
    at.file_uploader(key="clip_upload").clear().run()  # the browser removes the old file before sending the new one
    broken = b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 200
    at.file_uploader(key="clip_upload").upload("broken.mp4", broken, "video/mp4").run()
    assert not at.exception
    assert "on **mine.mp4**" in at.caption[0].value, "the previous upload is still shown"
    assert [w.value for w in at.warning] == ["Showing the video mine.mp4 instead."]
    errors = [e.value for e in at.error]
    assert any(e.startswith("Cannot use the video broken.mp4: ") for e in errors), errors
    assert not [e for e in errors if "repflow_viz" in e or "/tmp" in e], "no internal path in the message"


def test_a_new_clip_model_or_layer_opens_on_its_most_moving_channel_and_step(app_env, tmp_path, moving_square):
    at = run_app()
    assert at.session_state["channel"] == int(at.button(key="rank_0").label), "opens on the most moving channel"
    at.number_input(key="channel").set_value(int(at.button(key="rank_7").label)).run()
    still_then_jump = moving_square(12, 64, 80)[[0] * 5 + [4] * 7]  # the square jumps 8 px from frame 4 to 5
    at.file_uploader(key="clip_upload").upload("jump.mp4", video_bytes(tmp_path, still_then_jump), "video/mp4").run()
    assert_clean(at)
    assert at.session_state["step"] == 4, "the step where the frames move"
    assert at.session_state["channel"] == int(at.button(key="rank_0").label), "the new clip's most moving channel"
    assert "t 4" in image_panel(at, "classical TV-L1")[1]

    chosen = int(at.button(key="rank_5").label)
    at.number_input(key="channel").set_value(chosen).run()
    at.slider(key="step").set_value(1).run()
    at.radio(key="colouring").set_value("magnitude").run()
    at.number_input(key="start").set_value(1).run()
    assert (at.session_state["channel"], at.session_state["step"]) == (chosen, 1), "kept"

    at.selectbox(key="layer").select("flow_block.flow2").run()
    assert at.session_state["channel"] == int(at.button(key="rank_0").label) and at.session_state["step"] == 3, (
        "a new layer: its most moving channel; the jump is now from window frame 3 to 4"
    )
    at.selectbox(key="model_choice").select(str(app_env / "models" / "a_rep.pt")).run()
    assert_clean(at)
    assert at.session_state["channel"] == int(at.button(key="rank_0").label)


def test_a_reopened_page_gets_the_users_upload_back_from_its_address(app_env, tmp_path, moving_square, monkeypatch):
    from viz_app import sources

    monkeypatch.setattr(sources.tempfile, "gettempdir", lambda: str(tmp_path / "cache"))
    samples = tmp_path / "samples"  # two sample clips, to choose the other one
    samples.mkdir()
    shutil.copy(app_env / "clips" / "square.mp4", samples / "a_square.mp4")
    shutil.copy(app_env / "clips" / "square.mp4", samples / "b_square.mp4")
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(samples))
    at = run_app()
    clip = video_bytes(tmp_path, moving_square(10, 48, 56))
    at.file_uploader(key="clip_upload").upload("mine.mp4", clip, "video/mp4").run()
    address = dict(at.query_params)
    assert address["clip_name"] == "mine.mp4"
    assert (tmp_path / "cache" / "repflow_viz" / "clips" / address["clip"]).is_file()

    reopened = new_app()  # a new session: the server no longer has the upload
    reopened.query_params.update(address)
    reopened.run()
    assert_clean(reopened)
    assert "on **mine.mp4**" in reopened.caption[0].value
    assert any("Showing your earlier upload mine.mp4" in c.value for c in reopened.sidebar.caption)
    reopened.selectbox(key="clip_choice").select(str(samples / "b_square.mp4")).run()
    assert r"on **b\_square.mp4**" in reopened.caption[0].value, "choosing a sample clip leaves the upload"
    assert "clip" not in reopened.query_params

    at.file_uploader(key="clip_upload").clear().run()
    assert r"on **a\_square.mp4**" in at.caption[0].value and "clip" not in at.query_params, "removing the upload"


def test_an_address_naming_no_cached_upload_is_ignored_with_a_word(app_env, tmp_path, monkeypatch):
    from viz_app import sources

    monkeypatch.setattr(sources.tempfile, "gettempdir", lambda: str(tmp_path))
    for wanted in ("0123456789abcdef.mp4", "../../etc/passwd"):
        at = new_app()
        at.query_params.update({"clip": wanted, "clip_name": "old.mp4"})
        at.run()
        assert not at.exception and not at.error
        assert "on **square.mp4**" in at.caption[0].value
        assert any("Your earlier upload old.mp4 is no longer kept on the server" in w.value for w in at.warning)


def test_the_tvl1_panel_takes_its_pair_from_the_windows_background_job(moving_square):
    from viz_app import compute

    frames = moving_square(5, 32, 40, textured=True)
    job = compute.clip_classical(frames)
    assert compute.clip_classical(frames.copy()) is job, "one job per window, keyed by the frames' content"
    flows = job.result(timeout=120)
    assert flows.shape == (4, 32, 40, 2)
    np.testing.assert_allclose(flows[2], compute.classical_flow(frames[2:4]), atol=1e-5)  # the same flow either way
    assert compute.classical_step(frames, 2) is not None and np.array_equal(compute.classical_step(frames, 2), flows[2])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness is per thread on Linux only")
def test_the_background_tvl1_yields_the_cpu_to_the_pages():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from viz_app import compute

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def worker_and_its_threads() -> tuple[int, int]:  # what tvl1's own pool of threads gets, started from the worker
        with ThreadPoolExecutor(1) as pool:
            return niceness(), pool.submit(niceness).result()

    page = niceness()
    worker, started = compute.CLASSICAL_WORKER.submit(worker_and_its_threads).result(timeout=60)
    assert worker == started == min(19, page + compute.BACKGROUND_NICENESS) > page
    assert niceness() == page, "the page's own thread keeps its priority"


def test_the_explorers_whole_first_view_does_not_import_pandas():
    """pandas takes half a second to import: only the Dataset page and a chosen "dataset selectivity" ranking need
    it. Checked in a fresh interpreter (this one has imported it for other tests)."""
    import subprocess

    script = (
        "import sys\n"
        "from tests.viz_app.apptest_helpers import assert_clean, run_app\n"
        "at = run_app()\n"
        "assert_clean(at)\n"
        "assert at.get('subheader') and 'Browse all' in ' '.join(h.value for h in at.get('subheader'))\n"
        "print('pandas' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_a_refused_priority_change_leaves_the_background_tvl1_running(monkeypatch):
    from viz_app import compute

    def refuse(*_args):
        raise PermissionError("not permitted")

    monkeypatch.setattr(compute.os, "setpriority", refuse)
    compute.lower_priority()  # no exception: a pool whose initializer raised would fail every TV-L1 job
