"""The main row's data files (viz_app.main_row): what the page decodes is the analysis, with the scales the server
would draw it at."""

import time

import numpy as np

from repflow import flowviz
from repflow.analysis import ClipAnalysis
from viz_app import component_files, main_row


def analysis() -> ClipAnalysis:
    rng = np.random.default_rng(3)
    flows = {"flow_block.flow1": rng.normal(size=(4, 3, 7, 7, 2)).astype(np.float32),
             "flow_block.flow2": rng.normal(size=(4, 2, 7, 7, 2)).astype(np.float32) * 5}
    flows["flow_block.flow2"][1] = 0.0  # a still channel
    frames = rng.integers(0, 256, size=(4, 28, 28, 3), dtype=np.uint8)
    labels = {"flow_block.flow1": "flow-of-flow 1/2", "flow_block.flow2": "flow-of-flow 2/2"}
    kinds = {"flow_block.flow1": "fcf-1", "flow_block.flow2": "fcf-2"}
    return ClipAnalysis(frames=frames, flows=flows, layer_labels=labels, layer_kinds=kinds, probabilities=None)


def test_the_row_file_holds_every_layer_with_its_scales_and_the_frames():
    shown = analysis()
    header, blob = component_files.unpack(component_files.pack(*main_row.row_data(shown, [10, 12, 14, 16])))
    assert [layer["name"] for layer in header["layers"]] == list(shown.flows)
    for layer in header["layers"]:
        flows = shown.flows[layer["name"]]
        channels, steps, height, width = layer["shape"]
        codes = np.frombuffer(blob, "<i2", count=flows.size, offset=layer["offset"]).reshape(flows.shape)
        decoded = codes * np.array(layer["quant"]).reshape(-1, 1, 1, 1, 1)
        step = np.array(layer["quant"]).reshape(-1, 1, 1, 1, 1)
        assert (np.abs(decoded - flows) <= step / 2 + 1e-9).all(), "within half a quantisation step"
        assert layer["clip_scales"] == flowviz.panel_scales(flows, "clip")[:, 0].tolist()
        assert layer["frame_scales"] == flowviz.panel_scales(flows, "frame").tolist()
        assert layer["compares"] == 4 - steps + 1 and layer["channel_labels"][3] == "ch 3"
    assert header["layers"][1]["step_labels"] == ["10→14", "12→16"], "flow-of-flow 2/2 compares frames two apart"
    frames = np.frombuffer(blob, np.uint8, offset=header["frames_offset"]).reshape(header["frames_shape"])
    assert np.array_equal(frames, shown.frames)


def test_the_classical_file_holds_the_flows_and_their_per_pair_scales():
    flows = np.random.default_rng(4).normal(size=(3, 9, 9, 2)).astype(np.float32)
    header, blob = component_files.unpack(main_row.classical_data(flows, first_step=2))
    assert header["shape"] == [3, 9, 9] and header["first_step"] == 2
    assert np.array_equal(np.frombuffer(blob, "<f4").reshape(flows.shape), flows)
    assert header["scales"] == [flowviz.robust_max(flows[t]) for t in range(3)]


def test_the_windows_tvl1_job_starts_when_asked_and_its_file_appears_when_done(monkeypatch):
    from viz_app import compute

    frames = np.random.default_rng().integers(0, 256, size=(3, 24, 24, 3), dtype=np.uint8)  # a window never shown
    started = []
    real = compute.clip_classical
    monkeypatch.setattr(compute, "clip_classical", lambda window: started.append(1) or real(window))
    name = main_row.classical_file(frames, 0, start=False)
    assert not started and not (main_row.served_folder() / name).exists()
    assert main_row.classical_file(frames, 0, start=True) == name and started
    header, flows = published_file(name)
    assert header["shape"] == [2, 24, 24] and header["first_step"] == 0
    assert np.array_equal(flows, real(frames).result())


def published_file(name: str):
    """The header and flows of the row's data file ``name``, once the job's done callback has written it."""
    file = main_row.served_folder() / name
    deadline = time.monotonic() + 120
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    header, blob = component_files.unpack(file.read_bytes())
    return header, np.frombuffer(blob, "<f4").reshape(*header["shape"], 2)


def test_a_window_too_large_to_keep_gets_the_shown_pair_alone_in_the_background(monkeypatch):
    from viz_app import compute

    frames = np.random.default_rng(6).integers(0, 256, size=(5, 20, 20, 3), dtype=np.uint8)
    monkeypatch.setattr(compute, "CLASSICAL_MAX_BYTES", 20 * 20 * 2 * 4)  # one pair's flow: the window is too large
    name = main_row.classical_file(frames, 2, start=True)  # returns at once: the run does not compute it
    header, flows = published_file(name)
    assert header["shape"] == [1, 20, 20] and header["first_step"] == 2
    assert np.array_equal(flows[0], compute.classical_flow(frames[2:4]))
    assert main_row.classical_file(frames, 3, start=True) != name, "another step, another file"
    assert main_row.classical_file(frames[1:], 1, start=False) != name, "the same pair at another step: its own file"


def test_a_failed_tvl1_job_is_started_again(monkeypatch):
    from repflow import classical
    from viz_app import compute

    frames = np.random.default_rng(7).integers(0, 256, size=(3, 16, 16, 3), dtype=np.uint8)
    def failing(*args, **kwargs):
        raise RuntimeError("OpenCV failed")

    real = classical.tvl1
    monkeypatch.setattr(classical, "tvl1", failing)
    failed = compute.clip_classical(frames)
    assert isinstance(failed.exception(timeout=60), RuntimeError)
    monkeypatch.setattr(classical, "tvl1", real)
    again = compute.clip_classical(frames)
    assert again is not failed and again.result(timeout=120).shape == (2, 16, 16, 2)
