"""Tests for repflow.video.writer: round trip, odd sizes, bad input, repeatable bytes."""

import hashlib

import numpy as np
import pytest

from repflow.data.synthetic import ACTION_NAMES, generate_clip
from repflow.data.toy import moving_texture
from repflow.video import read_frames, write_video


def test_the_same_frames_give_the_same_file(tmp_path):
    # Synthetic clips made x264 (with macroblock-tree rate control) write different bytes on each call.
    clips = [generate_clip(action, (0, 1, seed), size=64, num_frames=16) for action in ACTION_NAMES for seed in (0, 1)]
    for index, frames in enumerate(clips):
        digests = {
            hashlib.sha1(write_video(tmp_path / f"{index}_{n}.mp4", frames, fps=15).read_bytes()).hexdigest()
            for n in range(3)
        }
        assert len(digests) == 1, f"clip {index}: {len(digests)} different files from the same frames"


@pytest.mark.parametrize("height, width", [(32, 48), (33, 47)])
def test_round_trip_is_close_and_keeps_the_size(tmp_path, height, width):
    frames = moving_texture(6, height, width, velocity=(1.0, 0.0), seed=5)
    decoded = read_frames(write_video(tmp_path / "clip.mp4", frames), list(range(6)))
    assert decoded.shape == frames.shape
    error = np.abs(decoded.astype(int) - frames.astype(int)).mean()
    assert error < 8, f"mean absolute error {error:.1f} levels"


def test_bad_frames_are_refused(tmp_path):
    with pytest.raises(ValueError, match="uint8 frames"):
        write_video(tmp_path / "x.mp4", np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="zero frames"):
        write_video(tmp_path / "x.mp4", np.zeros((0, 8, 8, 3), np.uint8))
    assert not list(tmp_path.iterdir()), "nothing is left behind"
