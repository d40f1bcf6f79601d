"""End-to-end: `streamlit run viz_app/main.py` driven by Debian's Chromium through Playwright.

Fails (never skips) under CI=true when Chromium is missing; elsewhere skips with the reason.
"""

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def require_browser() -> None:
    missing = [what for what, ok in [(CHROMIUM, Path(CHROMIUM).exists()), ("playwright", _has_playwright())] if not ok]
    if not missing:
        return
    reason = f"browser test needs {' and '.join(missing)} (apt-get install chromium; pip install playwright)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _has_playwright() -> bool:
    return importlib.util.find_spec("playwright") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command() -> list[str]:
    """The README's ``streamlit`` (the console script beside this Python), so the app must find ``viz_app`` as an
    installed package: ``python -m streamlit`` would put the working directory on sys.path and hide a missing one."""
    script = Path(sys.executable).parent / "streamlit"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "streamlit"]


def start_server(port: int, env: dict, log) -> subprocess.Popen:
    command = [
        *streamlit_command(), "run", "viz_app/main.py",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_port(port: int, server: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"streamlit did not listen on port {port} within {timeout} s")


def selected_flow_src(page) -> str:
    """The src of the selected layer's flow image (its caption starts with ▶)."""
    figure = page.locator("[data-testid='stImage']", has_text="▶").first
    return figure.locator("img").first.get_attribute("src")


def test_changing_the_channel_in_chromium_changes_the_flow_image(app_env, tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    port = free_port()
    log_path = tmp_path / "streamlit.log"
    log = log_path.open("wb")
    server = start_server(port, {**os.environ, "PYTHONUNBUFFERED": "1"}, log)
    try:
        wait_for_port(port, server, log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 1000},
            )
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
                page.locator("[data-testid='stImage']", has_text="▶").first.wait_for(timeout=60_000)
                before = selected_flow_src(page)
                channel = page.get_by_label("Channel (0–7)")
                channel.fill("3")
                channel.press("Enter")
                page.locator("[data-testid='stImage']", has_text="▶ flow-of-flow 2/2 · ch 3").first.wait_for(
                    timeout=30_000
                )
                after = selected_flow_src(page)
                page.screenshot(path=str(tmp_path / "viewer.png"), full_page=True)
                assert after != before, "the flow image must change with the channel"
                assert not page.locator("[data-testid='stException']").count()
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert (tmp_path / "viewer.png").stat().st_size > 10_000
    if os.environ.get("REPFLOW_KEEP_SCREENSHOT"):
        shutil.copy(tmp_path / "viewer.png", os.environ["REPFLOW_KEEP_SCREENSHOT"])


def browser_frame(page):
    """The channel browser's iframe, once its figure is drawn and its first view painted."""
    page.locator("iframe[title*='channel_browser']").first.wait_for(timeout=90_000)
    frame = next(f for f in page.frames if "channel_browser" in f.url)
    frame.wait_for_function("window.repflowBrowser && window.repflowBrowser.lastSwitch !== null", timeout=60_000)
    return frame


def painted_after(frame, key: str, switches: int, arrow: str = "ArrowRight") -> dict:
    """Press ``arrow`` on the ``key`` slider and wait until the browser has painted the new view."""
    frame.locator(f"#{key}").focus()
    frame.locator(f"#{key}").press(arrow)
    frame.wait_for_function(f"window.repflowBrowser.switches > {switches}", timeout=10_000)
    return frame.evaluate(
        "() => { const v = window.repflowBrowser, gd = document.getElementById('plot');"
        " return {channel: v.channel, step: v.step, switches: v.switches, scale: v.current.scale,"
        " u: Array.from(v.current.u), v: Array.from(v.current.v), direction: gd.layout.images[1].source,"
        " speed: gd.layout.images[2].source, status: document.getElementById('status').innerText}; }"
    )


def hover_cell(page, frame, x: int, y: int, width: int, height: int) -> str:
    """Move the mouse over cell (x, y) of the direction panel; returns the hover label's text."""
    box = frame.locator(".draglayer .x2y2 .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + (x + 0.5) * box["width"] / width, box["y"] + (y + 0.5) * box["height"] / height)
    label = frame.locator("#tooltip")
    label.wait_for(state="visible", timeout=5_000)
    return label.text_content()


def picture(uri: str):
    import base64
    import io

    import numpy as np
    from PIL import Image

    return np.array(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def hover_numbers(text: str) -> list[float]:
    import re

    patterns = (r"(?<!\|)u (-?\d+\.\d+)", r"v (-?\d+\.\d+)", r"\|u\| (\d+\.\d+)")
    return [float(re.search(pattern, text).group(1)) for pattern in patterns]


def expected_layer_flows(models):
    """The app's default view of the fixtures, computed here: the last flow layer of b_fcf.pt on square.mp4."""
    from repflow.checkpoint import load_checkpoint, load_model
    from repflow.figure import analyse_clip
    from repflow.video import read_frames
    from viz_app.sources import ClipWindow, clip_settings

    frames, size, stride, crop = clip_settings(load_checkpoint(models / "models" / "b_fcf.pt"))
    window = ClipWindow(frames=frames, size=size, stride=stride, crop=crop)
    video = read_frames(str(models / "clips" / "square.mp4"), window.indices(), short_side=window.short_side)
    model = load_model(str(models / "models" / "b_fcf.pt")).eval()
    analysis = analyse_clip(model, video, size=size, short_side=window.short_side)
    return list(analysis.flows.values())[-1]


def test_channel_browser_switches_and_hovers_in_chromium_without_a_rerun(app_env, tmp_path):
    """Channel and step switches repaint in the browser with the library's colours, hover reads (u, v, |u|) of the
    data, and the page sends nothing to the server meanwhile (a Streamlit rerun starts with a message from the
    page; changing the sidebar's channel, the control, does send one and moves the browser)."""
    require_browser()
    import numpy as np
    from playwright.sync_api import sync_playwright

    from repflow import flowviz

    expected = expected_layer_flows(app_env)
    channels, _, height, width = expected.shape[:4]
    port = free_port()
    log_path = tmp_path / "streamlit.log"
    log = log_path.open("wb")
    server = start_server(port, {**os.environ, "PYTHONUNBUFFERED": "1"}, log)
    sent = []
    try:
        wait_for_port(port, server, log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 1000},
            )
            try:
                page = browser.new_page()
                page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(time.monotonic())))
                page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
                frame = browser_frame(page)
                page.locator("iframe[title*='channel_browser']").first.scroll_into_view_if_needed()
                time.sleep(1.0)  # let the page's start-up messages to the server finish
                sent_before = len(sent)
                first = frame.evaluate(
                    "() => { const v = window.repflowBrowser;"
                    " return {channel: v.channel, switches: v.switches,"
                    " direction: document.getElementById('plot').layout.images[1].source}; }"
                )
                assert first["channel"] == int(flowviz.rank_by_energy(expected)[0]), "opens on the most moving channel"

                forward = first["channel"] < channels - 1
                arrow = "ArrowRight" if forward else "ArrowLeft"
                by_channel = painted_after(frame, "channel", first["switches"], arrow)
                assert (by_channel["channel"], by_channel["step"]) == (first["channel"] + (1 if forward else -1), 0)
                by_step = painted_after(frame, "step", by_channel["switches"])
                assert (by_step["channel"], by_step["step"]) == (by_channel["channel"], 1)
                assert by_step["direction"] != first["direction"] != by_channel["direction"], "the picture changes"
                images = frame.locator(".imagelayer image")
                shown = images.evaluate_all("images => images.map((image) => image.getAttribute('href'))")
                assert by_step["direction"] in shown and by_step["speed"] in shown, "the new pictures are on the page"
                assert f"ch {by_step['channel']} · step 1" in by_step["status"]

                channel, step = by_step["channel"], 1
                field = expected[channel, step]
                assert np.allclose(by_step["u"], field[..., 0].ravel(), atol=1e-3)
                assert np.allclose(by_step["v"], field[..., 1].ravel(), atol=1e-3)
                mode = frame.evaluate("window.repflowBrowser.meta.scale_mode")  # the sidebar's normalisation
                scale = flowviz.panel_scales(expected, mode)[channel, step]
                assert by_step["scale"] == pytest.approx(scale, rel=1e-3)
                library = flowviz.flow_to_rgb_still_white(field, by_step["scale"]).astype(int)
                painted = picture(by_step["direction"]).astype(int)
                near_threshold = np.abs(np.hypot(field[..., 0], field[..., 1]) - 0.05 * scale) < 1e-3 * scale
                difference = np.abs(painted - library).max(axis=-1)
                assert (difference[~near_threshold] <= 1).all(), "colours as repflow.flowviz draws them"
                speed = picture(by_step["speed"]).astype(int) - flowviz.magnitude_to_rgb(field, by_step["scale"])
                assert (np.abs(speed).max(axis=-1)[~near_threshold] <= 1).all()

                x, y = width // 2, height // 3
                numbers = hover_numbers(hover_cell(page, frame, x, y, width, height))
                u, v = field[y, x]
                assert numbers == pytest.approx([u, v, np.hypot(u, v)], abs=2e-4)
                frame.wait_for_function(f"document.getElementById('readout').textContent.includes('(x {x}, y {y})')")
                assert hover_numbers(frame.locator("#readout").text_content()) == numbers, "read-out line = hover label"
                page.screenshot(path=str(tmp_path / "channel_browser.png"))
                assert len(sent) == sent_before, f"browsing sent {len(sent) - sent_before} messages to the server"

                target = next(c for c in range(channels) if c not in (first["channel"], channel))
                box = page.get_by_label(re.compile(r"^Channel \("))
                box.fill(str(target))
                box.press("Enter")
                frame.wait_for_function(f"window.repflowBrowser.channel === {target}", timeout=30_000)
                assert len(sent) > sent_before, "the control: a sidebar change is a message to the server"
                assert not page.locator("[data-testid='stException']").count()
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
