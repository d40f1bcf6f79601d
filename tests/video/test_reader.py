"""repflow.video.read_frames / video_info: both backends, fallback, resizing and every error type."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from repflow.data.toy import moving_texture
from repflow.video import (
    BackendError,
    NoFramesError,
    NotAVideoError,
    TooFewFramesError,
    UnsupportedCodecError,
    VideoError,
    VideoNotFoundError,
    read_clip,
    read_frames,
    video_info,
    write_video,
)

BACKENDS = ["auto", "decord", "pyav"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = moving_texture(16, 48, 64, velocity=(2.0, 1.0), seed=0)
    path = write_video(tmp_path_factory.mktemp("video") / "clip.mp4", frames)
    return path, frames


@pytest.mark.parametrize("backend", BACKENDS)
def test_info(clip, backend):
    info = video_info(clip[0], backend=backend)
    assert (info.num_frames, info.width, info.height) == (16, 64, 48)
    assert info.fps == pytest.approx(25.0)
    assert info.backend in ("decord", "pyav")


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_by_indices_matches_source(clip, backend):
    path, source = clip
    frames = read_frames(path, [5, 0, 5, 15], backend=backend)
    assert frames.shape == (4, 48, 64, 3) and frames.dtype == np.uint8
    # H.264 (4:2:0, crf 20) is lossy: ~7 grey levels off; a wrong frame (texture moved 6+ px) is ~50 off.
    for got, index in zip(frames, [5, 0, 5, 15]):
        assert np.abs(got.astype(int) - source[index]).mean() < 12
        assert np.abs(got.astype(int) - source[(index + 3) % 16]).mean() > 25


def test_backends_agree(clip):
    a = read_frames(clip[0], [1, 7], backend="decord")
    b = read_frames(clip[0], [1, 7], backend="pyav")
    assert np.abs(a.astype(int) - b).mean() < 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_short_side_resize_on_read(clip, backend):
    frames = read_frames(clip[0], [0, 1], short_side=24, backend=backend)
    assert frames.shape == (2, 24, 32, 3)


def test_all_frames_when_no_indices(clip):
    assert read_frames(clip[0]).shape == (16, 48, 64, 3)


def test_gray_video_comes_back_as_three_equal_channels(tmp_path):
    gray = moving_texture(6, 32, 40, velocity=(1.0, 0.0), seed=1)[..., :1].repeat(3, axis=-1)
    path = write_video(tmp_path / "gray.mp4", gray)
    frames = read_frames(path, [0, 5])
    assert frames.shape == (2, 32, 40, 3)
    assert np.abs(frames[..., 0].astype(int) - frames[..., 1]).max() <= 3


def test_decord_four_channel_bug_falls_back_to_pyav(tmp_path):
    """decord 0.6 returns (32, 48, 4) frames / fails for 32x48 H.264: auto must fall back, never pass garbage."""
    frames = moving_texture(8, 32, 48, velocity=(1.0, 0.0), seed=2)
    path = write_video(tmp_path / "small.mp4", frames)
    got = read_frames(path, [0, 3])
    assert got.shape == (2, 32, 48, 3)
    assert np.abs(got.astype(int) - frames[[0, 3]]).mean() < 12
    try:
        forced = read_frames(path, [0, 3], backend="decord")
    except BackendError as error:
        assert "small.mp4" in str(error)
    else:  # a fixed decord must then return correct frames
        assert forced.shape == (2, 32, 48, 3)


def test_missing_file(tmp_path):
    with pytest.raises(VideoNotFoundError, match="nope.mp4"):
        read_frames(tmp_path / "nope.mp4", [0])
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError, so the CLI reports it cleanly
        video_info(tmp_path / "nope.mp4")


@pytest.mark.parametrize("backend", BACKENDS)
def test_text_file_is_not_a_video(tmp_path, backend):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video")
    with pytest.raises(NotAVideoError, match="notes.mp4"):
        read_frames(path, [0], backend=backend)


def test_audio_only_file_is_not_a_video(tmp_path):
    path = tmp_path / "sound.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 800)
    with pytest.raises(NotAVideoError, match="no video stream"):
        video_info(path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fewer_frames_than_asked_says_how_many(clip, backend):
    with pytest.raises(TooFewFramesError, match="16 frames"):
        read_frames(clip[0], [0, 20], backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_undecodable_stream_has_no_frames(tmp_path, clip, backend):
    data = bytearray(clip[0].read_bytes())
    at = data.find(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)  # wipe every coded frame, keep the container valid
    path = tmp_path / "wiped.mp4"
    path.write_bytes(bytes(data))
    with pytest.raises(NoFramesError, match="wiped.mp4"):
        read_frames(path, [0], backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_codec(tmp_path, backend):
    path = write_video(tmp_path / "clip.avi", moving_texture(4, 32, 32, velocity=(1, 0), seed=3))
    data = path.read_bytes()
    assert b"H264" in data
    bad = tmp_path / "alien.avi"
    bad.write_bytes(data.replace(b"H264", b"QQZZ"))  # a FourCC no decoder knows
    with pytest.raises(UnsupportedCodecError, match="alien.avi"):
        read_frames(bad, [0], backend=backend)


def test_bad_arguments(clip):
    with pytest.raises(ValueError, match="backend"):
        read_frames(clip[0], [0], backend="opencv")
    with pytest.raises(ValueError, match=">= 0"):
        read_frames(clip[0], [-1])
    with pytest.raises(ValueError, match="non-empty"):
        read_frames(clip[0], [])


def test_errors_are_video_errors_and_value_errors():
    for error in (VideoNotFoundError, NotAVideoError, NoFramesError, TooFewFramesError, UnsupportedCodecError):
        assert issubclass(error, VideoError) and issubclass(error, ValueError)


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_clip_chooses_from_the_frame_count(clip, backend):
    seen = []

    def choose(num_frames):
        seen.append(num_frames)
        return [num_frames - 1, 0]

    frames, indices = read_clip(clip[0], choose, short_side=24, backend=backend)
    assert seen[-1] == 16 and indices.tolist() == [15, 0] and frames.shape == (2, 24, 32, 3)
    assert np.array_equal(frames, read_frames(clip[0], [15, 0], short_side=24, backend=backend))


def test_read_clip_falls_back_with_the_same_choice(tmp_path):
    path = write_video(tmp_path / "small.mp4", moving_texture(8, 32, 48, velocity=(1.0, 0.0), seed=4))
    frames, indices = read_clip(path, lambda n: np.arange(n)[::3])
    assert indices.tolist() == [0, 3, 6] and frames.shape == (3, 32, 48, 3)
    with pytest.raises(TooFewFramesError, match="small.mp4"):
        read_clip(path, lambda n: [n])
