"""The Dataset page (AppTest for its logic; Chromium for the heatmap and the link into the explorer) and the
explorer's default channel from a bundled dissection."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.dissect import load_dissection
from repflow.dissect.tables import file_sha1
from repflow.models import ModelConfig, build_model
from repflow.video import write_video
from tests.dissect.fake import CLASSES, write_fake_dissection
from tests.viz_app.apptest_helpers import TIMEOUT, assert_clean, new_app

LAYERS = ("flow_block.flow1", "flow_block.flow2")
PAGE = """
from functools import partial
import streamlit as st
from viz_app import dataset_page
explorer = st.Page(lambda: st.write("explorer"), title="Explorer", url_path="explorer")
st.navigation([st.Page(partial(dataset_page.page, explorer), title="Dataset", url_path="dataset", default=True),
               explorer]).run()
"""


def square_clip(shift: int) -> np.ndarray:
    clip = np.full((12, 48, 64, 3), 40, np.uint8)
    for t in range(12):
        clip[t, 16:32, 4 + shift + 2 * t : 20 + shift + 2 * t] = 220
    return clip


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """models/ with a tiny flow-of-flow checkpoint and its dissection (known numbers, see tests.dissect.fake) over
    six clips in clips/."""
    root = tmp_path_factory.mktemp("dataset_page")
    (root / "models").mkdir()
    torch_model = build_model(ModelConfig(flow="fcf", width=8, num_classes=len(CLASSES), flow_channels=8)).eval()
    payload = {**model_payload(torch_model), "clip": {"frames": 8, "size": 48, "short_side": 48},
               "classes": CLASSES}
    checkpoint = save_checkpoint(root / "models" / "tiny_fcf.pt", payload)
    clips = [write_video(root / "clips" / f"{name}_{i}.mp4", square_clip(3 * i), fps=15)
             for i, name in enumerate(np.repeat(CLASSES, 2))]
    write_fake_dissection(root / "models" / "tiny_fcf.dissection", clips=clips, model=str(checkpoint),
                          model_sha1=file_sha1(checkpoint), layers=LAYERS)
    return root


@pytest.fixture
def bundled_env(bundled, monkeypatch):
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(bundled / "models"))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(bundled / "clips"))
    return bundled


def test_a_clicked_cell_names_its_channel_and_class():
    from viz_app.dataset_page import clicked_cell

    point = {"x": "waving", "y": "ch 3", "customdata": [3, "waving"], "curve_number": 1}
    assert clicked_cell({"selection": {"points": [point]}}) == (3, "waving")
    assert clicked_cell({"selection": {"points": []}}) is None and clicked_cell(None) is None


def plotly_data(chart) -> list[dict]:
    return json.loads(chart.proto.spec)["data"]


def test_the_page_draws_the_bundled_dissection_and_follows_the_channel(bundled_env):
    at = AppTest.from_string(PAGE, default_timeout=TIMEOUT).run()
    assert_clean(at)
    charts = at.get("plotly_chart")
    heatmap, tuning = plotly_data(charts[0]), plotly_data(charts[1])
    assert heatmap[0]["type"] == "heatmap" and heatmap[0]["x"] == CLASSES
    assert heatmap[0]["y"][0] == "ch 1"  # sorted by selectivity: channel 1 moves for boxing only
    assert any("selectivity" in text for text in heatmap[1]["hovertext"])
    assert at.selectbox(key="ds_channel_flow_block.flow1").value == 1
    assert [trace["name"] for trace in tuning] == CLASSES
    assert "boxing" in at.markdown[0].value

    at.selectbox(key="ds_channel_flow_block.flow1").set_value(3).run()
    assert_clean(at)
    tuning = {trace["name"]: trace["r"] for trace in plotly_data(at.get("plotly_chart")[1])}
    assert tuning["waving"][2] == pytest.approx(1) and tuning["boxing"][4] == pytest.approx(1)  # up vs left
    at.selectbox(key="ds_clip_class").set_value("waving").run()
    assert_clean(at)
    assert set(at.dataframe[0].value["label"]) == {"waving"} and "channel 3 in waving" in at.subheader[0].value
    bold = {trace["name"]: trace["line"]["width"] for trace in plotly_data(at.get("plotly_chart")[1])}
    assert bold["waving"] > bold["boxing"]
    assert len(json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["shapes"]) == 2  # its row and its cell

    at.radio(key="ds_order").set_value("class").run()
    at.selectbox(key="ds_class").set_value("waving").run()
    assert_clean(at)
    rows = plotly_data(at.get("plotly_chart")[0])[0]["y"]
    assert len(rows) == 4 and rows[-1] == "ch 1"  # channel 1 barely moves for waving
    labels = [button.label for button in at.get("download_button")]
    assert labels == ["Figure (PNG)", "Heatmap (CSV)", "Tuning (CSV)"]
    at.radio(key="ds_fig_format").set_value("svg").run()
    assert [button.label for button in at.get("download_button")][0] == "Figure (SVG)"


CLICK_3_WAVING = {"selection": {"points": [{"x": "waving", "y": "ch 3", "customdata": [3, "waving"]}],
                                 "point_indices": [10], "box": [], "lasso": []}}  # as a browser reports the click


def test_a_clicked_cell_chooses_its_channel_and_class(bundled_env):
    at = AppTest.from_string(PAGE, default_timeout=TIMEOUT).run()
    channel, clip_class = at.selectbox(key="ds_channel_flow_block.flow1"), at.selectbox(key="ds_clip_class")
    assert (channel.value, clip_class.value) == (1, None)
    at.session_state["ds_heatmap_flow_block.flow1"] = CLICK_3_WAVING
    at.run()
    assert_clean(at)
    channel, clip_class = at.selectbox(key="ds_channel_flow_block.flow1"), at.selectbox(key="ds_clip_class")
    assert (channel.value, clip_class.value) == (3, "waving")
    assert "channel 3 in waving" in at.subheader[0].value


def test_a_kept_selection_does_not_undo_the_channel_picker(bundled_env):
    at = AppTest.from_string(PAGE, default_timeout=TIMEOUT).run()
    at.selectbox(key="ds_channel_flow_block.flow1").set_value(3)
    at.selectbox(key="ds_clip_class").set_value("waving").run()
    at.session_state["ds_heatmap_flow_block.flow1"] = CLICK_3_WAVING  # a click on the cell already chosen: the
    at.run()  # figure is unchanged, so the chart keeps its selection on later runs
    at.selectbox(key="ds_channel_flow_block.flow1").set_value(0).run()
    assert_clean(at)
    assert at.selectbox(key="ds_channel_flow_block.flow1").value == 0


def test_a_folder_that_is_no_dissection_is_one_message(bundled_env, tmp_path):
    at = AppTest.from_string(PAGE, default_timeout=TIMEOUT).run()
    at.radio(key="ds_source").set_value("folder").run()
    at.text_input(key="ds_folder").set_value(str(tmp_path)).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"Cannot open the dissection: {tmp_path} is not a finished dissection "
                                           "(it needs summary.json, channels.csv and clips.parquet or clips.csv from "
                                           "repflow dissect)"]


def test_a_bundled_model_opens_on_its_best_channel_across_the_test_set(bundled_env):
    at = new_app().run()
    assert_clean(at)
    layer = at.selectbox(key="layer").value
    expected = load_dissection(bundled_env / "models" / "tiny_fcf.dissection").default_channel(layer)
    assert expected == 2 and at.number_input(key="channel").value == 2
    at.radio(key="rank_by").set_value("selectivity").run()
    assert_clean(at)
    assert at.number_input(key="channel").value == 1  # a new ranking starts at its best: the most selective


CELL_AT = """([row, column, dx, dy]) => { const gd = document.querySelector('.js-plotly-plot');
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
    const i = gd.data[0].y.indexOf(row), j = gd.data[0].x.indexOf(column);
    const w = xa._length / gd.data[0].x.length, h = ya._length / gd.data[0].y.length;
    return [r.left + xa._offset + xa.l2p(j) + dx * w, r.top + ya._offset + ya.l2p(i) + dy * h]; }"""

TUNING_PLOT = "[...document.querySelectorAll('.js-plotly-plot')].find((gd) => gd.data[0].type === 'scatterpolar')"


def click_cell(page, channel: int, class_name: str, dx: float = 0.0, dy: float = 0.0) -> None:
    """A real mouse click on the heatmap cell (channel, class), ``dx``/``dy`` cell widths/heights off its centre."""
    point = page.evaluate(CELL_AT, [f"ch {channel}", class_name, dx, dy])
    page.mouse.move(*point)
    page.locator(".hoverlayer .hovertext").first.wait_for(timeout=10_000)
    page.mouse.click(*point)


def test_a_click_on_a_heatmap_cell_and_on_a_top_clip_in_chromium(bundled_env, tmp_path):
    from tests.viz_app.test_browser import chromium_page, row_panels, served_app

    with served_app(bundled_env, tmp_path) as (port, _server), chromium_page(tmp_path) as page:
        page.goto(f"http://127.0.0.1:{port}/dataset", wait_until="domcontentloaded")
        plot = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
        plot.wait_for(timeout=60_000)
        assert page.evaluate("() => document.querySelector('.js-plotly-plot').data[0].z.length") == 4
        page.get_by_role("heading", name="Top clips of channel 1").wait_for(timeout=60_000)  # the most selective
        # hovering a cell gives its numbers, even away from the cell's centre
        page.mouse.move(*page.evaluate(CELL_AT, ["ch 3", "waving", 0.4, -0.3]))
        hover = page.locator(".hoverlayer .hovertext").first
        hover.wait_for(timeout=10_000)
        assert "channel 3 · waving" in hover.text_content() and "selectivity" in hover.text_content()
        # clicking it chooses channel 3 and the class waving: tuning plot and top clips follow
        click_cell(page, 3, "waving", 0.4, -0.3)
        page.get_by_role("heading", name="Top clips of channel 3 in waving").wait_for(timeout=60_000)
        assert "channel 3:" in page.evaluate(f"() => {TUNING_PLOT}.layout.title.text")
        bold = page.evaluate(f"() => Object.fromEntries({TUNING_PLOT}.data.map((t) => [t.name, t.line.width]))")
        assert bold["waving"] > bold["boxing"]
        links = page.get_by_role("link", name="in the explorer (flow_block.flow1, channel 3)")
        assert sorted(text.split("Open ")[1].split(" in ")[0] for text in links.all_inner_texts()) == [
            "waving_2.mp4", "waving_3.mp4"]  # the two waving clips, no other class
        assert page.get_by_label("Channel", exact=True).input_value() == "channel 3"
        assert page.get_by_label("Clips of", exact=True).input_value() == "waving"
        page.screenshot(path=str(tmp_path / "dataset.png"), full_page=True)
        # a second click, on another cell, is followed too
        click_cell(page, 0, "boxing")
        link = page.get_by_role("link", name="in the explorer (flow_block.flow1, channel 0)").first
        link.wait_for(timeout=60_000)
        page.get_by_role("heading", name="Top clips of channel 0 in boxing").wait_for(timeout=10_000)
        assert "channel 0:" in page.evaluate(f"() => {TUNING_PLOT}.layout.title.text")
        clip_name = link.inner_text().split("Open ", 1)[1].split(" in the explorer")[0]
        assert clip_name.startswith("boxing_")
        link.click()
        row_panels(page, "▶").first.wait_for(timeout=90_000)
        caption = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
        assert caption.startswith("tiny_fcf.pt on ") and clip_name in caption
        assert page.get_by_label("Channel (0–7)").input_value() == "0"
        row_panels(page, "▶ flow-of-flow 1/2 · ch 0 ·").first.wait_for(timeout=30_000)
        assert not page.locator("[data-testid='stException']").count()
    if os.environ.get("REPFLOW_KEEP_SCREENSHOT"):
        shutil.copy(tmp_path / "dataset.png", Path(os.environ["REPFLOW_KEEP_SCREENSHOT"]))


def test_the_dataset_selectivity_ranking_reads_the_dissection(tmp_path):
    from repflow.analysis import ClipAnalysis
    from tests.dissect.fake import LAYER
    from viz_app.ranking import rank_channels

    flows = np.random.default_rng(0).normal(size=(4, 2, 4, 4, 2)).astype(np.float32)
    analysis = ClipAnalysis(frames=np.zeros((3, 16, 16, 3), np.uint8), flows={LAYER: flows},
                            layer_labels={LAYER: "Rep-Flow"}, layer_kinds={LAYER: "rep"}, probabilities=None)
    dissection = load_dissection(write_fake_dissection(tmp_path / "d"))
    ranked = rank_channels(analysis, LAYER, "selectivity", key=(), dataset=dissection)
    assert ranked.by == "selectivity" and ranked.order[0] == 1 and len(ranked.order) == 4
    assert "dataset selectivity 0.9" in ranked.describe(1) and "boxing" in ranked.describe(1)
    fallback = rank_channels(analysis, LAYER, "selectivity", key=(), dataset=None)
    assert fallback.by == "energy" and "no bundled dataset dissection" in fallback.note
