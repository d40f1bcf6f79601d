"""Tests for repflow.figure: grid layout, PNG/PDF/SVG bytes, animations; repflow.analysis.analyse_clip on a tiny
model."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from repflow import analysis as clip_analysis
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
    rows += figure.flow_rows(flows, channels=[1, 2], steps=[0, 2], options=flowviz.PanelOptions(size=24))
    return figure.grid_figure([figure.RowGroup(None, rows)], column_labels=["0→1", "2→3"],
                              legend=figure.Legend("direction") if legend else None, width_in=4.0, title="demo")


def test_flow_rows_render_each_channel_and_step(flows):
    rows = figure.flow_rows(flows, channels=[0, 1], steps=[1, 2], options=flowviz.PanelOptions("clip", size=12))
    assert [row.label for row in rows] == ["ch 0\nscale 0 px/step", "ch 1\nscale 1.5 px/step"], "one scale per row"
    still, moving = rows[1].images
    assert (still == 255).all(), "channel 1 does not move at step 1: white"
    assert (moving != 255).any()
    per_frame = figure.flow_rows(flows, channels=[1], steps=[1, 2], options=flowviz.PanelOptions("frame", size=12))
    assert per_frame[0].notes == ["0", "1.5"]


def test_out_of_range_channels_and_steps_are_named(flows):
    with pytest.raises(ValueError, match=r"channel \[5\] out of range: there are 3"):
        figure.flow_rows(flows, channels=[5], steps=[0], options=flowviz.PanelOptions(size=8))
    with pytest.raises(ValueError, match="time step"):
        figure.flow_rows(flows, channels=[0], steps=[4], options=flowviz.PanelOptions(size=8))
    with pytest.raises(ValueError, match="at least one channel"):
        figure.flow_rows(flows, channels=[], steps=[0], options=flowviz.PanelOptions(size=8))


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
    one_row = figure.grid_figure(
        [figure.RowGroup(None, [figure.frame_row(frames, steps=[0, 2], size=(24, 24))])], column_labels=["a", "b"],
        width_in=4.0,
    )
    one_width, one_height = Image.open(io.BytesIO(figure.figure_bytes(one_row, "png", dpi=100))).size
    assert one_width == 400 and one_height < height / 2, "height grows with the number of rows"


def test_grid_rejects_ragged_rows():
    row = figure.FigureRow("a", [np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match="1 images for 2 columns"):
        figure.grid_figure([figure.RowGroup(None, [row])], column_labels=["x", "y"])
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


@pytest.fixture(scope="module")
def model_and_clip(tmp_path_factory):
    """A tiny untrained flow-of-flow checkpoint and a 10-frame clip of a square moving right."""
    import torch

    from repflow.checkpoint import model_payload, save_checkpoint
    from repflow.models import ModelConfig, build_model
    from repflow.video import write_video

    folder = tmp_path_factory.mktemp("figure_cli")
    torch.manual_seed(0)
    model = build_model(ModelConfig(flow="fcf", width=8, num_classes=5, flow_channels=6))
    save_checkpoint(folder / "fcf.pt", model_payload(model))
    clip = np.full((10, 40, 48, 3), 20, np.uint8)
    texture = np.random.default_rng(1).integers(0, 255, (14, 14, 3), dtype=np.uint8)
    for t in range(10):
        clip[t, 12:26, 4 + 2 * t : 18 + 2 * t] = texture
    write_video(folder / "square.mp4", clip)
    return model.eval(), folder / "fcf.pt", folder / "square.mp4", clip


def test_analyse_clip_captures_both_flow_layers_aligned_with_the_input_crop(model_and_clip):
    model, _, _, clip = model_and_clip
    analysis = clip_analysis.analyse_clip(model, clip[:8], size=32)
    assert analysis.frames.shape == (8, 32, 32, 3) and analysis.frames.dtype == np.uint8
    kinds = list(analysis.layer_kinds.values())
    assert kinds == ["fcf-1", "fcf-2"]
    first, second = analysis.flows.values()
    assert first.shape[:2] == (6, 7) and second.shape[:2] == (6, 6), "T-1 and T-2 steps of 6 channels"
    assert first.shape[-1] == 2 and np.isfinite(first).all()
    assert analysis.probabilities.shape == (5,) and analysis.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    # the shown frames are the model's centre crop: 40x48 -> short side 32 -> 32x38 -> centre 32x32
    assert abs(int(analysis.frames[0, 16, 16].mean()) - int(clip[0, 20, 24].mean())) < 40
    assert analysis.find_layer("fcf-2") == analysis.find_layer("flow-of-flow 2/2")
    with pytest.raises(ValueError, match="no flow layer 'rep'; this model has"):
        analysis.find_layer("rep")


def test_analyse_clip_refuses_models_without_flow(model_and_clip):
    from repflow.models import ModelConfig, build_model

    with pytest.raises(ValueError, match="no flow layer"):
        clip_analysis.analyse_clip(
            build_model(ModelConfig(width=8, num_classes=5)).eval(), model_and_clip[3][:4], size=32
        )


@pytest.mark.parametrize("suffix, magic", [("pdf", b"%PDF-"), ("svg", b"<?xml"), ("png", b"\x89PNG"), ("gif", b"GIF8")])
def test_figure_command_writes_each_format(model_and_clip, tmp_path, suffix, magic, capsys):
    from repflow.cli import main

    _, checkpoint, clip, _ = model_and_clip
    out = tmp_path / f"fig.{suffix}"
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clip), "--clip", str(clip), "--layer", "fcf-2",
            "--channels", "top2", "--steps", "0,2,4", "--frames", "8", "--size", "32", "--dpi", "60", "--cell-px", "48",
            "--out", str(out)]
    assert main(argv) == 0
    assert out.read_bytes().startswith(magic)
    assert "flow-of-flow 2/2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--layer", "nope"], "no flow layer 'nope'"),
        (["--channels", "0,99"], "channel [99] out of range"),
        (["--steps", "a,b"], "time step: expected comma-separated numbers"),
        (["--frames", "2"], "--frames must be >= 3"),
        (["--channels", "alignx"], "channel: expected alignN with a number N >= 1, got 'alignx'"),
        (["--channels", "top0"], "channel: expected topN with a number N >= 1"),
    ],
)
def test_figure_command_bad_arguments_are_clean_errors(model_and_clip, tmp_path, capsys, extra, message):
    from repflow.cli import main

    _, checkpoint, clip, _ = model_and_clip
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clip), "--size", "32", "--frames", "8",
            "--out", str(tmp_path / "fig.png"), *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "fig.png").exists()


def test_figure_command_align_takes_the_channels_most_in_agreement_with_tvl1(model_and_clip, tmp_path,
                                                                            monkeypatch, capsys):
    from repflow.agreement import channel_agreement
    from repflow.cli import main
    from repflow.video import write_video

    _, checkpoint, _, _ = model_and_clip
    rng = np.random.default_rng(3)  # a textured square moving over a still texture: local motion for TV-L1
    frames = np.repeat(np.kron(rng.integers(40, 140, (10, 12, 3), dtype=np.uint8), np.ones((4, 4, 1), np.uint8))[None],
                       10, axis=0)
    square = np.kron(rng.integers(150, 256, (3, 3, 3), dtype=np.uint8), np.ones((4, 4, 1), np.uint8))
    for t in range(10):
        frames[t, 14:26, 6 + 2 * t : 18 + 2 * t] = square
    clip = write_video(tmp_path / "textured.mp4", frames)
    analysed = []
    real = clip_analysis.analyse_clip
    monkeypatch.setattr(clip_analysis, "analyse_clip", lambda *a, **k: analysed.append(real(*a, **k)) or analysed[-1])
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clip), "--layer", "fcf-1", "--channels", "align3",
            "--frames", "8", "--size", "32", "--stride", "1", "--dpi", "50", "--cell-px", "32",
            "--out", str(tmp_path / "fig.png")]
    assert main(argv) == 0
    (seen,) = analysed
    layer = seen.find_layer("fcf-1")
    agreement = channel_agreement(seen.flows[layer], seen.frames)  # of the frames the model read
    assert not np.isnan(agreement).any() and len(set(agreement.round(6))) == len(agreement)
    expected = [int(c) for c in np.argsort(-agreement)[:3]]
    out = capsys.readouterr().out
    assert f"channels {expected}; agreement with TV-L1 r " in out, out
    assert out.strip().endswith(", ".join(f"{agreement[c]:.2f}" for c in expected) + ")")


def test_figure_command_align_on_a_still_clip_is_one_clean_line(model_and_clip, tmp_path, capsys):
    from repflow.cli import main
    from repflow.video import write_video

    _, checkpoint, _, moving = model_and_clip
    still = write_video(tmp_path / "still.mp4", np.repeat(moving[:1], 10, axis=0))
    out = tmp_path / "fig.png"
    argv = ["figure", "--model", str(checkpoint), "--clip", str(still), "--channels", "align2", "--frames", "8",
            "--size", "32", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{still}: no step of the window has local motion" in err and "use topN" in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_figure_command_feeds_the_view_the_checkpoint_was_trained_on(model_and_clip, tmp_path, monkeypatch):
    from repflow.checkpoint import load_checkpoint, save_checkpoint
    from repflow.cli import main

    _, checkpoint, clip, _ = model_and_clip
    payload = load_checkpoint(checkpoint)
    payload["clip"] = {"frames": 8, "size": 32, "stride": 1, "short_side": 40}
    trained = save_checkpoint(tmp_path / "trained.pt", payload)
    views = []
    real = clip_analysis.analyse_clip

    def recording(model, frames, **kwargs):
        views.append((frames.shape[1:3], kwargs))
        return real(model, frames, **kwargs)

    monkeypatch.setattr(clip_analysis, "analyse_clip", recording)
    assert main(["figure", "--model", str(trained), "--clip", str(clip), "--out", str(tmp_path / "a.png")]) == 0
    assert (
        main(["figure", "--model", str(trained), "--clip", str(clip), "--size", "36", "--out", str(tmp_path / "b.png")])
        == 0
    )
    (first_shape, first), (second_shape, second) = views
    assert first_shape == (40, 48) and (first["size"], first["short_side"]) == (32, 40), "short side 40, crop 32"
    assert second_shape == (45, 54) and (second["size"], second["short_side"]) == (36, 45), (
        "--size keeps the crop share 0.8"
    )


def test_figure_command_labels_clips_and_heads_columns_with_frame_numbers(model_and_clip, tmp_path):
    from repflow.cli import main

    _, checkpoint, clip, _ = model_and_clip
    out = tmp_path / "fig.svg"
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clip), "--clip", str(clip), "--label", "square",
            "--label", "again", "--layer", "fcf-2", "--channels", "0", "--steps", "0,2", "--frames", "5",
            "--start", "3", "--stride", "1", "--size", "32", "--cell-px", "32", "--width", "3.3", "--out", str(out)]
    assert main(argv) == 0
    svg = out.read_text()
    assert "(a) square" in svg and "(b) again" in svg, "--label names the clip blocks"
    assert "3→5" in svg and "5→7" in svg, "columns: the clip's frames each fcf-2 step compares"
    assert 'width="237.6pt"' in svg, "3.3 in wide"


def test_reference_row_is_tvl1_between_the_frames_each_step_compares():
    def texture(shape):  # smooth noise at full contrast, which TV-L1 can follow 4 px
        smooth = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 2)
        return cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)

    rng = np.random.default_rng(2)  # a textured square moving 2 px right per frame over a still texture
    frames = np.repeat(texture((48, 48, 3))[None], 6, axis=0)
    square = texture((16, 16, 3))
    for t in range(6):
        frames[t, 16:32, 4 + 2 * t : 20 + 2 * t] = square
    one = figure.reference_row(frames, steps=[0, 3], span=1, options=flowviz.PanelOptions(size=48))
    two = figure.reference_row(frames, steps=[0, 3], span=2, options=flowviz.PanelOptions(size=48))
    scale_one = float(one.label.split()[2])
    scale_two = float(two.label.split()[2])
    assert one.label.startswith("TV-L1\n") and one.label.endswith("input px/step")
    assert 1.7 < scale_one < 2.3 and 3.5 < scale_two < 4.5, "the square moves 2 px per frame: 2 px and 4 px"
    colour = 255 - one.images[0].min(axis=-1).astype(float)  # saturation: 0 = white (still)
    assert colour[18:30, 8:18].mean() > 2 * colour[:8].mean(), "the moving square is drawn stronger than the rest"
    with pytest.raises(ValueError, match="time step"):
        figure.reference_row(frames, steps=[4], span=2)


def test_figure_command_tvl1_adds_a_reference_row_to_every_clip(model_and_clip, tmp_path):
    from repflow.cli import main

    _, checkpoint, clip, _ = model_and_clip
    out = tmp_path / "fig.svg"
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clip), "--clip", str(clip), "--channels", "0",
            "--steps", "0,1", "--frames", "5", "--size", "32", "--cell-px", "32", "--tvl1", "--out", str(out)]
    assert main(argv) == 0
    svg = out.read_text()
    assert svg.count(">TV-L1<") == 2, "one TV-L1 row per clip block"
    assert "OpenCV Dual TV-L1 between the same frames" in svg, "the caption says what the row is"


def test_figure_help_states_the_default_scale(capsys):
    from repflow.cli import main

    with pytest.raises(SystemExit):
        main(["figure", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "99th percentile" in text and "--label NAME" in text and "clip = one robust scale per channel" in text


@pytest.mark.parametrize(
    "video, extra, message",
    [
        ("tiny", [], "frames are 2x2 px; this model needs at least 32x32 px"),
        ("one", [], "has only 1 frames, but --frames 8 every --stride 1 from --start 0 needs frame 7; the model needs "
                    "at least 3 frames, so this clip is too short for it"),
        ("square", ["--start", "5"], "has only 10 frames, but --frames 8 every --stride 1 from --start 5 needs frame 12"
                                     "; the model needs at least 3 frames: choose a window that fits with those flags"),
        ("square", ["--label", "a", "--label", "b"], "--label given 2 times for 1 --clip"),
        ("square", ["--size", "16"], "--size must be >= 32 px for this model"),
    ],
)
def test_figure_command_refuses_clips_below_the_models_minimum(model_and_clip, tmp_path, capsys, video, extra,
                                                                message):
    from repflow.cli import main
    from repflow.video import write_video

    _, checkpoint, square, _ = model_and_clip
    clips = {"square": square}
    clips["tiny"] = write_video(tmp_path / "tiny.mp4", np.full((10, 2, 2, 3), 128, np.uint8))
    clips["one"] = write_video(tmp_path / "one.mp4", np.full((1, 40, 48, 3), 128, np.uint8))
    out = tmp_path / "fig.png"
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clips[video]), "--frames", "8", "--stride", "1",
            "--out", str(out), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    if not message.startswith("--"):
        assert str(clips[video]) in err, "the message names the user's file"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_figure_command_animation_has_every_clip_channel_and_tvl1(model_and_clip, tmp_path):
    from repflow.cli import main

    _, checkpoint, clip, _ = model_and_clip
    out = tmp_path / "anim.gif"
    argv = ["figure", "--model", str(checkpoint), "--clip", str(clip), "--clip", str(clip), "--channels", "0,1",
            "--frames", "8", "--size", "32", "--cell-px", "48", "--out", str(out)]
    assert main(argv) == 0
    gif = Image.open(out)
    assert gif.n_frames == 7, "one image per step of flow-of-flow 1/2"
    panels, strip, gap = 5, 31, 4  # frame, TV-L1, fcf-1, fcf-2, the colour wheel beside them; captions of two lines
    one_clip = 2 * (48 + strip)  # two channel rows
    assert gif.size == (panels * 48 + (panels - 1) * gap, 2 * one_clip + 8), "two clips, two channels, TV-L1"
    first = np.asarray(gif.convert("RGB"))
    tvl1 = first[strip : strip + 48, 52:100]
    assert (tvl1 != 255).any(), "the square's motion in the TV-L1 panel"
