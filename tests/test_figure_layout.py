"""Journal layout of repflow.figure: nothing overlaps or leaves the figure at any number of clips and steps,
the width is the one asked for, fonts are embedded TrueType (PDF) and text (SVG), columns carry frame numbers."""

import re

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from repflow import figure, flowviz
from repflow.analysis import ClipAnalysis

LONG_NAME = "a_very_long_clip_name_recorded_by_camera_2024_take_3.mp4"


def analysis(seed: int, *, steps: int = 15, channels: int = 6) -> ClipAnalysis:
    """A fake flow-of-flow analysis of ``steps`` + 2 frames: random frames, smooth random flows."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 255, (steps + 2, 32, 32, 3), dtype=np.uint8)
    first = rng.normal(0, 1, (channels, steps + 1, 4, 4, 2)).astype(np.float32)
    second = rng.normal(0, 2, (channels, steps, 4, 4, 2)).astype(np.float32)
    return ClipAnalysis(
        frames=frames, flows={"flow1": first, "flow2": second},
        layer_labels={"flow1": "flow-of-flow 1/2", "flow2": "flow-of-flow 2/2"},
        layer_kinds={"flow1": "fcf-1", "flow2": "fcf-2"}, probabilities=None,
    )


def layout_boxes(fig):
    """(text boxes with their strings, image-axes boxes, figure box) in display pixels, after drawing."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [
        (text.get_text(), text.get_window_extent(renderer))
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    images = [axes.get_window_extent(renderer) for axes in fig.axes if axes.images]
    return texts, images, fig.bbox


def assert_clean_layout(fig):
    texts, images, frame = layout_boxes(fig)
    tolerance = 0.5  # pixels: boxes that only touch do not overlap
    for name, box in texts:
        assert box.x0 >= frame.x0 - tolerance and box.x1 <= frame.x1 + tolerance, f"{name!r} leaves the figure sideways"
        assert box.y0 >= frame.y0 - tolerance and box.y1 <= frame.y1 + tolerance, f"{name!r} leaves the figure"
        shrunk = box.padded(-tolerance)
        for image in images:
            assert not shrunk.overlaps(image), f"{name!r} overlaps an image"
    for i, (name, box) in enumerate(texts):
        for other, other_box in texts[i + 1 :]:
            assert not box.padded(-tolerance).overlaps(other_box.padded(-tolerance)), f"{name!r} overlaps {other!r}"
    for i, box in enumerate(images):
        assert box.x0 >= frame.x0 - tolerance and box.x1 <= frame.x1 + tolerance
        for other in images[i + 1 :]:
            assert not box.padded(-tolerance).overlaps(other.padded(-tolerance)), "two images overlap"
    return texts


@pytest.mark.parametrize(
    "clips, steps, width, normalisation, colouring",
    [
        (1, 1, 3.3, "clip", "direction"),
        (1, 15, 3.3, "clip", "direction"),
        (1, 4, 3.3, "clip", "magnitude"),
        (3, 4, 7.0, "clip", "direction"),
        (3, 15, 7.0, "frame", "direction"),
        (3, 15, 3.3, "frame", "magnitude"),
        (5, 6, 3.3, "fixed", "magnitude"),
        (5, 9, 7.0, "clip", "direction"),
    ],
)
def test_no_text_overlaps_and_everything_inside(clips, steps, width, normalisation, colouring):
    analyses = [(LONG_NAME if index == 1 else f"clip {index}", analysis(index)) for index in range(clips)]
    options = flowviz.PanelOptions(normalisation, fixed_max=2.0, style=flowviz.FlowStyle(colouring=colouring), size=16)
    fig = figure.paper_figure(analyses, layer="flow2", channels=[0, 3], steps=list(range(steps)), options=options,
                              frame_numbers=list(range(10, 27)), width_in=width, title="Learned flows")
    assert fig.get_figwidth() == pytest.approx(width), "the journal's width, whatever the content"
    texts = assert_clean_layout(fig)
    strings = [name.replace("\n", "") for name, _ in texts]  # wrapped labels read as one
    assert "10→12" in strings, "columns carry the clip's frame numbers (fcf-2 spans two frames)"
    assert not any(name.startswith("t = ") for name in strings)
    assert "frames" in strings, "the corner label is whole"
    if clips > 1:
        assert "(a) clip 0" in strings and any(name.startswith("(b) a_very_long") for name in strings)
    if normalisation != "frame":
        assert any("px/step" in name for name in strings), "the scale is stated"
    if colouring == "magnitude":
        assert any(name.startswith("|u|") for name in strings), "the colour bar has its units"


def test_height_follows_content():
    def height(clips, steps):
        analyses = [(f"clip {index}", analysis(index)) for index in range(clips)]
        return figure.paper_figure(analyses, layer="flow2", channels=[0, 1, 2], steps=list(range(steps)),
                                   options=flowviz.PanelOptions(size=16), width_in=7.0).get_figheight()

    one, three = height(1, 6), height(3, 6)
    assert 2.5 < one < 5.0 and three < 3.2 * one, f"{one:.2f} in, {three:.2f} in"
    assert height(1, 12) < one, "more columns: smaller cells"


def test_pdf_fonts_are_embedded_truetype_and_svg_text_is_text():
    fig = figure.paper_figure([("clapping", analysis(0))], layer="flow2", channels=[0], steps=[0, 1, 2],
                              options=flowviz.PanelOptions(size=16), width_in=3.3)
    before = dict(matplotlib.rcParams)
    pdf = figure.figure_bytes(fig, "pdf")
    assert re.search(rb"/Subtype\s*/(TrueType|CIDFontType2)", pdf), "TrueType (Type 42) fonts"
    assert b"/FontFile2" in pdf, "the font program is embedded"
    assert not re.search(rb"/Subtype\s*/Type3", pdf), "no Type 3 fonts (journal checkers reject them)"
    svg = figure.figure_bytes(fig, "svg").decode()
    assert "<text" in svg and "ch 0" in svg and "0→2" in svg, "labels are text elements"
    assert dict(matplotlib.rcParams) == before, "font settings are local to the save"


def test_long_labels_are_wrapped_or_cut_to_their_column():
    assert figure.fit_lines("ch 3 scale 2.36 px/step", 0.5).count("\n") >= 1
    cut = figure.fit_lines(LONG_NAME, 0.6)
    assert cut.endswith("…") and figure.text_width_in(cut) <= 0.6


def test_animation_shows_frame_tvl1_and_every_channel_of_every_layer():
    clip = analysis(0, steps=4, channels=3)
    classical = np.zeros((5, 32, 32, 2), np.float32)
    classical[:, 8:24, 8:24, 0] = 2.0
    images = figure.animation_panels(clip, channels=[0, 2], options=flowviz.PanelOptions(size=40),
                                     classical=classical, frame_numbers=[5, 6, 7, 8, 9, 10], name="walk", legend=False)
    assert len(images) == 5, "one image per step of the first flow layer"
    strip, gap = 31, 4  # two caption lines: what the panel is, and its frame number or scale
    assert images[0].shape == (2 * (40 + strip), 4 * 40 + 3 * gap, 3), "2 channel rows x (frame, TV-L1, 2 layers)"
    tvl1 = images[0][strip : strip + 40, 44:84]
    assert (tvl1[16:24, 16:24] != 255).any() and (tvl1[:4, :4] == 255).all(), "the TV-L1 panel shows the motion"
    second_row = images[0][40 + 2 * strip :, 88:]
    assert (second_row != 255).any(), "the second channel is drawn"
    last = images[-1]
    assert (last[strip : strip + 40, 132:] == 255).all() and (last[2 * strip + 40 :, 132:] == 255).all(), (
        "flow-of-flow 2/2 has no last step: blank panels"
    )
    stacked = figure.stack_animations([images, images[:3]])
    assert len(stacked) == 5 and stacked[0].shape[0] == 2 * images[0].shape[0] + 8


def test_animation_labels_and_legend_are_those_of_the_figures(monkeypatch):
    clip = analysis(0, steps=4, channels=3)
    options = flowviz.PanelOptions(size=40)
    plain = figure.animation_panels(clip, channels=[1], options=options, frame_numbers=[0, 2, 4, 6, 8, 10],
                                    legend=False)
    labels = []
    real = figure.side_by_side

    def recording(panels, texts, **kwargs):
        labels.append(list(texts))
        return real(panels, texts, **kwargs)

    monkeypatch.setattr(figure, "side_by_side", recording)
    keyed = figure.animation_panels(clip, channels=[1], options=options, frame_numbers=[0, 2, 4, 6, 8, 10])
    scales = [label.split(" · ")[-1] for label in labels[1][1:3]]
    assert labels[1] == ["frame 2\n", f"flow-of-flow 1/2 · ch 1\n2→4 · {scales[0]}",
                         f"flow-of-flow 2/2 · ch 1\n2→6 · {scales[1]}", "direction = hue\nwhite = still"]
    assert "px/step" in labels[1][1], "each panel states its scale"
    width = plain[0].shape[1]
    np.testing.assert_array_equal(keyed[1][:, :width], plain[1], "the legend stands beside the panels, not on them")
    wheel = keyed[1][31:, width + 4 :]
    assert wheel.shape[1] == 40 and (wheel != 255).any() and (wheel[:3, :3] == 255).all(), "a wheel right of the panels"


def test_a_figure_taller_than_the_page_gets_smaller_panels_and_stays_clean():
    analyses = [(f"clip {index}", analysis(index)) for index in range(5)]
    options = flowviz.PanelOptions(size=16)
    free = figure.paper_figure(analyses, layer="flow2", channels=[0, 1], steps=list(range(5)), options=options)
    capped = figure.paper_figure(analyses, layer="flow2", channels=[0, 1], steps=list(range(5)), options=options,
                                 max_height_in=9.0)
    assert free.get_figheight() > 9.0 >= capped.get_figheight() > 8.8, "the largest panels that fit the page"
    assert capped.get_figwidth() == pytest.approx(7.0)
    assert_clean_layout(capped)
