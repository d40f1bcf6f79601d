"""repflow.data.transforms: to_model_input, crops, flips and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repflow.data.transforms import (
    MEAN,
    STD,
    View,
    apply_view,
    apply_view_to_flow,
    as_rgb,
    center_view,
    eval_views,
    normalize,
    normalize_flow,
    random_view,
    resize_short_side,
    to_model_input,
)


def test_to_model_input_shape_and_values():
    frames = np.full((5, 48, 64, 3), 255, np.uint8)
    frames[:, :, :, 1] = 0
    clip = to_model_input(frames, 32)
    assert clip.shape == (3, 5, 32, 32) and clip.dtype == torch.float32
    assert torch.allclose(clip[0], torch.tensor((1.0 - MEAN[0]) / STD[0]))
    assert torch.allclose(clip[1], torch.tensor((0.0 - MEAN[1]) / STD[1]))


def test_to_model_input_gray_and_portrait():
    gray = np.random.default_rng(0).integers(0, 256, (3, 70, 40), dtype=np.uint8)
    clip = to_model_input(gray, 32)
    assert clip.shape == (3, 3, 32, 32)
    assert torch.equal(clip[0], clip[1]) and torch.equal(clip[1], clip[2])


def test_to_model_input_takes_the_centre():
    frames = np.zeros((1, 32, 96, 3), np.uint8)
    frames[:, :, 32:64] = 255  # only the middle third is white
    clip = to_model_input(frames, 32)
    assert torch.allclose(clip, torch.tensor((1.0 - MEAN[0]) / STD[0]))


def test_to_model_input_with_short_side_is_the_eval_centre_view():
    frames = np.random.default_rng(1).integers(0, 256, (4, 64, 80, 3), dtype=np.uint8)
    resized = resize_short_side(frames, 40)
    expected = normalize(apply_view(resized, eval_views(*resized.shape[1:3], 32, 1)[0]))
    assert torch.equal(to_model_input(frames, 32, short_side=40), expected)
    assert not torch.equal(to_model_input(frames, 32), expected), "without short_side the crop covers the short side"
    with pytest.raises(ValueError, match="short_side"):
        to_model_input(frames, 32, short_side=24)


@pytest.mark.parametrize(
    "frames, message",
    [
        (np.zeros((2, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((2, 8, 8, 4), np.uint8), "shape"),
        (np.zeros((8, 8), np.uint8), "shape"),
        (np.zeros((0, 8, 8, 3), np.uint8), "shape"),
    ],
)
def test_bad_frames_are_rejected(frames, message):
    with pytest.raises(ValueError, match=message):
        to_model_input(frames, 4)


def test_resize_short_side_keeps_aspect():
    frames = np.zeros((2, 48, 64, 3), np.uint8)
    assert resize_short_side(frames, 24).shape == (2, 24, 32, 3)
    flow = np.zeros((2, 48, 64, 2), np.float32)
    assert resize_short_side(flow, 96).shape == (2, 96, 128, 2)


def test_random_view_is_seeded_and_in_bounds():
    views = [random_view(40, 60, 32, np.random.default_rng(7)) for _ in range(2)]
    assert views[0] == views[1]
    many = [random_view(40, 60, 32, np.random.default_rng(seed)) for seed in range(50)]
    assert all(0 <= v.top <= 8 and 0 <= v.left <= 28 for v in many)
    assert {v.flip for v in many} == {True, False}
    assert len({(v.top, v.left) for v in many}) > 10


def test_eval_views():
    assert eval_views(40, 60, 32, 1) == [center_view(40, 60, 32)] == [View(4, 14, 32)]
    assert [v.left for v in eval_views(40, 60, 32, 3)] == [0, 14, 28]
    assert [v.top for v in eval_views(60, 40, 32, 3)] == [0, 14, 28]
    with pytest.raises(ValueError, match="num_crops"):
        eval_views(40, 60, 32, 2)
    with pytest.raises(ValueError, match="does not fit"):
        center_view(20, 60, 32)


def test_flip_mirrors_frames_and_negates_flow_x():
    frames = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    view = View(0, 0, 4, flip=True)
    assert np.array_equal(apply_view(frames, view), frames[:, :, ::-1])
    flow = np.ones((1, 4, 4, 2), np.float32)
    flipped = apply_view_to_flow(flow, view)
    assert np.all(flipped[..., 0] == -1) and np.all(flipped[..., 1] == 1)


def test_normalize_layout_and_flow_scaling():
    frames = np.zeros((3, 2, 2, 3), np.uint8)
    frames[1, ..., 2] = 255
    clip = normalize(frames)
    assert clip.shape == (3, 3, 2, 2)
    assert torch.allclose(clip[2, 1], torch.tensor((1.0 - MEAN[2]) / STD[2]))
    flow = normalize_flow(np.array([[[[40.0, -10.0]]]], np.float32))
    assert flow.shape == (2, 1, 1, 1) and flow.flatten().tolist() == [1.0, -0.5]


def test_as_rgb_accepts_single_channel():
    assert as_rgb(np.zeros((2, 3, 3, 1), np.uint8)).shape == (2, 3, 3, 3)
