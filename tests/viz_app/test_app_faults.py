"""The app under bad input keeps what the user had and says what went wrong in their words: a refused upload keeps
the previous upload, a broken or tiny video is named as the user named it, and names from uploads or the page's
address are shown as text (markdown in them makes no link)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.video import write_video
from tests.viz_app.apptest_helpers import assert_clean, new_app, run_app


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from viz_app import sources

    monkeypatch.setattr(sources.tempfile, "gettempdir", lambda: str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    return tmp_path / "cache"


def clip_bytes(tmp_path, frames, name="clip.mp4") -> bytes:
    return write_video(tmp_path / name, frames).read_bytes()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_an_empty_clip_upload_keeps_the_previous_upload(app_env, cache, tmp_path, moving_square):
    at = run_app()
    at.file_uploader(key="clip_upload").upload("mine.mp4", clip_bytes(tmp_path, moving_square(10, 48, 56)),
                                               "video/mp4").run()
    assert "on **mine.mp4**" in at.caption[0].value
    at.file_uploader(key="clip_upload").clear().run()
    at.file_uploader(key="clip_upload").upload("empty.mp4", b"", "video/mp4").run()
    assert not at.exception
    assert any("Video upload refused: empty.mp4: the file is empty" in e for e in errors(at)), errors(at)
    assert "on **mine.mp4**" in at.caption[0].value, "the previous upload stays, not the sample clip"


def test_an_empty_checkpoint_upload_keeps_the_previous_upload(app_env, cache, tmp_path, tiny_model):
    mine = save_checkpoint(tmp_path / "mine.pt", model_payload(tiny_model("rep", seed=3)))
    at = run_app()
    at.file_uploader(key="model_upload").upload("mine.pt", mine.read_bytes(), "application/octet-stream").run()
    assert "**mine.pt**" in at.caption[0].value
    at.file_uploader(key="model_upload").clear().run()
    at.file_uploader(key="model_upload").upload("empty.pt", b"", "application/octet-stream").run()
    assert not at.exception
    assert any("Checkpoint upload refused: empty.pt: the file is empty" in e for e in errors(at)), errors(at)
    assert "**mine.pt**" in at.caption[0].value, "the previous upload stays, not the bundled model"


def test_a_half_downloaded_video_is_named_as_the_user_named_it(app_env, cache, tmp_path, moving_square):
    whole = clip_bytes(tmp_path, moving_square(40, 64, 80))
    start, end = whole.find(b"mdat") + 4, whole.find(b"moov")  # frames missing mid-file; the index is whole
    quarter = (end - start) // 4
    holes = whole[: start + quarter] + bytes(2 * quarter) + whole[start + 3 * quarter :]
    at = run_app()
    at.file_uploader(key="clip_upload").upload("my download.mp4", holes, "video/mp4").run()
    assert not at.exception
    shown = " ".join(errors(at) + [w.value for w in at.warning])
    assert "my download.mp4" in shown, shown
    assert "/tmp" not in shown and "repflow_viz" not in shown and str(cache) not in shown, shown


@pytest.mark.parametrize("height, width", [(1, 1), (17, 23)])
def test_a_video_smaller_than_the_model_input_is_refused_as_the_cli_refuses_it(app_env, cache, tmp_path,
                                                                                  moving_square, height, width):
    frames = moving_square(8, 64, 80)[:, :height, :width]
    at = run_app()
    at.file_uploader(key="clip_upload").upload("tiny.mp4", clip_bytes(tmp_path, frames), "video/mp4").run()
    assert not at.exception
    assert any(e.startswith("Cannot use the video tiny.mp4: ") and f"frames are {width}x{height} px" in e
               for e in errors(at)), errors(at)
    assert "on **square.mp4**" in at.caption[0].value


MARKDOWN_NAME = "[prize](https://evil.example) **bold** www.evil.example.mp4"


def test_markdown_in_an_uploaded_file_name_is_shown_as_text(app_env, cache, tmp_path, moving_square):
    at = run_app()
    at.file_uploader(key="clip_upload").upload(MARKDOWN_NAME, clip_bytes(tmp_path, moving_square(10, 48, 56)),
                                               "video/mp4").run()
    assert_clean(at)
    caption = at.caption[0].value
    assert "[prize](https://evil.example)" not in caption and "www.evil" not in caption, caption
    assert r"\[prize\]\(https\:\/\/evil.example\) \*\*bold\*\* www\.evil.example.mp4" in caption, caption


def test_markdown_in_the_addresss_clip_name_is_shown_as_text(app_env, cache, tmp_path, moving_square):
    at = run_app()
    at.file_uploader(key="clip_upload").upload("mine.mp4", clip_bytes(tmp_path, moving_square(10, 48, 56)),
                                               "video/mp4").run()
    address = {**dict(at.query_params), "clip_name": MARKDOWN_NAME}
    reopened = new_app()
    reopened.query_params.update(address)
    reopened.run()
    assert_clean(reopened)
    shown = [reopened.caption[0].value, *(c.value for c in reopened.sidebar.caption)]
    assert not [text for text in shown if "](https://" in text or "**bold**" in text], shown
    gone = new_app()
    gone.query_params.update({"clip": "0123456789abcdef.mp4", "clip_name": MARKDOWN_NAME})
    gone.run()
    assert [w.value for w in gone.warning if "](https://" in w.value] == []
