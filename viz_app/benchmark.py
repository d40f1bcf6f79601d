"""Measure the viewer's two speed targets and print them.

* first flows: seconds from launching ``streamlit run viz_app/main.py`` until the selected layer's flow
  image of the default clip is on the page (target <= 10 s on 2 CPU cores);
* channel switch: milliseconds from entering a new channel number until the page shows that channel's
  flow image, over ``--switches`` switches; p50 and p95 (target p95 <= 150 ms).

Measured in Debian's Chromium through Playwright (``--mode browser``, the default), or, without a browser,
as the script re-run time in Streamlit's AppTest (``--mode apptest``: server-side only, no page paint).

``--mode channel-browser`` measures the channel x time browser instead: milliseconds from a key press on its
channel or step slider until the new view is painted (``--switches`` of each; target p95 <= 50 ms), the bytes
the page received for the layer, when the browser is first painted, and the messages the page sent to the
server while switching (0: no Streamlit rerun). ``--large`` uses an untrained model whose layer is 32 channels
x 31 steps x 28 x 28 cells instead of the bundled models.

Uses ``REPFLOW_MODELS_DIR`` / ``REPFLOW_SAMPLES_DIR`` like the app; with no model there, an untrained
flow-of-flow model (width 16) is written to a temporary folder and used, and the output says so.

Run: ``python viz_app/benchmark.py [--mode browser|apptest|channel-browser] [--switches 30] [--large]``.
"""

from __future__ import annotations

import argparse
import contextlib
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


@contextlib.contextmanager
def app_page():
    """(page, launch time): Chromium on a freshly started ``streamlit run viz_app/main.py``; both closed after."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        launched = time.perf_counter()
        server = start_app_server(port)
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
            yield page, launched
        finally:
            stop_server(server)
            browser.close()


def start_app_server(port: int) -> subprocess.Popen:
    """``streamlit run viz_app/main.py`` on 127.0.0.1:``port``, quietly, without file watching."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def stop_server(server: subprocess.Popen) -> None:
    """Stop the app's server: politely, then by force after 10 s."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def measure_browser(switches: int) -> tuple[float, list[float]]:
    with app_page() as (page, launched):
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
    return first_flows, times


# In the channel browser's frame: the time of the next key press on a slider (its event's own time stamp). The
# browser notes when the view it then draws has been painted (a task queued from the animation frame after
# Plotly resolved runs after that frame's paint): see show() in channel_browser_frontend/browser.js.
WATCH_FOR_KEY = """() => {
  window.__keyAt = null;
  document.addEventListener("keydown", (event) => { window.__keyAt = event.timeStamp; }, {capture: true, once: true});
}"""


def measure_channel_browser(switches: int) -> dict:
    """In the channel browser: when it is painted, what the page received, and the time from a key press on the
    channel or step slider to the painted view (``switches`` of each), with the messages the page sent meanwhile."""
    sent = []
    with app_page() as (page, launched):
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        page.locator("[data-testid='stImage']", has_text="▶").first.wait_for(timeout=180_000)
        first_flows = time.perf_counter() - launched
        page.locator("iframe[title*='channel_browser']").first.wait_for(timeout=180_000)
        frame = next(f for f in page.frames if "channel_browser" in f.url)
        frame.wait_for_function("window.repflowBrowser && window.repflowBrowser.lastSwitch !== null", timeout=120_000)
        first_paint = time.perf_counter() - launched
        page.locator("iframe[title*='channel_browser']").first.scroll_into_view_if_needed()
        info = frame.evaluate("() => { const v = window.repflowBrowser; return {shape: v.meta.shape, bytes: v.payload,"
                              " build_ms: v.buildMs, built_at: v.builtAt}; }")
        time.sleep(1.0)
        sent_before = len(sent)
        channels, steps = info["shape"][:2]
        times = {"channel": [], "step": []}
        for index in range(2 * switches):
            key = ("channel", "step")[index % 2] if steps > 1 else "channel"
            slider = frame.locator(f"#{key}")
            at_end = int(slider.input_value()) == (channels if key == "channel" else steps) - 1
            frame.evaluate(WATCH_FOR_KEY)
            done = frame.evaluate("window.repflowBrowser.switches")
            slider.focus()
            slider.press("Home" if at_end else "ArrowRight")
            frame.wait_for_function(f"window.repflowBrowser.switches > {done}", timeout=30_000)
            times[key].append(frame.evaluate("window.repflowBrowser.lastSwitch.paintedAt - window.__keyAt"))
        messages = len(sent) - sent_before
    return {"first_flows": first_flows, "first_paint": first_paint, "info": info, "times": times, "messages": messages}


def large_layer_model(folder: Path) -> str:
    """Point REPFLOW_MODELS_DIR at an untrained Rep-Flow model whose flow layer has 32 channels x 31 steps x 28 x 28
    cells on its 32-frame, 224-pixel clip (the largest layer the browser is meant for)."""
    from repflow.checkpoint import model_payload, save_checkpoint
    from repflow.models import ModelConfig, build_model

    payload = model_payload(build_model(ModelConfig(flow="rep", width=16, flow_channels=32, num_classes=11)))
    payload["clip"] = {"frames": 32, "size": 224}
    save_checkpoint(folder / "untrained_rep_32ch.pt", payload)
    os.environ["REPFLOW_MODELS_DIR"] = str(folder)
    return "an untrained Rep-Flow model with 32 flow channels on 32 frames at 224 px (layer 32 x 31 x 28 x 28)"


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
    parser.add_argument("--mode", choices=["browser", "apptest", "channel-browser"], default="browser")
    parser.add_argument("--switches", type=int, default=30)
    parser.add_argument("--large", action="store_true", help="channel-browser: a 32-channel, 31-step, 28x28 layer")
    args = parser.parse_args()
    if args.mode != "apptest" and not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} not found: apt-get install chromium, or use --mode apptest")
    with tempfile.TemporaryDirectory() as folder:
        print(large_layer_model(Path(folder)) if args.large else ensure_model(Path(folder)))
        clips = find_clips(samples_dir())
        opened = clips[default_clip_index(clips)].name if clips else "none"
        print(f"default clip: {opened} (from {samples_dir()}); {os.cpu_count()} CPU cores")
        if args.mode == "channel-browser":
            report_channel_browser(measure_channel_browser(args.switches))
            return 0
        measure = measure_browser if args.mode == "browser" else measure_apptest
        first_flows, switch_ms = measure(args.switches)
    print(f"[{args.mode}] first flows after launch: {first_flows:.2f} s (target <= 10 s)")
    print(f"[{args.mode}] " + percentile_line("channel switch redraw", switch_ms) + " (target p95 <= 150 ms)")
    return 0


def report_channel_browser(result: dict) -> None:
    info, times = result["info"], result["times"]
    channels, steps, height, width = info["shape"]
    sizes = info["bytes"]
    print(f"[channel-browser] layer {channels} channels x {steps} steps x {height}x{width} cells; fetched by the page "
          f"once: {sizes['file'] / 1e6:.2f} MB = {sizes['flows'] / 1e6:.2f} MB int16 flows + "
          f"{sizes['meta'] / 1e6:.2f} MB labels, scales and frames (JSON) + "
          f"{sizes['figure'] / 1e6:.2f} MB first figure (JSON)")
    print(f"[channel-browser] main view's flows after launch {result['first_flows']:.2f} s, browser painted "
          f"{result['first_paint']:.2f} s; in its frame: decoding and first figure {info['build_ms']:.0f} ms, "
          f"drawn {info['built_at']:.0f} ms after the frame began loading (plotly.js included)")
    for key, samples in times.items():
        if samples:
            print("[channel-browser] " + percentile_line(f"{key} switch, key press to painted view", samples))
    print("[channel-browser] " + percentile_line("all switches", times["channel"] + times["step"])
          + " (target p95 <= 50 ms)")
    print(f"[channel-browser] messages from the page to the server while switching: {result['messages']} "
          "(0 = no rerun)")


if __name__ == "__main__":
    raise SystemExit(main())
