"""Helpers the AppTest test files share (importable as ``tests.viz_app.apptest_helpers``: conftest puts the
repository root on ``sys.path``)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[2] / "viz_app" / "main.py")


def run_app() -> AppTest:
    """The viewer, run once in AppTest."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def assert_clean(at: AppTest) -> None:
    """No exception and no error message on the page."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def image_panel(at: AppTest, label: str) -> tuple[str, str]:
    """(url, caption) of the image whose caption contains ``label``."""
    for image in at.image:
        caption = image.captions[0] if image.captions else ""
        if label in caption:
            return image.value[0], caption
    raise AssertionError(f"no image captioned {label!r}; captions: {[i.captions for i in at.image]}")


def export_rows(at: AppTest):
    """The export's "Channels (rows)" multiselect (its key names the shown view)."""
    return next(widget for widget in at.multiselect if widget.label == "Channels (rows)")


def export_columns(at: AppTest):
    """The export's "Time steps (columns)" multiselect."""
    return next(widget for widget in at.multiselect if widget.label == "Time steps (columns)")
