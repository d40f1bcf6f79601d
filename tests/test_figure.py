"""Tests for repflow.figure: grid layout, PNG/PDF/SVG bytes, animations; analyse_clip on a tiny model."""

import io

import numpy as np
import pytest
from PIL import Image

from repflow import figure, flowviz


@pytest.fixture
def flows():
    """(C=3, T'=4, 6, 6, 2): channel 1 moves right at step 2, channel 2 down everywhere."""
    flows = np.zeros((3, 4, 6, 6, 2), np.float32)
    flows[1, 2, ..., 0] = 1.5
    flows[2, :, ..., 1] = 0.5
    return flows


@pytest.fixture
def frames():
    return np.random.default_rng(0).integers(0, 255, (5, 24, 24, 3), dtype=np.uint8)


def build(flows, frames, legend=True):
    rows = [figure.frame_row(frames, steps=[0, 2], size=(24, 24))]
    rows += figure.flow_rows(flows, channels=[1, 2], steps=[0, 2], size=(24, 24))
    return figure.grid_figure(rows, column_labels=["t = 0", "t = 2"], legend=legend, width_in=4.0, title="demo")


def test_flow_rows_render_each_channel_and_step(flows):
    rows = figure.flow_rows(flows, channels=[0, 1], steps=[1, 2], size=(12, 12), normalisation="clip")
    assert [row.label for row in rows] == ["ch 0\nmax 0", "ch 1\nmax 1.5"], "one maximum per row for a clip"
    still, moving = rows[1].images
    assert (still == 255).all(), "channel 1 does not move at step 1: white"
    assert (moving != 255).any()
    per_frame = figure.flow_rows(flows, channels=[1], steps=[1, 2], size=(12, 12), normalisation="frame")
    assert per_frame[0].notes == ["max 0", "max 1.5"]


def test_out_of_range_channels_and_steps_are_named(flows):
    with pytest.raises(ValueError, match=r"channel \[5\] out of range: there are 3"):
        figure.flow_rows(flows, channels=[5], steps=[0], size=(8, 8))
    with pytest.raises(ValueError, match="time step"):
        figure.flow_rows(flows, channels=[0], steps=[4], size=(8, 8))
    with pytest.raises(ValueError, match="at least one channel"):
        figure.flow_rows(flows, channels=[], steps=[0], size=(8, 8))


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-"), ("svg", b"<?xml")])
def test_figure_bytes_are_valid_files(flows, frames, fmt, magic):
    data = figure.figure_bytes(build(flows, frames), fmt, dpi=80)
    assert data.startswith(magic)
    if fmt == "svg":
        assert b"<svg" in data and b"<image" in data, "the flow panels are embedded images"


def test_png_size_follows_width_and_dpi(flows, frames):
    data = figure.figure_bytes(build(flows, frames, legend=False), "png", dpi=100)
    width, height = Image.open(io.BytesIO(data)).size
    assert width == 400
    one_row = figure.grid_figure([figure.frame_row(frames, steps=[0, 2], size=(24, 24))], column_labels=["a", "b"], width_in=4.0)
    one_width, one_height = Image.open(io.BytesIO(figure.figure_bytes(one_row, "png", dpi=100))).size
    assert one_width == 400 and one_height < height / 2, "height grows with the number of rows"


def test_grid_rejects_ragged_rows():
    row = figure.FigureRow("a", [np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="1 images for 2 columns"):
        figure.grid_figure([row], column_labels=["x", "y"])
    with pytest.raises(ValueError, match="at least one row"):
        figure.grid_figure([], column_labels=["x"])


def test_save_figure_picks_format_from_suffix(tmp_path, flows, frames):
    out = figure.save_figure(build(flows, frames), tmp_path / "sub" / "fig.pdf", dpi=72)
    assert out.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in out.parent.iterdir()] == ["fig.pdf"], "no temporary file left behind"
    with pytest.raises(ValueError, match="figure format"):
        figure.save_figure(build(flows, frames), tmp_path / "fig.jpg")


def test_side_by_side_and_animations(frames, flows):
    flow_image = flowviz.render_flow(flows[1, 2], max_magnitude=1.5, size=(24, 24))
    panel = figure.side_by_side([frames[0], flow_image], ["frame", "flow"])
    assert panel.shape == (24 + 18, 24 * 2 + 4, 3)
    gif = figure.animation_bytes([panel, panel[::-1].copy()], "gif", fps=5)
    image = Image.open(io.BytesIO(gif))
    assert image.format == "GIF" and image.n_frames == 2
    mp4 = figure.animation_bytes([panel, panel], "mp4")
    assert mp4[4:8] == b"ftyp"
    with pytest.raises(ValueError, match="one height"):
        figure.side_by_side([frames[0], flow_image[:10]], ["a", "b"])
    with pytest.raises(ValueError, match="animation format"):
        figure.animation_bytes([panel], "avi")
