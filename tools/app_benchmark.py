"""Measure how quickly the viewer answers, the way a user feels it, and print it.

Runs ``streamlit run viz_app/main.py`` and drives it in Debian's Chromium through Playwright (``--mode browser``,
the default). Every time is taken by the page's own clock, from the user's action to the first task after the
browser painted the new image (a task queued from the animation frame after the image loaded runs after that
frame's paint):

* first flows, cold: seconds from launching the server until the selected layer's flow image of the default
  model and clip is painted (target <= 4 s); the page is opened once the server answers its health check, as
  ``streamlit run`` opens the browser once it serves (runs before 2026-12-05 asked the browser for the page every
  50 ms from the launch on, which slowed the server's start);
* first flows, running server: seconds from opening the page (a new session) until that image is painted
  (target <= 1.5 s), once right after the first page has loaded (its classical TV-L1 may still be computed in the
  background, and that page's browser still builds the rest of its view on the same machine), and, after the
  timed changes, for ``--first-views`` new sessions one after another on a server with nothing else to do ("idle
  server": median, min-max);
* channel, step, layer and colouring: milliseconds from the key press (channel box: the first key typing the new
  number, then Enter; step slider: an arrow key) or the click (layer list, colouring choice) until the selected
  layer's panel shows the change, over ``--switches`` changes of each; p50 / p95 / max (target p95 <= 100 ms).

The explorer draws its main row in the page (``viz_app/main_row.py``; checkouts before 2026-12-04 evening in a frame
of its own), which notes when it painted; pages without one (the floor page, older checkouts given to
``--against``) are watched for their panel images.

``--cold-starts N`` then launches every measured page's server N more times, alternately, and reports the median
and range of its cold first flows (one cold start varies by half a second on a busy machine).

``--floor`` also measures, alternately with the explorer, the smallest Streamlit page timed the same way
(``tools/app_floor_page.py``: a channel box and a step slider in one fragment, one PNG panel): its first panel on a
running server and its channel and step changes are what Streamlit's round trip alone costs on this machine.

``--mode channel-browser`` measures the channel x time browser instead: milliseconds from a key press on its
channel or step slider until the new view is painted (``--switches`` of each; target p95 <= 50 ms), the bytes
the page received for the layer, when the browser is first painted, and the messages the page sent to the
server while switching (0: no Streamlit rerun). ``--large`` uses an untrained model whose layer is 32 channels
x 31 steps x 28 x 28 cells instead of the bundled models.

Uses ``REPFLOW_MODELS_DIR`` / ``REPFLOW_SAMPLES_DIR`` like the app; with no model there, an untrained
flow-of-flow model (width 16) is written to a temporary folder and used, and the output says so. The machine's
load average is printed before and after: on a busy machine the figures are slower.

Run from the repository root: ``python -m tools.app_benchmark [--mode browser|channel-browser] [--switches 20]
[--large] [--against CHECKOUT] [--floor]``.
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
import urllib.request
from functools import partial
from pathlib import Path

import numpy as np

from viz_app.sources import default_clip_index, find_clips, find_models, models_dir, samples_dir

ROOT = Path(__file__).resolve().parents[1]
APP = "viz_app/main.py"
FLOOR_PAGE = "tools/app_floor_page.py"
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


# Installed in every page before it loads: ``__repflowWatch(wanted, oldSrc)`` arms a watch that notes the time
# stamp of the next user action (key press, pointer press) and the time the selected layer's image (caption with
# ▶) whose caption contains ``wanted`` and whose picture differs from ``oldSrc`` has been painted. Without a watch
# armed it notes the first such paint since the page opened (the first flows). It reads captions with textContent,
# which (unlike innerText) forces no layout, so the watch itself adds next to nothing to the page's work.
PAINT_WATCH = """
window.__repflowPaint = {actionAt: null, paintedAt: null, wanted: "", oldSrc: null};
window.__repflowWatch = (wanted, oldSrc) => {
  window.__repflowPaint = {actionAt: null, paintedAt: null, wanted, oldSrc};
  check();
};
for (const type of ["keydown", "pointerdown"]) {
  document.addEventListener(type, (event) => {
    const watch = window.__repflowPaint;
    if (watch.actionAt === null && watch.paintedAt === null) watch.actionAt = event.timeStamp;
  }, {capture: true});
}
let scheduled = false;
function check() {
  const watch = window.__repflowPaint;
  if (watch.paintedAt !== null || scheduled) return;
  const figure = [...document.querySelectorAll("[data-testid='stImage']")].find(
    (el) => el.textContent.includes("\u25b6") && el.textContent.includes(watch.wanted));
  const img = figure && figure.querySelector("img");
  if (!img || img.src === watch.oldSrc) return;
  scheduled = true;
  const painted = () => requestAnimationFrame(() => setTimeout(() => {
    scheduled = false;
    if (watch === window.__repflowPaint && watch.paintedAt === null) watch.paintedAt = performance.now();
  }, 0));
  if (img.complete && img.naturalWidth > 0) painted();
  else img.addEventListener("load", painted, {once: true});
  img.addEventListener("error", () => { scheduled = false; }, {once: true});
}
new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
"""
SELECTED = "[data-testid='stImage']:has-text('\u25b6')"
ROW = ".st-key-main_row"  # the explorer's main row, in the page (viz_app/main_row.py)
ROW_FRAME = "iframe[src*='main_row']"  # the main row of checkouts before 2026-12-04 evening, in a frame of its own


def row_panels(page, text: str | re.Pattern = ""):
    """The captions of the explorer's main-row panels containing ``text``."""
    if page.locator(ROW_FRAME).count():
        return page.frame_locator(ROW_FRAME).locator("figcaption", has_text=text)
    return page.locator(ROW).locator("figcaption", has_text=text)


def has_row(page) -> bool:
    """Whether the page draws the main row itself (else it shows server images: the floor page, older checkouts)."""
    return page.locator(ROW).count() + page.locator(ROW_FRAME).count() > 0

IDLE = "!document.querySelector(\"[data-testid='stStatusWidget']\")"  # Streamlit shows it while a run is on


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile_line(name: str, samples_ms: list[float]) -> str:
    values = np.array(samples_ms)
    p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
    return f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {values.max():.0f} ms (n={len(values)})"


@contextlib.contextmanager
def app_server(root: Path = ROOT, script: str = APP):
    """(new_page, launch time): ``new_page()`` opens the app in a new browser context (a new Streamlit session) of
    Chromium, on a freshly started ``streamlit run SCRIPT`` (default: the app) of the checkout at ``root``, once
    the server answers (:func:`wait_until_serving`); everything is closed after."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        launched = time.perf_counter()
        server = start_app_server(port, root, script)

        def new_page():
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.add_init_script(PAINT_WATCH)
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
            return page

        try:
            wait_until_serving(port, server)
            yield new_page, launched
        finally:
            stop_server(server)
            browser.close()


@contextlib.contextmanager
def app_page():
    """(page, launch time): Chromium on a freshly started ``streamlit run viz_app/main.py``; both closed after."""
    with app_server() as (new_page, launched):
        yield new_page(), launched


def start_app_server(port: int, root: Path = ROOT, script: str = APP) -> subprocess.Popen:
    """``streamlit run SCRIPT`` (default: the app, ``viz_app/main.py``) of the checkout at ``root`` (its own
    ``viz_app`` and ``repflow``) on 127.0.0.1:``port``, quietly, on this checkout's models and clips, otherwise as
    the README's command starts it (from the checkout's root, so with its ``.streamlit/config.toml``)."""
    env = {**os.environ, "REPFLOW_MODELS_DIR": str(models_dir()), "REPFLOW_SAMPLES_DIR": str(samples_dir())}
    if root != ROOT:
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / script), "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats",
         "false"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_until_serving(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the server on ``port`` answers its health check (``/_stcore/health``), asked every 20 ms by a
    plain HTTP client, as ``streamlit run`` opens the browser once it serves: a browser asked to load the page
    again and again draws an error page each time, on the cores the starting server needs."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"the app's server exited before serving (exit code {server.poll()})") from None
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the app's server did not answer on port {port} within {timeout} s") from None
            time.sleep(0.02)


def stop_server(server: subprocess.Popen) -> None:
    """Stop the app's server: politely, then by force after 10 s."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# In the page: when the selected layer's panel (caption with ▶) containing WANTED, painted after the watch was
# armed, was painted, in ms of the page's clock, or null. The explorer draws its main row in the page
# (viz_app/main_row.py; older checkouts in a frame of its own), which notes its paints in ``repflowRow``; a page
# without one (the floor page, older checkouts) draws server images, watched by PAINT_WATCH.
ROW_PAINTED = """([rowFrame, wanted]) => {
  const frame = window.repflowRow ? null : document.querySelector(rowFrame);
  const row = window.repflowRow || (frame && frame.contentWindow.repflowRow);
  if (row) {
    const action = window.__repflowPaint.actionAt;
    const painted = row.lastPaint && row.lastPaint.paintedAt - performance.timeOrigin;
    if (!row.lastPaint || (action !== null && painted <= action)) return null;
    const scope = frame ? frame.contentDocument : row.root;
    const selected = [...scope.querySelectorAll("figcaption")].find(
      (caption) => caption.textContent.includes("\u25b6"));
    return selected && selected.textContent.includes(wanted) ? painted : null;
  }
  return window.__repflowPaint.paintedAt;
}"""


# In the page: what the main row shows and knows, for a change that was not painted.
ROW_STATE = """() => {
  const row = window.repflowRow;
  if (!row) return "no main row in the page";
  return JSON.stringify({paints: row.paints, lastPaint: row.lastPaint, error: row.error, server: row.server,
    loaded: row.loaded === row.file, captions: row.root && [...row.root.querySelectorAll("figcaption")].map(
      (caption) => caption.textContent), running: !!document.querySelector("[data-testid='stStatusWidget']")});
}"""


def painted_ms(page, timeout_s: float = 120, wanted: str = "") -> float:
    """The page's clock (ms since it opened) when the watched panel was painted (after the watched action)."""
    handle = page.wait_for_function(ROW_PAINTED, arg=[ROW_FRAME, wanted], timeout=timeout_s * 1000, polling="raf")
    return handle.json_value()


def selected_caption(page) -> str:
    """The caption of the selected layer's panel (starting with ▶)."""
    locator = row_panels(page, "\u25b6") if has_row(page) else page.locator(SELECTED)
    return locator.first.inner_text()


def timed_change(page, act, wanted: str = "") -> float:
    """Milliseconds from the user action ``act()`` performs to the painted new panel of the selected layer
    (its caption containing ``wanted``)."""
    old = None if has_row(page) else page.locator(SELECTED).first.locator("img").get_attribute("src")
    page.evaluate("([wanted, old]) => window.__repflowWatch(wanted, old)", [wanted, old])
    act()
    try:
        painted = painted_ms(page, 30, wanted)
    except Exception as error:  # say what the page showed instead
        raise RuntimeError(f"no panel with {wanted!r} painted within 30 s: {page.evaluate(ROW_STATE)}") from error
    return painted - page.evaluate("window.__repflowPaint.actionAt")


def first_page(new_page, launched: float):
    """(page, seconds): the first page of a server launched at ``launched`` and the seconds from that launch until
    it painted the selected layer's flows."""
    page = new_page()
    opened = time.perf_counter()
    return page, opened - launched + painted_ms(page) / 1000


def cold_start(root: Path = ROOT, script: str = APP) -> float:
    """Seconds from launching the server of the checkout at ``root`` (``script``: the app or the floor page) until
    its first page has painted the selected layer's flows."""
    with app_server(root, script) as (new_page, launched):
        return first_page(new_page, launched)[1]


def measure_browser(switches: int, root: Path = ROOT, script: str = APP, first_views: int = 5
                    ) -> dict[str, list[float] | float]:
    """First flows on a cold and on a running server (s), then ``switches`` timed changes (ms) of the channel,
    the step, the flow layer and the colouring, in the app of the checkout at ``root`` (``script``: the floor page
    instead, which has only the channel and the step)."""
    result: dict[str, list[float] | float] = {}
    with app_server(root, script) as (new_page, launched):
        page, result["cold"] = first_page(new_page, launched)
        page.wait_for_load_state("networkidle")
        second = new_page()
        result["running"] = painted_ms(second) / 1000
        second.context.close()
        page.wait_for_function(IDLE, timeout=120_000)  # the first page has finished its run: what a user would see
        time.sleep(1.0)
        result.update(channel=[], step=[], layer=[], colouring=[])
        box = page.get_by_label(re.compile(r"^Channel \("))
        n_channels = int(box.get_attribute("max")) + 1
        for _ in range(switches):
            channel = (int(box.input_value()) + 1) % n_channels
            box.select_text()  # then typed over, and Enter: timed from the first key press

            def enter(number=str(channel)):
                page.keyboard.type(number)
                box.press("Enter")
            result["channel"].append(timed_change(page, enter, f"\u00b7 ch {channel} \u00b7"))
        slider = page.get_by_role("slider", name="Time step")
        for _ in range(switches if slider.count() else 0):
            step, last = int(slider.input_value()), int(slider.get_attribute("max"))
            slider.focus()
            key, step = ("Home", 0) if step == last else ("ArrowRight", step + 1)
            result["step"].append(timed_change(page, partial(slider.press, key), f" \u00b7 t {step}:"))
        layers = page.get_by_role("combobox", name="Flow layer or probe point")
        for _ in range(switches if layers.count() else 0):
            current = selected_caption(page).removeprefix("\u25b6").split("\u00b7")[0].strip()
            layers.click()
            others = [text.strip() for text in page.get_by_role("option").all_inner_texts() if text.strip() != current]
            if not others:  # a single flow layer
                page.keyboard.press("Escape")
                break
            option = page.get_by_role("option", name=others[0], exact=True)
            result["layer"].append(timed_change(page, option.click, f"\u25b6 {others[0]}"))
        for index in range(switches if script == APP else 0):
            choice = ("speed (colour bar)", "direction (colour wheel)")[index % 2]
            result["colouring"].append(timed_change(page, page.get_by_text(choice, exact=True).click))
        result["idle_server"] = []
        for _ in range(first_views):  # new sessions, one after another, each once the server is idle again
            page.wait_for_function(IDLE, timeout=120_000)
            time.sleep(1.0)
            later = new_page()
            result["idle_server"].append(painted_ms(later) / 1000)
            later.wait_for_function(IDLE, timeout=120_000)  # its own runs (the rest of its view) are over
            later.context.close()
    return result


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
        row_panels(page, "\u25b6").first.wait_for(timeout=180_000)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["browser", "channel-browser"], default="browser")
    parser.add_argument("--switches", type=int, default=20, help="changes of each control (default 20)")
    parser.add_argument("--first-views", type=int, default=5,
                        help="browser: new sessions opened on the idle server, one after another (default 5)")
    parser.add_argument("--large", action="store_true", help="channel-browser: a 32-channel, 31-step, 28x28 layer")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="browser: also measure the app of another checkout of repflow (e.g. `git worktree add "
                        "/tmp/old main`), alternately with this one, twice each")
    parser.add_argument("--floor", action="store_true",
                        help="browser: also measure the smallest Streamlit page (tools/app_floor_page.py), "
                        "alternately with the app, twice each")
    parser.add_argument("--cold-starts", type=int, default=0, metavar="N",
                        help="browser: then N more cold starts of each page measured, alternately, reported as "
                        "median and range (one cold start varies by half a second on a busy machine)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as folder:
        print(large_layer_model(Path(folder)) if args.large else ensure_model(Path(folder)))
        clips = find_clips(samples_dir())
        opened = clips[default_clip_index(clips)].name if clips else "none"
        print(f"default clip: {opened} (from {samples_dir()}); {os.cpu_count()} CPU cores; {load_line()}")
        if args.mode == "channel-browser":
            report_channel_browser(measure_channel_browser(args.switches))
        else:
            runs = [("this checkout" if args.against or args.floor else "browser", ROOT, APP)]
            runs += [(str(args.against), args.against.resolve(), APP)] if args.against else []
            runs += [("floor: one-image Streamlit page", ROOT, FLOOR_PAGE)] if args.floor else []
            for _ in range(2 if len(runs) > 1 else 1):
                for name, root, script in runs:
                    report_browser(measure_browser(args.switches, root, script, args.first_views), name)
            colds = {name: [] for name, _, _ in runs}
            for _ in range(args.cold_starts):
                for name, root, script in runs:
                    colds[name].append(cold_start(root, script))
            for name, samples in colds.items():
                if samples:
                    print(f"[{name}] cold starts, launch to first flows: {seconds_line(samples)} (target <= 4 s)")
    print(f"after the run: {load_line()}")
    return 0


def load_line() -> str:
    """The machine's load average (1, 5, 15 minutes): how busy the cores were around the measurement."""
    return "load average " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


def report_browser(result: dict, name: str = "browser") -> None:
    print(f"[{name}] first flows: {result['cold']:.2f} s after launching the server (target <= 4 s), "
          f"{result['running']:.2f} s after opening the page on the running server (target <= 1.5 s), "
          f"on the idle server {seconds_line(result['idle_server'])}")
    changes = [(control, result[control]) for control in ("channel", "step", "layer", "colouring") if result[control]]
    for control, samples in changes:
        print(f"[{name}] " + percentile_line(f"{control} change, action to painted panel", samples))
    print(f"[{name}] " + percentile_line("all changes", [ms for _, samples in changes for ms in samples])
          + " (target p95 <= 100 ms)")


def seconds_line(samples: list[float]) -> str:
    """Median, min-max and count of first-flow times, in seconds."""
    return f"median {np.median(samples):.2f} s ({min(samples):.2f}-{max(samples):.2f}, n={len(samples)})"


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
