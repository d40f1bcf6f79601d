"""`repflow bench alignment` (the score itself: tests/test_agreement.py)."""

from __future__ import annotations

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.cli import main
from repflow.models import ModelConfig, build_model


def test_bench_alignment_prints_each_flow_layer_with_both_controls(tmp_path, capsys):
    from repflow.data.synthetic import generate_clip
    from repflow.video import write_video

    model = build_model(ModelConfig(num_classes=3, flow="fcf", flow_after="layer1", width=4, flow_channels=2, n_iter=2))
    payload = {**model_payload(model), "clip": {"frames": 4, "stride": 1, "size": 32, "short_side": 32}}
    checkpoint = save_checkpoint(tmp_path / "fcf.pt", payload)
    video = write_video(tmp_path / "waving.mp4", generate_clip("waving", 3, size=32, num_frames=6), fps=15.0)
    assert main(["bench", "alignment", "--checkpoints", str(checkpoint), "--data", str(video)]) == 0
    out = capsys.readouterr().out
    assert "random weights" in out and "TV-L1 on pixels" in out
    assert "flow-of-flow 1/2" in out and "flow-of-flow 2/2" in out and " 8x8 " in out


def test_bench_alignment_names_a_missing_input_in_one_line(tmp_path, capsys):
    argv = ["bench", "alignment", "--checkpoints", str(tmp_path / "none.pt"), "--data", str(tmp_path / "no.mp4")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("repflow bench alignment:") and "no.mp4 does not exist" in err and "\n" not in err


def test_bench_alignment_scores_probes_on_other_layers_of_a_model_without_flow_layers(tmp_path, capsys):
    from repflow.data.synthetic import generate_clip
    from repflow.video import write_video

    model = build_model(ModelConfig(num_classes=3, width=4, n_iter=2))
    payload = {**model_payload(model), "clip": {"frames": 4, "stride": 1, "size": 32, "short_side": 32}}
    checkpoint = save_checkpoint(tmp_path / "rgb.pt", payload)
    video = write_video(tmp_path / "waving.mp4", generate_clip("waving", 3, size=32, num_frames=6), fps=15.0)
    argv = ["bench", "alignment", "--checkpoints", str(checkpoint), "--data", str(video), "--probes", "stem", "layer2"]
    assert main(argv) == 0
    rows = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.startswith("probe ")}
    assert set(rows) == {"stem", "layer2"}
    assert rows["stem"].split()[2] == "8x8" and rows["layer2"].split()[2] == "4x4"
    assert rows["stem"].split()[3] == "4"  # every channel of the stem's output (width 4)


def test_bench_alignment_names_an_unknown_probe_layer_in_one_line(tmp_path, capsys):
    from repflow.data.synthetic import generate_clip
    from repflow.video import write_video

    model = build_model(ModelConfig(num_classes=3, flow="rep", flow_after="layer1", width=4, n_iter=2))
    checkpoint = save_checkpoint(tmp_path / "rep.pt", model_payload(model))
    video = write_video(tmp_path / "waving.mp4", generate_clip("waving", 3, size=32, num_frames=6), fps=15.0)
    argv = ["bench", "alignment", "--checkpoints", str(checkpoint), "--data", str(video), "--probes", "layer9"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("repflow bench alignment:") and "'layer9'" in err and "\n" not in err
