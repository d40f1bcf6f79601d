"""viz_app/frontend_common/flowpaint.js in Debian's Chromium against repflow.flowviz on the same inputs.

Exact: colours (direction and magnitude, still cells, beyond the scale), nearest and bilinear enlargement, the
frame's resize (bilinear up, area down) and its blend. One caveat: numpy's float32 arctan2 is a vectorised
approximation (up to 3 ulp here) while the browser's is correctly rounded, so the direction colours are compared
exactly with flowviz run on a correctly rounded arctan2, and with flowviz itself only where that rounding does
not change a colour (elsewhere by at most 1). Arrows cannot match cv2's antialiased lines pixel for pixel: their
dark pixels must overlap. Fails (never skips) under CI=true when Chromium is missing.

``python -m tests.viz_app.test_flowpaint`` prints how long renderFlow takes in Chromium.
"""

import base64
import functools
import time
from pathlib import Path

import numpy as np
import pytest

from repflow import flowviz
from tests.viz_app.test_browser import CHROMIUM, CHROMIUM_ARGS, require_browser

SCRIPT = Path(__file__).resolve().parents[2] / "viz_app" / "frontend_common" / "flowpaint.js"
DARKER = 60  # an arrow pixel: darker than the panel without arrows by more than this in some channel

# decodes the base64 arrays of the Python side, calls repflowPaint and returns its picture in base64
HARNESS = """
window.fromBase64 = (text, Type) => {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Type(bytes.buffer);
};
window.toBase64 = (pixels) => {
  let text = "";
  for (let i = 0; i < pixels.length; i += 0x8000) text += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
  return btoa(text);
};
window.paint = (call) => {
  const p = window.repflowPaint, palette = call.palette;
  if (call.kind === "wheel") return toBase64(p.colourWheel(call.size, palette));
  if (call.kind === "resize") {
    return toBase64(p.resizeImage(fromBase64(call.rgb, Uint8Array), call.height, call.width, call.size));
  }
  const frame = call.frame && {...call.frame, rgb: fromBase64(call.frame.rgb, Uint8Array)};
  return toBase64(p.renderFlow(fromBase64(call.u, Float32Array), fromBase64(call.v, Float32Array), call.height,
                               call.width, call.scale, call.style, call.size, frame, palette));
};
window.timeRender = (call, repeats) => {
  const p = window.repflowPaint, u = fromBase64(call.u, Float32Array), v = fromBase64(call.v, Float32Array);
  const frame = call.frame && {...call.frame, rgb: fromBase64(call.frame.rgb, Uint8Array)};
  const args = [u, v, call.height, call.width, call.scale, call.style, call.size, frame, call.palette];
  p.renderFlow(...args);
  const start = performance.now();
  for (let i = 0; i < repeats; i++) p.renderFlow(...args);
  return (performance.now() - start) / repeats;
};
window.timeResize = (call, repeats) => {
  const rgb = fromBase64(call.rgb, Uint8Array), start = performance.now();
  for (let i = 0; i < repeats; i++) window.repflowPaint.resizeImage(rgb, call.height, call.width, call.size);
  return (performance.now() - start) / repeats;
};
"""


def encode(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


@functools.cache
def palette() -> dict:
    import flow_vis

    wheel = flow_vis.make_colorwheel().astype(int).tolist()
    return {"wheel": wheel, "speed_colours": flowviz.magnitude_lut().astype(int).tolist()}


def open_page(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page()
    page.set_content("<!doctype html><title>flowpaint</title>")
    page.add_script_tag(content=SCRIPT.read_text())
    page.add_script_tag(content=HARNESS)
    return browser, page


@pytest.fixture(scope="module")
def page():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_page(playwright)
        try:
            yield page
        finally:
            browser.close()


def style_dict(style: flowviz.FlowStyle) -> dict:
    return {"colouring": style.colouring, "smooth": style.smooth, "arrow_spacing": style.arrow_spacing,
            "opacity": style.opacity, "still_fraction": style.still_fraction}


def render_call(flow, scale, size, style, frame=None) -> dict:
    call = {"kind": "render", "u": encode(flow[..., 0]), "v": encode(flow[..., 1]), "height": flow.shape[0],
            "width": flow.shape[1], "scale": float(scale), "size": size, "style": style_dict(style), "frame": None}
    if frame is not None:
        call["frame"] = {"rgb": encode(frame), "height": frame.shape[0], "width": frame.shape[1]}
    return call


def paint(page, call: dict) -> np.ndarray:
    """repflowPaint's picture as (size, size, 3) uint8 (its alpha checked to be opaque)."""
    pixels = np.frombuffer(base64.b64decode(page.evaluate("paint", {**call, "palette": palette()})), np.uint8)
    channels = 3 if call["kind"] == "resize" else 4
    pixels = pixels.reshape(call["size"], call["size"], channels)
    if channels == 4:
        assert (pixels[..., 3] == 255).all(), "the picture must be opaque"
    return pixels[..., :3]


def random_field(cells: int, seed: int) -> np.ndarray:
    """Random flow (cells, cells, 2) float32 with about a fifth of its cells nearly still (drawn white)."""
    rng = np.random.default_rng(seed)
    flow = rng.normal(0.0, 1.5, (cells, cells, 2)).astype(np.float32)
    flow[rng.random((cells, cells)) < 0.2] *= 0.02
    return flow


def random_image(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


@pytest.fixture
def rounded_arctan2(monkeypatch):
    """Calls its argument with flow_vis's numpy arctan2 replaced by a correctly rounded one (float64, rounded)."""
    import flow_vis.flow_vis

    class CorrectlyRoundedArctan2:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def arctan2(y, x):
            return np.arctan2(y.astype(np.float64), x.astype(np.float64)).astype(y.dtype)

    def run(draw):
        with monkeypatch.context() as patch:
            patch.setattr(flow_vis.flow_vis, "np", CorrectlyRoundedArctan2())
            return draw()

    return run


def assert_matches(got, draw, colouring, rounded_arctan2):
    """``got`` equals ``draw()`` (flowviz) exactly; for direction colours, exactly flowviz on a correctly rounded
    arctan2, and flowviz itself wherever numpy's float32 arctan2 changes no colour (elsewhere within 1)."""
    expected = draw()
    if colouring == "magnitude":
        np.testing.assert_array_equal(got, expected)
        return
    np.testing.assert_array_equal(got, rounded_arctan2(draw))
    off = got != expected
    assert np.abs(got.astype(int) - expected)[off].max(initial=0) <= 1
    assert off.mean() < 0.01, f"{off.mean():.4%} of the values differ from flowviz's"


CASES = [  # cells, panel size, colouring, smooth, opacity and frame side (0: no frame)
    (7, 224, "direction", False, 1.0, 0),
    (14, 224, "direction", False, 1.0, 0),
    (28, 224, "direction", False, 1.0, 0),
    (14, 160, "direction", False, 1.0, 0),
    (28, 384, "direction", False, 1.0, 0),
    (28, 28, "direction", False, 1.0, 0),
    (7, 224, "direction", True, 1.0, 0),
    (14, 160, "direction", True, 1.0, 0),
    (28, 384, "direction", True, 1.0, 0),
    (7, 224, "magnitude", False, 1.0, 0),
    (14, 160, "magnitude", False, 1.0, 0),
    (28, 384, "magnitude", False, 1.0, 0),
    (14, 224, "magnitude", True, 1.0, 0),
    (28, 160, "magnitude", True, 1.0, 0),
    (14, 160, "direction", False, 0.6, 112),
    (28, 224, "direction", True, 0.6, 112),
    (7, 384, "magnitude", False, 0.6, 112),
    (14, 384, "magnitude", True, 0.6, 112),
    (28, 160, "magnitude", False, 0.6, 224),
    (14, 160, "direction", True, 0.6, 224),
    (14, 224, "magnitude", False, 0.3, 224),
]


@pytest.mark.parametrize("scale_kind", ["robust", "beyond"])
@pytest.mark.parametrize(("cells", "size", "colouring", "smooth", "opacity", "frame_side"), CASES)
def test_render_flow_is_exact(page, rounded_arctan2, cells, size, colouring, smooth, opacity, frame_side, scale_kind):
    """Colours, enlargement, frame and blend as flowviz.render_flow draws them, at the robust scale of the field and
    at half its largest vector (cells beyond the scale: outside the wheel, darker; darkest of the magnitude map)."""
    flow = random_field(cells, seed=cells * 1000 + size)
    frame = random_image(frame_side, frame_side, seed=frame_side) if frame_side else None
    scale = flowviz.robust_max(flow) if scale_kind == "robust" else flowviz.max_magnitude(flow) / 2
    if scale_kind == "beyond":
        assert (flowviz.magnitude(flow) > scale).mean() > 0.05  # the case holds cells outside the wheel
    style = flowviz.FlowStyle(colouring=colouring, smooth=smooth, opacity=opacity)
    got = paint(page, render_call(flow, scale, size, style, frame))
    draw = lambda: flowviz.render_flow(flow, max_magnitude=scale, size=(size, size), style=style, frame=frame)  # noqa: E731
    assert_matches(got, draw, colouring, rounded_arctan2)


@pytest.mark.parametrize("colouring", ["direction", "magnitude"])
def test_a_zero_scale_is_all_white(page, colouring):
    flow = random_field(14, seed=3)
    style = flowviz.FlowStyle(colouring=colouring, smooth=True)
    got = paint(page, render_call(flow, 0.0, 160, style))
    assert (got == 255).all()
    np.testing.assert_array_equal(got, flowviz.render_flow(flow, max_magnitude=0.0, size=(160, 160), style=style))


@pytest.mark.parametrize("colouring", ["direction", "magnitude"])
def test_the_still_threshold_is_compared_in_float32(page, colouring):
    """numpy compares the float32 magnitudes with the threshold rounded to float32: a vector exactly at the rounded
    threshold (below the exact one) is coloured, one float32 step shorter is white."""
    scale = 1.3
    threshold = np.float32(flowviz.STILL_FRACTION * scale)
    assert float(threshold) < flowviz.STILL_FRACTION * scale
    lengths = [np.nextafter(threshold, np.float32(0)), threshold, np.nextafter(threshold, np.float32(1))]
    flow = np.zeros((1, 3, 2), np.float32)
    flow[0, :, 0] = lengths
    assert (flowviz.magnitude(flow)[0] == lengths).all()
    style = flowviz.FlowStyle(colouring=colouring)
    expected = flowviz.render_flow(flow, max_magnitude=scale, size=(3, 3), style=style)
    assert (expected[:, 0] == 255).all() and (expected[:, 1:] < 255).any(axis=-1).all()
    np.testing.assert_array_equal(paint(page, render_call(flow, scale, 3, style)), expected)


@pytest.mark.parametrize(("height", "width", "size"), [
    (112, 112, 160), (112, 112, 224), (112, 112, 384),  # bilinear, OpenCV's 11-bit fixed point
    (224, 224, 160), (300, 300, 224),  # area averaging by a fraction
    (224, 224, 112), (448, 448, 112),  # area averaging by a whole factor (halving has its own rounding)
    (120, 90, 100), (200, 120, 100), (90, 130, 100),  # not square: area with one axis enlarged, bilinear shrinking
    (160, 160, 160),
])
def test_resize_image_is_exact(page, height, width, size):
    image = random_image(height, width, seed=height + width)
    got = paint(page, {"kind": "resize", "rgb": encode(image), "height": height, "width": width, "size": size})
    np.testing.assert_array_equal(got, flowviz.resize_image(image, (size, size)))


def test_colour_wheel_is_exact(page, rounded_arctan2):
    got = paint(page, {"kind": "wheel", "size": 112})
    assert_matches(got, lambda: flowviz.color_wheel(112), "direction", rounded_arctan2)


def arrow_mask(picture: np.ndarray, without_arrows: np.ndarray) -> np.ndarray:
    return (without_arrows.astype(int) - picture).max(axis=-1) > DARKER


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize(("smooth", "spacing", "opacity"), [(False, 16, 1.0), (True, 16, 1.0), (False, 24, 0.6)])
def test_arrows_lie_where_cv2_draws_them(page, smooth, spacing, opacity):
    """The arrows' dark pixels (darker than the panel without arrows by > 60) overlap cv2.arrowedLine's; drawn for
    the reversed field, or one pixel to the side, they would not."""
    flow = random_field(28, seed=11)
    frame = random_image(112, 112, seed=5)
    scale = flowviz.robust_max(flow)
    style = flowviz.FlowStyle(smooth=smooth, arrow_spacing=spacing, opacity=opacity)
    without = flowviz.FlowStyle(smooth=smooth, opacity=opacity)
    plain = flowviz.render_flow(flow, max_magnitude=scale, size=(224, 224), style=without, frame=frame)
    drawn = flowviz.render_flow(flow, max_magnitude=scale, size=(224, 224), style=style, frame=frame)
    expected = arrow_mask(drawn, plain)
    got = arrow_mask(paint(page, render_call(flow, scale, 224, style, frame)), plain)
    reversed_arrows = arrow_mask(paint(page, render_call(-flow, scale, 224, style, frame)), plain)
    assert expected.sum() > 500, "the case must draw arrows"
    assert 0.7 < got.sum() / expected.sum() < 1.1  # measured 0.80-0.86: the canvas's antialiasing is a little lighter
    assert iou(got, expected) > 0.75, f"IoU {iou(got, expected):.2f}"  # measured 0.80-0.86; shifted 1 px: 0.34-0.43
    assert iou(reversed_arrows, expected) < 0.2  # measured 0.03-0.06


def time_renders(repeats: int = 50) -> None:
    """Print renderFlow's mean time in Chromium for a 28x28 field at 224 px, per style (the frame's resize is kept
    between calls, so it is timed on its own)."""
    from playwright.sync_api import sync_playwright

    flow = random_field(28, seed=1)
    frame = random_image(112, 112, seed=2)
    styles = {
        "direction, nearest": (flowviz.FlowStyle(), None),
        "magnitude, nearest": (flowviz.FlowStyle(colouring="magnitude"), None),
        "direction, smooth": (flowviz.FlowStyle(smooth=True), None),
        "direction, nearest, arrows 16 px": (flowviz.FlowStyle(arrow_spacing=16), None),
        "direction, nearest, opacity 0.6 over a 112 px frame": (flowviz.FlowStyle(opacity=0.6), frame),
        "direction, smooth, arrows, opacity 0.6": (
            flowviz.FlowStyle(smooth=True, arrow_spacing=16, opacity=0.6), frame
        ),
    }
    with sync_playwright() as playwright:
        browser, page = open_page(playwright)
        try:
            for name, (style, picture) in styles.items():
                call = {**render_call(flow, flowviz.robust_max(flow), 224, style, picture), "palette": palette()}
                milliseconds = page.evaluate("([call, repeats]) => timeRender(call, repeats)", [call, repeats])
                print(f"{name:55s} {milliseconds:6.2f} ms")
            call = {"rgb": encode(frame), "height": 112, "width": 112, "size": 224}
            milliseconds = page.evaluate("([call, repeats]) => timeResize(call, repeats)", [call, repeats])
            print(f"{'resizeImage of the 112 px frame to 224 px (once per frame)':55s} {milliseconds:6.2f} ms")
        finally:
            browser.close()


if __name__ == "__main__":
    start = time.perf_counter()
    time_renders()
    print(f"(whole run {time.perf_counter() - start:.1f} s)")
