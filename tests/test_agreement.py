"""Agreement with TV-L1 (repflow.agreement): per-channel Pearson r of |flow| with OpenCV TV-L1 |flow| on steps of
local motion, and the channel ranking it gives."""

from __future__ import annotations

import numpy as np

from repflow.agreement import (
    channel_agreement,
    counted_steps,
    rank_by_agreement,
    reference_motion,
    step_correlations,
    tvl1_magnitude,
)


def square_moving_on_still_background(frames: int = 5, size: int = 48) -> np.ndarray:
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


def test_the_channel_whose_flow_is_the_tvl1_flow_agrees_and_ranks_first():
    frames = square_moving_on_still_background()
    motion = tvl1_magnitude(frames)
    reference = reference_motion(motion, (12, 12), len(frames) - 1)  # (T - 1, 12, 12)
    assert counted_steps(reference).all()  # the square is local motion
    flows = np.random.default_rng(2).standard_normal((3, len(frames) - 1, 12, 12, 2)).astype(np.float32)  # noise
    flows[2] = 0.0
    flows[2, ..., 1] = -reference  # channel 2: upward flow whose magnitude is the TV-L1 magnitude
    agreement = channel_agreement(flows, frames)
    assert agreement.shape == (3,)
    assert agreement[2] > 0.99
    assert np.abs(agreement[:2]).max() < 0.3
    assert rank_by_agreement(agreement)[0] == 2
    np.testing.assert_array_equal(channel_agreement(flows, frames, motion=motion), agreement)


def test_still_frames_give_no_agreement_and_nan_ranks_last():
    frames = np.repeat(square_moving_on_still_background()[:1], 4, axis=0)  # nothing moves
    flows = np.ones((2, 3, 6, 6, 2), np.float32)
    assert np.isnan(channel_agreement(flows, frames)).all()
    assert rank_by_agreement(np.array([0.1, np.nan, 0.4, -0.2])).tolist() == [2, 0, 3, 1]


def test_fewer_layer_steps_average_the_input_steps_they_span():
    magnitude = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 8, 8), dtype=np.float32)
    # flow-of-flow's second layer: 4 input steps -> 3 steps, step i from input steps i and i + 1
    np.testing.assert_allclose(reference_motion(magnitude, (4, 4), 3)[:, 0, 0], [0.5, 1.5, 2.5])
    np.testing.assert_allclose(reference_motion(magnitude, (4, 4), 2)[:, 0, 0], [1.0, 2.0])
