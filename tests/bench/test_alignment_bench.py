"""Flow alignment with TV-L1: per-channel Pearson r on steps of local motion, and `repflow bench alignment`."""

from __future__ import annotations

import numpy as np
import torch

from repflow.bench.alignment import (
    channel_agreement,
    counted_steps,
    reference_motion,
    step_correlations,
    tvl1_magnitude,
)
from repflow.checkpoint import model_payload, save_checkpoint
from repflow.cli import main
from repflow.models import ModelConfig, build_model


def _square_moving_on_still_background(frames: int = 5, size: int = 48) -> np.ndarray:
    """uint8 (T, size, size, 3): a textured 12 px square moving 2 px right per frame over a still texture."""
    rng = np.random.default_rng(0)
    background = rng.integers(60, 120, size=(size // 4, size // 4), dtype=np.uint8)
    background = np.kron(background, np.ones((4, 4), dtype=np.uint8))
    patch = np.kron(rng.integers(150, 256, size=(3, 3), dtype=np.uint8), np.ones((4, 4), dtype=np.uint8))
    clip = np.repeat(background[None], frames, axis=0).copy()
    for t in range(frames):
        clip[t, 18:30, 8 + 2 * t : 20 + 2 * t] = patch
    return np.repeat(clip[..., None], 3, axis=-1)


def test_identical_maps_give_r_one_noise_gives_r_near_zero_and_a_constant_map_zero():
    rng = np.random.default_rng(1)
    reference = rng.random((6, 14, 14))
    noise = rng.random((6, 14, 14))
    r = step_correlations(np.stack([reference, 3 * reference + 2, noise, np.ones_like(noise)]), reference)
    np.testing.assert_allclose(r[:2], 1.0, atol=1e-9)
    assert np.abs(r[2]).mean() < 0.15  # 196 positions per step: |r| of unrelated noise ~ 0.07
    np.testing.assert_array_equal(r[3], 0.0)


def test_only_steps_of_local_motion_count():
    local = np.zeros((1, 8, 8))
    local[0, 2:4, 2:4] = 1.0  # a small moving patch
    whole_frame = np.full((1, 8, 8), 1.0) + 0.05 * np.random.default_rng(0).random((1, 8, 8))  # camera pan
    still = np.zeros((1, 8, 8))
    assert counted_steps(np.concatenate([local, whole_frame, still])).tolist() == [True, False, False]


def test_a_channel_whose_flow_is_the_tvl1_flow_agrees_and_noise_does_not():
    frames = _square_moving_on_still_background()
    reference = reference_motion(tvl1_magnitude(frames), (12, 12), len(frames) - 1)  # (T - 1, 12, 12)
    assert counted_steps(reference).all()  # the square is local motion
    flow = np.zeros((2, len(frames) - 1, 2, 12, 12), dtype=np.float32)
    flow[0, :, 0] = reference  # channel 0: x-flow whose magnitude is the TV-L1 magnitude
    flow[1] = np.random.default_rng(2).standard_normal(flow[1].shape)  # channel 1: noise
    agreement = channel_agreement(torch.from_numpy(flow), frames)
    assert agreement.shape == (2,)
    assert agreement[0] > 0.99
    assert abs(agreement[1]) < 0.3


def test_fewer_layer_steps_average_the_input_steps_they_span():
    magnitude = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 8, 8), dtype=np.float32)
    # flow-of-flow's second layer: 4 input steps -> 3 steps, step i from input steps i and i + 1
    np.testing.assert_allclose(reference_motion(magnitude, (4, 4), 3)[:, 0, 0], [0.5, 1.5, 2.5])
    np.testing.assert_allclose(reference_motion(magnitude, (4, 4), 2)[:, 0, 0], [1.0, 2.0])


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
