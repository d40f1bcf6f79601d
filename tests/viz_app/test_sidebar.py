"""The sidebar's choices that do not need a page: the first step shown."""

from __future__ import annotations

import cv2
import numpy as np

from viz_app import compute
from viz_app.sidebar import step_of_most_local_motion


def scene(square_x: int, shift: int = 0) -> np.ndarray:
    """A smooth random texture (96 x 96 x 3, uint8) with a white square at column ``square_x``, all moved right by
    ``shift`` pixels (a camera pan)."""
    coarse = np.random.default_rng(0).integers(0, 255, (12, 12)).astype(np.float32)
    image = cv2.GaussianBlur(np.kron(coarse, np.ones((8, 8), np.float32)), (0, 0), 2.0)
    image[40:56, square_x : square_x + 16] = 255
    return np.repeat(np.roll(image, shift, axis=1)[..., None], 3, axis=2).astype(np.uint8)


def test_first_step_shown_is_the_most_moving_local_step_not_a_camera_pan():
    frames = np.stack([scene(30), scene(30), scene(33), scene(33, shift=4)])  # steps: still, square moves, pan
    motion = compute.classical_motion(frames).mean(axis=(1, 2))
    assert np.argmax(motion) == 2  # the pan moves most: "most motion" alone would open on it
    assert step_of_most_local_motion(frames, 3) == 1
    assert step_of_most_local_motion(frames[2:], 1) == 0  # only a pan: the most moving of all steps


def test_first_step_shown_is_0_when_motion_cannot_be_measured():
    assert step_of_most_local_motion(np.zeros((1, 8, 8, 3), np.uint8), 1) == 0
