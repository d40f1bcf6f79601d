"""Tests for viz_app.sources: folders, defaults from checkpoints, upload checks, frame windows."""

import os
from pathlib import Path

import pytest

from repflow.checkpoint import TrainingClip
from viz_app import sources


def test_folders_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(tmp_path / "m"))
    monkeypatch.delenv("REPFLOW_SAMPLES_DIR", raising=False)
    assert sources.models_dir() == tmp_path / "m"
    assert sources.samples_dir() == sources.REPO_ROOT / "sample_videos"


def test_find_models_and_clips_filter_by_suffix(tmp_path):
    for name in ["b.pt", "a.pth", "notes.txt", "x.MP4", "y.webm", "z.csv"]:
        (tmp_path / name).write_bytes(b"1")
    assert [p.name for p in sources.find_models(tmp_path)] == ["a.pth", "b.pt"]
    assert [p.name for p in sources.find_clips(tmp_path)] == ["x.MP4", "y.webm"]
    assert sources.find_models(tmp_path / "missing") == []


def test_default_model_prefers_flow_of_flow_then_rep():
    def index(configs, names=None):
        return sources.default_model_index(names or [f"{i}.pt" for i in range(len(configs))], lambda: configs)

    assert index([{"flow": "none"}, {"flow": "rep"}, {"flow": "fcf"}]) == 2
    assert index([None, {"flow": "none"}, {"flow": "rep"}]) == 2
    assert index([{"flow": "none"}]) == 0
    names = ["motion_only_flow_of_flow.pt", sources.DEFAULT_MODEL]
    read = []
    assert sources.default_model_index(names, lambda: read.append(1) or [{"flow": "fcf"}] * 2) == 1, "named first"
    assert read == [], "no checkpoint is read to find the named default"
    clips = [Path("a.mp4"), Path(sources.DEFAULT_CLIP), Path("z.mp4")]
    assert sources.default_clip_index(clips) == 1 and sources.default_clip_index(clips[::2]) == 0


def test_the_bundled_folders_open_on_the_main_sets_model_and_clip(monkeypatch):
    """The motion-only models and clips sort before the main set's: the app still opens on its default pair."""
    monkeypatch.delenv("REPFLOW_MODELS_DIR", raising=False)
    monkeypatch.delenv("REPFLOW_SAMPLES_DIR", raising=False)
    models, clips = sources.find_models(sources.models_dir()), sources.find_clips(sources.samples_dir())
    assert any(path.name.startswith("motion_only_") for path in models + clips)
    configs = [{"flow": "fcf"}] * len(models)  # every one a candidate: only the name can decide
    chosen = sources.default_model_index([p.name for p in models], lambda: configs)
    assert models[chosen].name == "synthetic112_flow_of_flow.pt"
    assert clips[sources.default_clip_index(clips)].name == "synthetic_jumping_jacks.mp4"


def window_defaults(payload: dict, min_frames: int = sources.MIN_FRAMES) -> tuple:
    return sources.window_defaults(TrainingClip.from_payload(payload), min_frames)


def test_window_defaults_and_class_names_from_checkpoint():
    assert window_defaults({"clip": {"frames": 8, "size": 96}}) == (8, 96, 1, 1.0, ())
    assert window_defaults({"clip": {"frames": 8, "size": 96, "stride": 2, "short_side": 128}}) == (8, 96, 2, 0.75, ())
    assert sources.ClipWindow(size=96, crop=0.75).short_side == 128
    defaults = (16, 112, 1, 1.0, ())  # ClipSpec's, the training defaults
    assert window_defaults({"clip": {"frames": 0, "size": "big", "stride": 0}}) == defaults, "not recorded"
    assert window_defaults({}) == defaults
    assert window_defaults({"clip": {"frames": 8}}, min_frames=11)[0] == 11, "a model's shortest clip (TVNet)"
    *window, notes = window_defaults({"clip": {"frames": 1000, "size": 16, "stride": 12}})
    assert window == [64, 32, 8, 1.0], "the nearest values the app takes"
    assert notes == (
        "The model was trained with clips of 1000 frames; the app takes 3–64, so it uses 64.",
        "The model was trained with input size 16 px; the app takes 32–448, so it uses 32.",
        "The model was trained with frame stride 12; the app takes 1–8, so it uses 8.",
    )
    assert sources.class_names({"class_names": ["a", "b"]}, 2) == ["a", "b"]
    assert sources.class_names({"classes": ["a"]}, 2) == ["class 0", "class 1"], "wrong length is ignored"


def test_upload_size_checks_name_the_file():
    with pytest.raises(sources.SourceError, match="clip.mp4: the file is empty"):
        sources.check_upload_size("clip.mp4", 0)
    with pytest.raises(sources.SourceError, match="big.mp4: 300 MB is over the 200 MB upload limit"):
        sources.check_upload_size("big.mp4", 300 * 2**20)
    sources.check_upload_size("ok.mp4", 10)


def test_store_upload_is_content_addressed(tmp_path, monkeypatch):
    monkeypatch.setattr(sources.tempfile, "gettempdir", lambda: str(tmp_path))
    first = sources.store_upload("My Clip.MP4", b"abc", kind="clips")
    assert first.suffix == ".mp4" and first.read_bytes() == b"abc"
    assert sources.store_upload("other.mp4", b"abc", kind="clips") == first
    assert sources.store_upload("c.mp4", b"abd", kind="clips") != first


def test_fit_window_clamps_and_refuses_short_clips():
    window = sources.ClipWindow(start=50, frames=16, size=112)
    assert sources.fit_window(window, 40, "a.mp4") == sources.ClipWindow(start=24, frames=16, size=112)
    assert sources.fit_window(window, 5, "a.mp4") == sources.ClipWindow(start=0, frames=5, size=112)
    assert sources.fit_window(sources.ClipWindow(frames=500), 1000, "a.mp4").frames == sources.MAX_FRAMES
    assert sources.fit_window(sources.ClipWindow(size=56, crop=0.875), 40, "a.mp4").short_side == 64, "keeps the view"


def test_strided_window_reads_every_nth_frame_and_fits_the_clip():
    window = sources.ClipWindow(start=30, frames=8, size=56, stride=2)
    assert window.indices() == [30, 32, 34, 36, 38, 40, 42, 44] and window.span == 15
    fitted = sources.fit_window(window, 38, "a.mp4")
    assert fitted == sources.ClipWindow(start=23, frames=8, size=56, stride=2)
    assert fitted.indices()[-1] == 37
    short = sources.fit_window(sources.ClipWindow(frames=8, stride=4), 7, "b.mp4")
    assert short.stride == 3 and short.frames == 3 and short.indices() == [0, 3, 6]
    with pytest.raises(sources.SourceError, match="a.mp4: the video has 2 frames; the model needs at least 3"):
        sources.fit_window(window, 2, "a.mp4")


def test_upload_cache_keeps_the_most_recent_files_within_its_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(sources.tempfile, "gettempdir", lambda: str(tmp_path))
    paths = []
    for index in range(5):
        paths.append(sources.store_upload(f"c{index}.mp4", bytes([index]) * 1000, kind="clips", max_files=3))
        os.utime(paths[-1], ns=(index * 10**9, index * 10**9))  # distinct ages, oldest first
    assert [p.exists() for p in paths] == [False, False, True, True, True], "count limit: the two oldest went"
    again = sources.store_upload("again.mp4", bytes([2]) * 1000, kind="clips", max_files=3)
    assert again == paths[2] and again.stat().st_mtime_ns == 2 * 10**9, "same bytes: same file, unchanged"
    sources.store_upload("new.mp4", b"n" * 1000, kind="clips", max_files=3)
    assert [p.exists() for p in paths] == [False, False, False, True, True], "c2 was the oldest"

    big = sources.store_upload("big.mp4", b"b" * 3000, kind="clips", max_files=10, max_mb=3500 / 2**20)
    left = sorted(p.name for p in (tmp_path / "repflow_viz" / "clips").iterdir())
    assert big.exists() and len(left) == 1, f"size limit: only the file just stored fits ({left})"
    alone = sources.store_upload("huge.mp4", b"h" * 5000, kind="clips", max_files=10, max_mb=3500 / 2**20)
    assert alone.exists(), "the file just stored is kept even over the limit"
    assert not (tmp_path / "repflow_viz" / "models").exists(), "each kind has its own cache"
