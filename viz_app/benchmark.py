"""Measure the viewer's two speed targets and print them.

* first flows: seconds from launching ``streamlit run viz_app/main.py`` until the selected layer's flow
  image of the default clip is on the page (target <= 10 s on 2 CPU cores);
* channel switch: milliseconds from entering a new channel number until the page shows that channel's
  flow image, over ``--switches`` switches; p50 and p95 (target p95 <= 150 ms).

Measured in Debian's Chromium through Playwright (``--mode browser``, the default), or, without a browser,
as the script re-run time in Streamlit's AppTest (``--mode apptest``: server-side only, no page paint).
Uses ``REPFLOW_MODELS_DIR`` / ``REPFLOW_SAMPLES_DIR`` like the app; with no model there, an untrained
flow-of-flow model (width 16) is written to a temporary folder and used, and the output says so.

Run: ``python viz_app/benchmark.py [--mode browser|apptest] [--switches 30]``.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from viz_app.sources import default_clip_index, find_clips, find_models, models_dir, samples_dir

APP = Path(__file__).resolve().parent / "main.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def ensure_model(folder: Path) -> str:
    """Point REPFLOW_MODELS_DIR at a folder with a model; returns a line describing the choice."""
    configured = models_dir()
    if find_models(configured):
        return f"models from {configured}"
    from repflow.checkpoint import model_payload, save_checkpoint
    from repflow.models import ModelConfig, build_model

    save_checkpoint(
        folder / "untrained_fcf.pt", model_payload(build_model(ModelConfig(flow="fcf", width=16, num_classes=11)))
    )
    os.environ["REPFLOW_MODELS_DIR"] = str(folder)
    return f"no model in {configured}: using an untrained flow-of-flow model (width 16)"


# In the page: note when Enter is pressed in the channel box, and when the selected layer's image (caption
# with ▶) shows the wanted caption with its picture loaded (a MutationObserver plus animation frames), so
# the time is the page's own clock, not Playwright's polling or its round trips.
WATCH_FOR_FLOW = """(wanted) => {
  window.__flowShownAt = null;
  window.__enterAt = null;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && window.__enterAt === null) window.__enterAt = performance.now();
  }, {capture: true, once: true});
  const shown = () => [...document.querySelectorAll("[data-testid='stImage']")].find(
    (el) => el.innerText.includes("\u25b6") && el.innerText.includes(wanted));
  const check = () => {
    const figure = shown();
    const img = figure && figure.querySelector("img");
    if (img && img.complete && img.naturalWidth > 0) {
      window.__flowShownAt = performance.now();
      observer.disconnect();
    }
    else if (figure) { requestAnimationFrame(check); }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile_line(name: str, samples_ms: list[float]) -> str:
    values = np.array(samples_ms)
    p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
    return f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {values.max():.0f} ms (n={len(values)})"


def measure_browser(switches: int) -> tuple[float, list[float]]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        launched = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(APP),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            page = browser.new_page()
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
                    break
                except Exception:
                    if time.perf_counter() - launched > 60:
                        raise
                    time.sleep(0.1)
            page.locator("[data-testid='stImage']", has_text="▶").first.wait_for(timeout=120_000)
            first_flows = time.perf_counter() - launched
            channel_input = page.get_by_label(re.compile(r"^Channel \("))
            n_channels = int(channel_input.get_attribute("max")) + 1
            times = []
            for index in range(switches):
                channel = (index + 1) % n_channels
                page.evaluate(WATCH_FOR_FLOW, f"· ch {channel} · t")
                channel_input.fill(str(channel))
                channel_input.press("Enter")
                page.wait_for_function("window.__flowShownAt !== null", timeout=30_000)
                times.append(page.evaluate("window.__flowShownAt - window.__enterAt"))
        finally:
            server.terminate()
            server.wait(timeout=10)
            browser.close()
    return first_flows, times


def measure_apptest(switches: int) -> tuple[float, list[float]]:
    code = (
        "import time, sys; t = time.perf_counter(); from streamlit.testing.v1 import AppTest; "
        f"at = AppTest.from_file({str(APP)!r}, default_timeout=120).run(); "
        "assert not at.exception, at.exception; print(time.perf_counter() - t)"
    )
    launched = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    first_flows = time.perf_counter() - launched

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120).run()
    n_channels = at.number_input(key="channel").max + 1
    times = []
    for index in range(switches):
        start = time.perf_counter()
        at.number_input(key="channel").set_value((index + 1) % n_channels).run()
        times.append((time.perf_counter() - start) * 1000)
    return first_flows, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["browser", "apptest"], default="browser")
    parser.add_argument("--switches", type=int, default=30)
    args = parser.parse_args()
    if args.mode == "browser" and not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} not found: apt-get install chromium, or use --mode apptest")
    with tempfile.TemporaryDirectory() as folder:
        print(ensure_model(Path(folder)))
        clips = find_clips(samples_dir())
        opened = clips[default_clip_index(clips)].name if clips else "none"
        print(f"default clip: {opened} (from {samples_dir()}); {os.cpu_count()} CPU cores")
        measure = measure_browser if args.mode == "browser" else measure_apptest
        first_flows, switch_ms = measure(args.switches)
    print(f"[{args.mode}] first flows after launch: {first_flows:.2f} s (target <= 10 s)")
    print(f"[{args.mode}] " + percentile_line("channel switch redraw", switch_ms) + " (target p95 <= 150 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
