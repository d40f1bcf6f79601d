"""Tests for the honest colour scales of repflow.flowviz: robust per-channel clip scale, still cells white,
the magnitude colours and their colour bar."""

import numpy as np
import pytest

from repflow import flowviz


def moving_channels(seed: int = 0) -> np.ndarray:
    """(2, 6, 10, 12, 2): channel 1 is channel 0 with every vector 10x shorter."""
    strong = np.random.default_rng(seed).normal(size=(6, 10, 12, 2)).astype(np.float32)
    return np.stack([strong, strong / 10])


def saturation(image: np.ndarray) -> np.ndarray:
    """How far each pixel is from white (0 = white), averaged over RGB."""
    return 255.0 - image.astype(np.float64).mean(axis=-1)


def test_clip_scale_is_the_99th_percentile_per_channel_repeated_over_steps():
    flows = moving_channels()
    scales = flowviz.panel_scales(flows)
    assert scales.shape == (2, 6)
    expected = np.percentile(np.hypot(flows[0, ..., 0], flows[0, ..., 1]), 99)
    assert scales[0] == pytest.approx(np.full(6, expected))
    assert scales[1] == pytest.approx(scales[0] / 10, rel=1e-5)


def test_a_channel_with_ten_times_less_motion_is_drawn_ten_times_paler_with_the_clip_scale():
    flows = moving_channels()
    one_scale = flowviz.panel_scales(flows)[0, 0]  # the strong channel's clip scale, as a fixed scale for both
    strong = flowviz.flow_to_rgb_still_white(flows[0, 2], one_scale, fraction=0.0)
    weak = flowviz.flow_to_rgb_still_white(flows[1, 2], one_scale, fraction=0.0)
    inside = np.hypot(flows[0, 2, ..., 0], flows[0, 2, ..., 1]) <= one_scale  # beyond the scale colours darken
    ratio = saturation(strong)[inside].mean() / saturation(weak)[inside].mean()
    assert ratio == pytest.approx(10, rel=0.1)


def test_per_frame_scale_stretches_every_panel_and_hides_the_difference():
    flows = moving_channels()
    frame = flowviz.panel_scales(flows, "frame")
    strong = flowviz.flow_to_rgb_still_white(flows[0, 2], frame[0, 2])
    weak = flowviz.flow_to_rgb_still_white(flows[1, 2], frame[1, 2])
    assert np.abs(strong.astype(int) - weak).max() <= 1, "per frame, 10x less motion looks the same"
    assert frame[0, 2] != frame[0, 3]


def test_robust_scale_ignores_a_single_outlier_cell():
    flows = np.random.default_rng(1).normal(size=(1, 8, 28, 28, 2)).astype(np.float32)
    before = flowviz.panel_scales(flows)[0, 0]
    flows[0, 3, 4, 5] = (500.0, 0.0)
    assert flowviz.panel_scales(flows)[0, 0] == pytest.approx(before, rel=0.01)
    assert flowviz.max_magnitude(flows) == pytest.approx(500.0), "the plain maximum would be the outlier"


def test_fixed_scale_and_bad_modes():
    flows = moving_channels()
    assert (flowviz.panel_scales(flows, "fixed", fixed_max=2.5) == 2.5).all()
    with pytest.raises(ValueError, match="positive maximum"):
        flowviz.panel_scales(flows, "fixed")
    with pytest.raises(ValueError, match="normalisation must be one of"):
        flowviz.panel_scales(flows, "global")
    with pytest.raises(ValueError, match=r"\(C, T, H, W, 2\)"):
        flowviz.panel_scales(flows[0])


def test_still_cells_are_white_and_moving_cells_are_not():
    flow = np.zeros((4, 4, 2), np.float32)
    flow[0, 0] = (0.04, 0.0)  # 4 % of the scale: still
    flow[1, 1] = (0.0, 0.06)  # 6 %: drawn
    flow[2, 2] = (-1.0, 0.0)
    for image in (flowviz.flow_to_rgb_still_white(flow, 1.0), flowviz.magnitude_to_rgb(flow, 1.0)):
        assert (image[0, 0] == 255).all() and (image[3, 3] == 255).all()
        assert (image[1, 1] < 255).any() and (image[2, 2] < 255).any()


def test_a_still_channel_is_white_whatever_the_scale():
    still = np.zeros((1, 3, 5, 5, 2), np.float32)
    scale = flowviz.panel_scales(still)[0, 0]
    assert scale == 0.0
    assert (flowviz.flow_to_rgb_still_white(still[0, 0], scale) == 255).all()
    assert (flowviz.magnitude_to_rgb(still[0, 0], scale) == 255).all()


def test_magnitude_colours_darken_with_speed_and_saturate_at_the_scale():
    flow = np.zeros((1, 4, 2), np.float32)
    flow[0, :, 0] = (0.2, 0.6, 1.0, 3.0)
    image = flowviz.magnitude_to_rgb(flow, 1.0)
    brightness = image[0].astype(int).sum(axis=-1)
    assert brightness[0] > brightness[1] > brightness[2]
    assert (image[0, 2] == image[0, 3]).all(), "beyond the scale: the darkest colour"


def test_magnitude_colour_bar_has_ticks_and_units():
    bar = flowviz.magnitude_colour_bar(0.8, height=224)
    assert bar.shape[0] == 224 and bar.dtype == np.uint8
    assert (bar < 128).any(), "tick labels and units are drawn"
    with pytest.raises(ValueError, match="positive scale"):
        flowviz.magnitude_colour_bar(0.0)
