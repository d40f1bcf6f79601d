"""The Dataset page (AppTest for its logic; Chromium for the heatmap and the link into the explorer) and the
explorer's default channel from a bundled dissection."""

from __future__ import annotations

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
from tests.viz_app.apptest_helpers import APP, TIMEOUT, assert_clean

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


def test_a_clicked_cell_names_its_channel():
    from viz_app.dataset_page import clicked_channel

    assert clicked_channel({"selection": {"points": [{"x": "waving", "y": "ch 3", "customdata": 3}]}}) == 3
    assert clicked_channel({"selection": {"points": [{"customdata": [5]}]}}) == 5
    assert clicked_channel({"selection": {"points": []}}) is None and clicked_channel(None) is None


def plotly_data(chart) -> list[dict]:
    import json

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

    at.radio(key="ds_order").set_value("class").run()
    at.selectbox(key="ds_class").set_value("waving").run()
    assert_clean(at)
    rows = plotly_data(at.get("plotly_chart")[0])[0]["y"]
    assert len(rows) == 4 and rows[-1] == "ch 1"  # channel 1 barely moves for waving
    labels = [button.label for button in at.get("download_button")]
    assert labels == ["Figure (PNG)", "Heatmap (CSV)", "Tuning (CSV)"]
    at.radio(key="ds_fig_format").set_value("svg").run()
    assert [button.label for button in at.get("download_button")][0] == "Figure (SVG)"


def test_a_folder_that_is_no_dissection_is_one_message(bundled_env, tmp_path):
    at = AppTest.from_string(PAGE, default_timeout=TIMEOUT).run()
    at.radio(key="ds_source").set_value("folder").run()
    at.text_input(key="ds_folder").set_value(str(tmp_path)).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"Cannot open the dissection: {tmp_path} is not a finished dissection "
                                           "(it needs summary.json, channels.csv and clips.parquet or clips.csv from "
                                           "repflow dissect)"]


def test_a_bundled_model_opens_on_its_best_channel_across_the_test_set(bundled_env):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_clean(at)
    layer = at.selectbox(key="layer").value
    expected = load_dissection(bundled_env / "models" / "tiny_fcf.dissection").default_channel(layer)
    assert expected == 2 and at.number_input(key="channel").value == 2
    at.radio(key="rank_by").set_value("selectivity").run()
    assert_clean(at)
    assert at.number_input(key="channel").value == 1  # a new ranking starts at its best: the most selective


def test_the_heatmap_draws_and_a_top_clip_opens_the_explorer_in_chromium(bundled_env, tmp_path):
    from tests.viz_app.test_browser import chromium_page, served_app

    with served_app(bundled_env, tmp_path) as (port, _server), chromium_page(tmp_path) as page:
        page.goto(f"http://127.0.0.1:{port}/dataset", wait_until="domcontentloaded")
        plot = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
        plot.wait_for(timeout=60_000)
        assert page.evaluate("() => document.querySelector('.js-plotly-plot').data[0].z.length") == 4
        # hovering a cell gives its numbers
        cell = page.evaluate("""() => { const gd = document.querySelector('.js-plotly-plot');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
            const row = gd.data[0].y.indexOf('ch 3'), col = gd.data[0].x.indexOf('waving');
            return [r.left + xa._offset + xa.l2p(col), r.top + ya._offset + ya.l2p(row)]; }""")
        page.mouse.move(*cell)
        hover = page.locator(".hoverlayer .hovertext").first
        hover.wait_for(timeout=10_000)
        assert "channel 3 · waving" in hover.text_content() and "selectivity" in hover.text_content()
        page.get_by_label("Channel", exact=True).click()  # the channel picker (a click on a cell selects it too)
        page.get_by_role("option", name="channel 3").click()
        link = page.get_by_role("link", name="in the explorer (flow_block.flow1, channel 3)").first
        link.wait_for(timeout=90_000)  # the top clips now are channel 3's
        page.screenshot(path=str(tmp_path / "dataset.png"), full_page=True)
        clip_name = link.inner_text().split("Open ", 1)[1].split(" in the explorer")[0]
        link.click()
        page.locator("[data-testid='stImage']", has_text="▶").first.wait_for(timeout=90_000)
        caption = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
        assert caption.startswith("tiny_fcf.pt on ") and clip_name in caption
        assert page.get_by_label("Channel (0–7)").input_value() == "3"
        assert page.locator("[data-testid='stImage']", has_text="· ch 3").count()
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
