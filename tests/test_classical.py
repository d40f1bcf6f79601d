"""Tests of the OpenCV TV-L1 wrapper (repflow.classical)."""

from __future__ import annotations

import numpy as np
import pytest

from repflow.classical import tvl1


def _textured_clip(shift_x: int, shift_y: int, frames: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    texture = (rng.random((80, 80)) * 255).astype(np.uint8)
    texture = np.repeat(np.repeat(texture, 2, axis=0), 2, axis=1)  # blobs of 2x2 px
    clip = [np.roll(texture, (t * shift_y, t * shift_x), axis=(0, 1))[20:100, 20:120] for t in range(frames)]
    return np.stack([np.stack([frame] * 3, axis=-1) for frame in clip])


def test_tvl1_recovers_integer_motion_with_sign():
    flows = tvl1(_textured_clip(2, -1))
    assert flows.shape == (2, 80, 100, 2) and flows.dtype == np.float32
    inner = flows[:, 10:-10, 10:-10]
    assert inner[..., 0].mean() == pytest.approx(2.0, abs=0.2)
    assert inner[..., 1].mean() == pytest.approx(-1.0, abs=0.2)


def test_tvl1_accepts_gray_and_rejects_bad_input():
    gray = _textured_clip(1, 0)[..., 0]
    assert tvl1(gray).shape == (2, 80, 100, 2)
    with pytest.raises(ValueError, match="at least 2 frames"):
        tvl1(gray[:1])
    with pytest.raises(ValueError, match="uint8"):
        tvl1(gray.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        tvl1(np.zeros((3, 8, 8, 4), dtype=np.uint8))


def test_tvl1_in_several_threads_gives_the_same_flows_in_order():
    rng = np.random.default_rng(1)
    clip = _textured_clip(1, 1, frames=5)
    clip[2] = rng.integers(0, 255, clip[2].shape, dtype=np.uint8)  # pairs that differ, so the order shows
    one = tvl1(clip, nscales=2, warps=2)
    assert np.array_equal(tvl1(clip, nscales=2, warps=2, workers=3), one)
    assert np.array_equal(tvl1(clip, nscales=2, warps=2, workers=16), one)
