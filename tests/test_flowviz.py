"""Tests for repflow.flowviz: colours checked against flow_vis, normalisation, legend, arrows."""

import flow_vis
import numpy as np
import pytest

from repflow import colour_tables, flowviz


def uniform_flow(u: float, v: float, size: int = 8) -> np.ndarray:
    flow = np.zeros((size, size, 2), np.float32)
    flow[..., 0], flow[..., 1] = u, v
    return flow


def random_flow(seed: int = 0, shape=(12, 10, 2)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_colours_match_flow_vis_with_per_frame_normalisation():
    flow = random_flow()
    ours = flowviz.flow_to_rgb(flow, flowviz.max_magnitude(flow)).astype(int)
    reference = flow_vis.flow_to_color(flow).astype(int)
    # flow_vis divides by (max + 1e-5): colours may differ by one level after flooring.
    assert np.abs(ours - reference).max() <= 1


def test_zero_flow_is_white_for_every_normalisation():
    still = np.zeros((5, 7, 2), np.float32)
    assert (flowviz.flow_to_rgb(still, 0.0) == 255).all()
    assert (flowviz.flow_to_rgb(still, 3.0) == 255).all()


def test_negative_components_keep_their_direction():
    left, right = flowviz.flow_to_rgb(uniform_flow(-1, 0), 1.0), flowviz.flow_to_rgb(uniform_flow(1, 0), 1.0)
    up, down = flowviz.flow_to_rgb(uniform_flow(0, -1), 1.0), flowviz.flow_to_rgb(uniform_flow(0, 1), 1.0)
    colours = {tuple(img[0, 0]) for img in (left, right, up, down)}
    assert len(colours) == 4, "four directions must get four colours"
    assert (255, 255, 255) not in colours, "negative motion must not be drawn as zero flow"


def test_flow_vis_clip_option_is_the_bug_we_avoid():
    # flow_vis.flow_to_color(clip_flow=...) clips each component to [0, max]: leftward flow turns white.
    assert (flow_vis.flow_to_color(uniform_flow(-1, 0), clip_flow=2.0) == 255).all()
    assert not (flowviz.flow_to_rgb(uniform_flow(-1, 0), 2.0) == 255).all()


def test_saturation_grows_with_magnitude_and_direction_is_kept():
    weak, strong = flowviz.flow_to_rgb(uniform_flow(0.2, 0.1), 1.0), flowviz.flow_to_rgb(uniform_flow(0.8, 0.4), 1.0)
    assert weak[0, 0].min() > strong[0, 0].min(), "a longer vector is more saturated (less white)"
    assert np.argmin(weak[0, 0]) == np.argmin(strong[0, 0]), "same direction, same hue"


def test_fixed_max_draws_longer_vectors_darker():
    inside = flowviz.flow_to_rgb(uniform_flow(1.0, 0), 1.0)
    beyond = flowviz.flow_to_rgb(uniform_flow(3.0, 0), 1.0)
    assert beyond[0, 0].max() < inside[0, 0].max()


def test_render_panel_uses_the_one_scale_of_each_normalisation():
    flows = np.stack([uniform_flow(1, 0), uniform_flow(0, 4)])[None]  # one channel, two steps
    assert flowviz.NORMALISATIONS[0] == "clip" and flowviz.PanelOptions().normalisation == "clip", "the default"
    for mode, fixed, expected in [("frame", None, 1.0), ("clip", None, 4.0), ("fixed", 2.5, 2.5)]:
        options = flowviz.PanelOptions(mode, fixed_max=fixed, size=8)
        image, scale = flowviz.render_panel(flows, 0, 0, options)
        assert scale == pytest.approx(expected) == flowviz.panel_scales(flows, mode, fixed_max=fixed)[0, 0]
        np.testing.assert_array_equal(image, flowviz.render_flow(flows[0, 0], max_magnitude=expected, size=(8, 8)))
    assert flowviz.scale_note(2.3612) == "scale 2.36 px/step"
    with pytest.raises(ValueError, match="positive maximum"):
        flowviz.render_panel(flows, 0, 0, flowviz.PanelOptions("fixed", fixed_max=0))
    with pytest.raises(ValueError, match="normalisation must be one of"):
        flowviz.render_panel(flows, 0, 0, flowviz.PanelOptions("global"))


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 2), np.float32), np.zeros((4, 4, 2), np.int64)]
)
def test_bad_shapes_and_dtypes_are_named(bad):
    with pytest.raises(ValueError, match="flow must"):
        flowviz.flow_to_rgb(bad, 1.0)


def test_nan_flow_raises_instead_of_drawing_garbage():
    flow = uniform_flow(1, 0)
    flow[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        flowviz.flow_to_rgb(flow, 1.0)


def test_motion_energy_ranks_moving_channels_first():
    flows = np.zeros((3, 2, 4, 4, 2), np.float32)
    flows[1] = 0.5
    flows[2, 0] = 2.0
    assert flowviz.flow_energy(flows) == pytest.approx([0.0, 0.5, 4.0])
    assert list(flowviz.rank_by_energy(flows)) == [2, 1, 0]


def test_color_wheel_is_white_outside_and_at_centre_and_coloured_on_the_rim():
    wheel = flowviz.color_wheel(65)
    assert (wheel[0, 0] == 255).all() and (wheel[32, 32] == 255).all()
    rim_right = wheel[32, 64]
    assert rim_right.min() < 100, "the rim is fully saturated"
    np.testing.assert_array_equal(rim_right, flowviz.flow_to_rgb(uniform_flow(1, 0, 1), 1.0)[0, 0])


def test_a_legend_is_never_drawn_on_the_flow():
    flow = random_flow(shape=(7, 7, 2))
    plain = flowviz.render_flow(flow, max_magnitude=2.0, size=(40, 40))
    with_legend = flowviz.render_flow(flow, max_magnitude=2.0, size=(40, 40), style=flowviz.FlowStyle(legend=True))
    np.testing.assert_array_equal(with_legend, plain)


def test_resize_flow_nearest_keeps_cells_and_smooth_interpolates():
    flow = np.zeros((2, 2, 2), np.float32)
    flow[0, 1] = (4, 0)
    nearest = flowviz.resize_flow(flow, (8, 8))
    assert set(np.unique(nearest[..., 0])) == {0.0, 4.0}
    assert (nearest[:4, 4:, 0] == 4).all()
    smooth = flowviz.resize_flow(flow, (8, 8), smooth=True)
    assert len(np.unique(smooth[..., 0])) > 2
    assert flowviz.resize_flow(flow, (5, 9)).shape == (5, 9, 2)


def test_quiver_grid_samples_every_spacing():
    flow = random_flow(shape=(10, 20, 2))
    xs, ys, us, vs = flowviz.quiver_grid(flow, 5)
    assert len(xs) == 2 * 4
    assert xs.min() == 2 and ys.min() == 2
    np.testing.assert_array_equal(us, flow[ys, xs, 0])
    np.testing.assert_array_equal(vs, flow[ys, xs, 1])


def test_draw_arrows_marks_moving_cells_only():
    image = np.full((32, 32, 3), 255, np.uint8)
    flow = np.zeros((32, 32, 2), np.float32)
    flow[:16] = (1.0, 0.0)
    out = flowviz.draw_arrows(image, flow, spacing=8, max_magnitude=1.0)
    assert (out[:16] != 255).any()
    assert (out[17:] == 255).all()


def test_render_flow_sizes_overlay_and_options():
    flow = random_flow(shape=(7, 7, 2))
    frame = np.zeros((30, 50, 3), np.uint8)
    size = (40, 40)
    plain = flowviz.render_flow(flow, max_magnitude=2.0, size=size)
    assert plain.shape == (40, 40, 3) and plain.dtype == np.uint8
    over = flowviz.render_flow(flow, max_magnitude=2.0, size=size, frame=frame, style=flowviz.FlowStyle(opacity=0.5))
    assert (over.astype(int) <= plain.astype(int)).all() and (over != plain).any(), "a black frame darkens"
    styled = flowviz.FlowStyle(colouring="magnitude", smooth=True, arrow_spacing=8, legend=True)
    assert flowviz.render_flow(flow, max_magnitude=2.0, size=size, style=styled).shape == (40, 40, 3)
    with pytest.raises(ValueError, match="colouring"):
        flowviz.render_flow(flow, max_magnitude=2.0, size=size, style=flowviz.FlowStyle(colouring="hsv"))


@pytest.mark.parametrize("colouring", ["direction", "magnitude"])
@pytest.mark.parametrize(("cells", "side"), [((14, 14), 224), ((7, 9), 160), ((13, 11), 288), ((28, 28), 96)])
def test_render_flow_colours_cells_then_enlarges_to_the_same_pixels(colouring, cells, side):
    """Without smoothing, render_flow colours each cell once and enlarges the picture: pixel for pixel what
    colouring the enlarged field gives (arrows and the frame overlay drawn on top as before)."""
    rng = np.random.default_rng(sum(cells) + side)
    flow = rng.normal(0, 1, (*cells, 2)).astype(np.float32)
    frame = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
    for style in (flowviz.FlowStyle(colouring=colouring), flowviz.FlowStyle(colouring=colouring, opacity=0.6,
                                                                             arrow_spacing=16)):
        fast = flowviz.render_flow(flow, max_magnitude=1.5, size=(side, side), style=style, frame=frame)
        field = flowviz.resize_flow(flow, (side, side))
        slow = flowviz.colour_flow(field, 1.5, style)
        if style.opacity < 1:
            slow = flowviz.blend(flowviz.resize_image(frame, (side, side)), slow, style.opacity)
        if style.arrow_spacing:
            slow = flowviz.draw_arrows(slow, field, spacing=style.arrow_spacing, max_magnitude=1.5)
        np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("name", sorted(colour_tables.TABLES))
def test_the_kept_colour_tables_equal_matplotlibs(name):
    from matplotlib import colormaps

    expected = np.round(colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)
    assert np.array_equal(colour_tables.colour_table(name), expected)
    assert colour_tables.colour_table("viridis") is None


def test_the_speed_colours_need_no_matplotlib():
    import subprocess
    import sys

    code = ("import sys; from repflow import flowviz; flowviz.magnitude_lut(); "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
