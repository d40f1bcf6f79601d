"""Helpers the AppTest test files share (importable as ``tests.viz_app.apptest_helpers``: conftest puts the
repository root on ``sys.path``)."""

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from viz_app import component_files, main_row

TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[2] / "viz_app" / "explorer.py")
ROW_NAME = main_row.NAME


def new_app() -> AppTest:
    """The viewer in AppTest, as a session whose page has shown its main row. AppTest runs no component code, so
    the row's report of its first paint (:data:`viz_app.main_row.SHOWN`; until it comes, a session's first view is
    the row alone) is given here; ``test_main_row`` and the browser tests check the report itself."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[main_row.SHOWN] = {"shown": True}
    return at


def run_app() -> AppTest:
    """The viewer, run once in AppTest."""
    return new_app().run()


def assert_clean(at: AppTest) -> None:
    """No exception and no error message on the page."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def main_rows(at: AppTest) -> list:
    """The explorer's main rows on the page (one, or none when it shows an error instead); the empty element
    :func:`viz_app.main_row.load_code` places is not one."""
    return [element for element in at.get("bidi_component")
            if element.proto.component_name == ROW_NAME and element.proto.bytes]


def row_message(at: AppTest) -> tuple[dict, bytes]:
    """What the server sent the explorer's main row (:mod:`viz_app.main_row`): its arguments and the bytes of its
    data file it got inside the message."""
    rows = main_rows(at)
    assert len(rows) == 1, f"{len(rows)} main rows on the page"
    return component_files.unpack(rows[0].proto.bytes)


def row_args(at: AppTest) -> dict:
    """What the server sent the main row: its data file, the classical TV-L1 file and the server's view of the
    controls (``state``)."""
    return row_message(at)[0]


def row_bytes_sent(at: AppTest) -> int:
    """How many bytes of its data file the main row got inside the message (0: only the file's name)."""
    return len(row_message(at)[1])


def row_file(name: str, timeout_s: float = TIMEOUT) -> dict:
    """The header of one of the row's data files (waiting for a classical TV-L1 file the background job writes)."""
    path = main_row.served_folder() / name
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return component_files.unpack(path.read_bytes())[0]


def row_panels(at: AppTest) -> list[tuple[str, str]]:
    """(identity, caption) of every panel the main row shows in the server's state, captioned as the page captions
    them (the browser test checks the page's captions against these): the identity names what is drawn."""
    args = row_args(at)
    header, state = row_file(args["file"]), args["state"]
    step, numbers = state["step"], header["frame_numbers"]
    display = json.dumps({key: value for key, value in state.items() if key not in ("layer", "channel", "step")})
    panels = [(f"{args['file']} frame {step} {state['panel_px']}", f"frame {numbers[step]} (input crop)")]
    for layer in header["layers"]:
        channels, steps = layer["shape"][:2]
        channel = min(state["channel"], channels - 1)
        if step >= steps:
            panels.append(("note", f"{layer['label']}: no step {step} (it compares {layer['compares']} frames)"))
            continue
        scale = {"clip": layer["clip_scales"][channel], "frame": layer["frame_scales"][channel][step],
                 "fixed": state["fixed_max"]}[state["normalisation"]]
        marker = "▶ " if layer["name"] == state["layer"] else ""
        panels.append((f"{args['file']} {layer['name']} {channel} {step} {display}",
                       f"{marker}{layer['label']} · {layer['channel_labels'][channel]} · t {step}: frames "
                       f"{layer['step_labels'][step]} · scale {scale:.3g} {header['units_short']}"))
    if args["classical"] and step + 1 < len(numbers):
        classical = row_file(args["classical"])
        scale = classical["scales"][step - classical["first_step"]]
        panels.append((f"{args['classical']} {step} {display}",
                       f"classical TV-L1 (OpenCV) · t {step}: frames {numbers[step]}→{numbers[step + 1]} · "
                       f"scale {scale:.3g} input px/step (this pair)"))
    return panels


def captions(at: AppTest) -> list[str]:
    """The captions of the main row's panels, then of the page's images."""
    return [caption for _, caption in row_panels(at)] + [image.captions[0] for image in at.image if image.captions]


def image_panel(at: AppTest, label: str) -> tuple[str, str]:
    """(identity, caption) of the main row's panel whose caption contains ``label``, else (url, caption) of such an
    image on the page."""
    shown = row_panels(at) if main_rows(at) else []
    shown += [(image.value[0], image.captions[0]) for image in at.image if image.captions]
    for identity, caption in shown:
        if label in caption:
            return identity, caption
    raise AssertionError(f"no panel captioned {label!r}; captions: {[caption for _, caption in shown]}")


def markdown_table(at: AppTest, first_column: str) -> list[dict[str, str]]:
    """The rows (header -> cell, markdown escapes removed) of the page's markdown table whose first column is
    ``first_column`` (the top-5 predictions: "class"; the learned parameters: "layer")."""
    for element in at.markdown:
        lines = element.value.splitlines()
        if lines and lines[0].startswith(f"| {first_column} |"):
            header = [cell.strip() for cell in lines[0].strip("|").split("|")]
            return [dict(zip(header, (cell.strip().replace("\\", "") for cell in line.strip("|").split("|"))))
                    for line in lines[2:]]
    raise AssertionError(f"no table starting with a {first_column!r} column on the page")


def open_export(at: AppTest) -> AppTest:
    """Open the "Export for papers" section (drawn only while open) and run."""
    at.session_state["export_open"] = True
    return at.run()


def export_rows(at: AppTest):
    """The export's "Channels (rows)" multiselect (its key names the shown view)."""
    return next(widget for widget in at.multiselect if widget.label == "Channels (rows)")


def export_columns(at: AppTest):
    """The export's "Time steps (columns)" multiselect."""
    return next(widget for widget in at.multiselect if widget.label == "Time steps (columns)")
