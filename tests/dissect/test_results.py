"""Reading a dissection: the views the app shows, the default channel, the journal figure."""

from __future__ import annotations

import json
import shutil

import pytest

from repflow.dissect import bundled_dissection, default_channels, load_dissection
from repflow.dissect.figure import dissection_figure
from repflow.dissect.tables import file_sha1
from repflow.figure import figure_bytes
from tests.dissect.fake import CHANNELS, CLASSES, LAYER, write_fake_dissection


@pytest.fixture
def dissection(tmp_path):
    return load_dissection(write_fake_dissection(tmp_path / "d"))


def test_views_of_a_dissection(dissection):
    assert dissection.layers == [LAYER] and dissection.classes == CLASSES and dissection.has_agreement
    assert dissection.channel_order(LAYER, "selectivity")[0] == 1
    scores = dissection.channel_scores(LAYER)
    assert scores.loc[1, "preferred_class"] == "boxing" and scores.loc[1, "selectivity"] > 0.9
    assert scores.loc[0, "selectivity"] < 0.05  # moves the same for every class
    means = dissection.class_means(LAYER)
    assert means.shape == (CHANNELS, len(CLASSES)) and means.max(axis=1).round(6).eq(1).all()
    assert dissection.channel_order(LAYER, "class", class_name="boxing")[0] == 1
    tuning = dissection.tuning(LAYER, 3)
    assert tuning.loc["waving", "dir2"] == pytest.approx(1) and tuning.loc["boxing", "dir4"] == pytest.approx(1)
    top = dissection.top_clips(LAYER, 1, count=2)
    assert list(top["label"]) == ["boxing", "boxing"] and top["energy"].is_monotonic_decreasing
    waving = dissection.top_clips(LAYER, 1, count=5, class_name="waving")
    assert list(waving["label"]) == ["waving", "waving"] and waving["energy"].is_monotonic_decreasing
    assert dissection.default_channel(LAYER) == 2
    with pytest.raises(ValueError, match="order"):
        dissection.channel_order(LAYER, "loudness")


def test_a_bundled_dissection_belongs_to_its_own_checkpoint(tmp_path):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    assert default_channels(checkpoint) == {}
    write_fake_dissection(tmp_path / "model.dissection", model_sha1=file_sha1(checkpoint))
    assert bundled_dissection(checkpoint) == tmp_path / "model.dissection"
    assert default_channels(checkpoint) == {LAYER: 2}
    checkpoint.write_bytes(b"retrained weights")  # another model: its old dissection does not apply
    assert bundled_dissection(checkpoint) is None and default_channels(checkpoint) == {}


def test_default_channels_stored_in_the_summary_are_read_without_the_tables(tmp_path):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    folder = write_fake_dissection(tmp_path / "model.dissection", model_sha1=file_sha1(checkpoint))
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "default_channels": {LAYER: 5}}))
    (folder / "channels.csv").unlink()  # the tables are not read
    assert default_channels(checkpoint) == {LAYER: 5}


def test_not_a_dissection_is_one_clear_error(tmp_path):
    write_fake_dissection(tmp_path / "d")
    (tmp_path / "d" / "clips.parquet").unlink()
    with pytest.raises(ValueError, match="not a finished dissection"):
        load_dissection(tmp_path / "d")
    shutil.rmtree(tmp_path / "d")
    with pytest.raises(ValueError, match="not a finished dissection"):
        load_dissection(tmp_path / "d")


def test_the_journal_figure_keeps_fonts_as_text(dissection):
    figure = dissection_figure(dissection, LAYER, 1)
    assert figure.get_size_inches()[0] == pytest.approx(7.0)
    svg = figure_bytes(figure, "svg").decode()
    assert "boxing" in svg and "ch 1" in svg  # text elements, not paths
    pdf = figure_bytes(figure, "pdf")
    assert b"/FontFile2" in pdf  # TrueType embedded
    assert figure_bytes(figure, "png")[:4] == b"\x89PNG"
