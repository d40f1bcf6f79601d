"""End-to-end: `streamlit run viz_app/main.py` driven by Debian's Chromium through Playwright.

Fails (never skips) under CI=true when Chromium is missing; elsewhere skips with the reason.
"""

import importlib.util
import os
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
