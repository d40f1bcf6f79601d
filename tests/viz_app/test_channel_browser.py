"""The channel browser's data builder (viz_app.channel_browser.build_browser): packed flows, scales, labels and
the first view's figure (colours, colour bar, hover data)."""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from repflow import flowviz
from viz_app import channel_browser, component_files
from viz_app.channel_browser import build_browser, step_labels

CHANNELS, STEPS, HEIGHT, WIDTH = 3, 4, 6, 5


def layer_flows() -> np.ndarray:
    """(3, 4, 6, 5, 2): channel 2 moves most, channel 0 least."""
    rng = np.random.default_rng(0)
    flows = rng.normal(size=(CHANNELS, STEPS, HEIGHT, WIDTH, 2)).astype(np.float32)
    return flows * np.array([0.1, 1.0, 3.0], np.float32).reshape(-1, 1, 1, 1, 1)


def unpack(data) -> np.ndarray:
    codes = np.frombuffer(data.flows, "<i2").reshape(*data.meta["shape"], 2)
    return codes * np.array(data.meta["quant"]).reshape(-1, 1, 1, 1, 1)


def test_flows_are_packed_once_as_int16_and_decode_within_half_a_step():
    flows = layer_flows()
    data = build_browser(flows, [10, 12, 14, 16, 18])
    assert len(data.flows) == flows.size * 2, "two bytes per component"
    step = np.array(data.meta["quant"]).reshape(-1, 1, 1, 1, 1)
    assert (np.abs(unpack(data) - flows) <= step / 2 + 1e-12).all()
    assert step.ravel() == pytest.approx(np.abs(flows.reshape(CHANNELS, -1)).max(axis=1) / 32767, rel=1e-6)


def test_scales_labels_and_first_view_follow_the_data():
    flows = layer_flows()
    data = build_browser(flows, [10, 12, 14, 16, 18], layer_label="Rep-Flow")
    meta = data.meta
    assert np.allclose(meta["scales"], flowviz.panel_scales(flows, "clip"))
    assert meta["start"] == {"channel": 2, "step": 0}, "opens on the most moving channel"
    assert meta["energy_order"] == [2, 1, 0]
    assert meta["step_labels"] == ["frames 10→12", "frames 12→14", "frames 14→16", "frames 16→18"]
    assert "99th percentile" in meta["scale_text"] and meta["units"] == "feature-map pixels per step"
    assert meta["frames"] == [] and meta["channel_labels"] == ["ch 0", "ch 1", "ch 2"]
    json.dumps(meta)  # sent to the page as JSON


def picture(uri: str) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def test_first_view_pictures_fill_the_cells_with_the_library_colours():
    flows = layer_flows()
    data = build_browser(flows, list(range(5)), channel=1, step=2, scale="fixed", fixed_max=2.0)
    figure = json.loads(data.figure)
    shown = unpack(data)[1, 2].astype(np.float32)
    _, direction, speed, _ = figure["layout"]["images"]
    assert (picture(direction["source"]) == flowviz.flow_to_rgb_still_white(shown, 2.0)).all()
    assert (picture(speed["source"]) == flowviz.magnitude_to_rgb(shown, 2.0)).all()
    assert (direction["xref"], direction["sizex"], direction["sizey"]) == ("x2", WIDTH, HEIGHT)
    hover = figure["data"][1]
    assert np.array(hover["z"]).shape == (HEIGHT, WIDTH) and hover["hoverinfo"] == "none", "hover events per cell"
    assert data.meta["speed_colours"] == flowviz.magnitude_lut().tolist(), "the page's colour bar and speed colours"
    assert data.meta["speed_colours"][0] == [255, 255, 255], "still is white"


def test_input_frames_are_sent_per_step_and_mapped_onto_the_cells():
    flows = layer_flows()
    frames = np.zeros((5, 24, 24, 3), np.uint8)
    data = build_browser(flows, [0, 1, 2, 3, 4], frames=frames)
    assert len(data.meta["frames"]) == STEPS and data.meta["frames"][0].startswith("data:image/jpeg;base64,")
    assert data.meta["cell_px"] == 4.0
    frame = json.loads(data.figure)["layout"]["images"][0]
    assert frame["source"] == data.meta["frames"][0] and (frame["sizex"], frame["sizey"]) == (WIDTH, HEIGHT)


def test_a_still_layer_is_white_with_a_zero_scale():
    still = np.zeros((2, 3, 4, 4, 2), np.float32)
    data = build_browser(still, [0, 1, 2, 3])
    assert data.meta["scales"] == [[0.0] * 3] * 2
    assert (picture(json.loads(data.figure)["layout"]["images"][1]["source"]) == 255).all()


def test_flow_of_flow_steps_span_three_frames_and_bad_input_is_named():
    assert step_labels([3, 5, 7, 9], 2) == ["frames 3→7", "frames 5→9"]
    with pytest.raises(ValueError, match="need more than"):
        step_labels([3, 5], 2)
    with pytest.raises(ValueError, match=r"\(C, T, H, W, 2\)"):
        build_browser(layer_flows()[0], [0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="no channel 7"):
        build_browser(layer_flows(), [0, 1, 2, 3, 4], channel=7)


def test_the_layer_file_holds_everything_and_the_flows_start_aligned(tmp_path, monkeypatch):
    data = build_browser(layer_flows(), [0, 1, 2, 3, 4], layer_label="Rep-Flow · «ch»")
    payload = channel_browser.pack(data)
    assert (4 + int.from_bytes(payload[:4], "little")) % 8 == 0, "the page views the flows as int16 in place"
    assert channel_browser.unpack(payload) == data

    monkeypatch.setattr(channel_browser, "served_folder", lambda: tmp_path)
    monkeypatch.setattr(component_files, "KEPT_DATA_FILES", 2)
    names = [channel_browser.publish(build_browser(layer_flows() * k, [0, 1, 2, 3, 4])) for k in (1, 2, 3)]
    assert names[0] == f"data/{build_browser(layer_flows(), [0, 1, 2, 3, 4]).meta['digest']}.bin"
    kept = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert len(kept) == 2 and names[0].split("/")[1] not in kept, "only the newest files are kept"
    assert channel_browser.unpack((tmp_path / names[2]).read_bytes()).flows == build_browser(
        layer_flows() * 3, [0, 1, 2, 3, 4]
    ).flows
