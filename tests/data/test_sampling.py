"""repflow.data.sampling: clip frame indices."""

from __future__ import annotations

import numpy as np
import pytest

from repflow.data.sampling import clip_indices, clip_span, random_clip, uniform_clips


def test_span_and_indices():
    assert clip_span(4, 2) == 7
    assert clip_indices(3, 4, 2, 100).tolist() == [3, 5, 7, 9]


def test_short_video_repeats_last_frame():
    assert clip_indices(0, 5, 2, 6).tolist() == [0, 2, 4, 5, 5]


def test_random_clip_fits_and_is_seeded():
    a = random_clip(30, 8, 2, np.random.default_rng(1))
    b = random_clip(30, 8, 2, np.random.default_rng(1))
    assert np.array_equal(a, b)
    starts = {int(random_clip(30, 8, 2, np.random.default_rng(s))[0]) for s in range(200)}
    assert starts == set(range(0, 30 - 15 + 1))


def test_uniform_clips_cover_the_video():
    clips = uniform_clips(40, 8, 1, 3)
    assert [c[0] for c in clips] == [0, 16, 32] and clips[-1][-1] == 39
    assert uniform_clips(40, 8, 1, 1)[0][0] == 16
    assert all(c.tolist() == list(range(4)) for c in uniform_clips(4, 4, 1, 5))


@pytest.mark.parametrize("args", [(0, 1), (4, 0)])
def test_bad_arguments(args):
    with pytest.raises(ValueError):
        clip_span(*args)
    with pytest.raises(ValueError, match="num_clips"):
        uniform_clips(10, 4, 1, 0)
