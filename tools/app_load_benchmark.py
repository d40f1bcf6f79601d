"""Bounded load on the viewer: several Chromium sessions at once, in waves, with the server's memory.

Starts ``streamlit run viz_app/main.py`` on 127.0.0.1 (never reachable from outside), opens ``--sessions``
pages (separate browser contexts, so separate Streamlit sessions; at most 10), waits until each shows flows,
then runs ``--waves`` waves (at most 10): in a wave every page enters a new channel at once, and the wave ends
when every page shows its channel's flow panel and the server's run for the change has ended. Prints, per wave,
how long that took, the pages that showed an error or an exception, and the server's resident memory (RSS); a
wave longer than ``--wave-timeout`` seconds stops the run with the pages still waiting. Exits 1 if any page
showed an error or a wave timed out.

Uses ``REPFLOW_MODELS_DIR`` / ``REPFLOW_SAMPLES_DIR`` like the app (an untrained model if there is none).

Run from the repository root: ``python -m tools.app_load_benchmark [--sessions 10] [--waves 5]``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.app_benchmark import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    ensure_model,
    free_port,
    row_panels,
    start_app_server,
    stop_server,
    wait_until_serving,
)

MAX_SESSIONS = 10
MAX_WAVES = 10
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


@dataclass
class LoadReport:
    """What a load run saw: the server's RSS (MB) after the pages opened and after each wave, each wave's
    seconds, and the pages (by index) that showed an error or did not finish a wave in time."""

    rss_opened_mb: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    wave_s: list[float] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    timed_out: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.timed_out


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def page_errors(page) -> str:
    texts = page.locator(ERRORS).all_inner_texts()
    return " | ".join(text.strip()[:200] for text in texts)


def run_load(sessions: int, waves: int, *, wave_timeout: float = 180, log=print) -> LoadReport:
    """Run the load (see the module docstring) and return what it saw; ``log`` gets a line per step."""
    from playwright.sync_api import sync_playwright

    sessions, waves = min(sessions, MAX_SESSIONS), min(waves, MAX_WAVES)
    report = LoadReport()
    port = free_port()
    server = start_app_server(port)
    try:
        wait_until_serving(port, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                contexts = [browser.new_context(viewport={"width": 1600, "height": 1000}) for _ in range(sessions)]
                pages = [context.new_page() for context in contexts]
                started = time.perf_counter()
                for page in pages:
                    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
                for page in pages:
                    row_panels(page, "▶").first.wait_for(timeout=wave_timeout * 1000)
                report.rss_opened_mb = rss_mb(server.pid)
                opened_s = time.perf_counter() - started
                log(f"{sessions} sessions open after {opened_s:.1f} s; server RSS {report.rss_opened_mb:.0f} MB")
                boxes = [page.get_by_label(re.compile(r"^Channel \(")) for page in pages]
                n_channels = int(boxes[0].get_attribute("max")) + 1
                channels = [int(box.input_value()) for box in boxes]
                for wave in range(waves):
                    started = time.perf_counter()
                    for index, box in enumerate(boxes):
                        channels[index] = (channels[index] + 1 + (index + wave) % (n_channels - 1)) % n_channels
                        box.fill(str(channels[index]))
                        box.press("Enter")
                    for index, page in enumerate(pages):
                        left_ms = max(1.0, (started + wave_timeout - time.perf_counter()) * 1000)
                        shown = re.compile(rf"^▶ .* · ch {channels[index]} · ")
                        try:  # shown by the page at once; then the server's run for it has to end
                            row_panels(page, shown).first.wait_for(timeout=left_ms)
                            page.wait_for_function(IDLE, timeout=max(1.0, (started + wave_timeout
                                                                           - time.perf_counter()) * 1000))
                        except Exception:
                            report.timed_out.append(index)
                        if errors := page_errors(page):
                            report.errors[index] = errors
                    report.wave_s.append(time.perf_counter() - started)
                    report.rss_mb.append(rss_mb(server.pid))
                    log(f"wave {wave + 1}: every page showed its new channel after {report.wave_s[-1]:.1f} s; "
                        f"server RSS {report.rss_mb[-1]:.0f} MB; pages with errors: {sorted(report.errors) or 'none'}")
                    if report.timed_out:
                        late = sorted(set(report.timed_out))
                        log(f"pages {late} did not show their channel within {wave_timeout:.0f} s")
                        break
            finally:
                browser.close()
    finally:
        stop_server(server)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, choices=range(1, MAX_SESSIONS + 1), metavar="1..10")
    parser.add_argument("--waves", type=int, default=5, choices=range(1, MAX_WAVES + 1), metavar="1..10")
    parser.add_argument("--wave-timeout", type=float, default=180, help="seconds a wave may take (default 180)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as folder:
        print(ensure_model(Path(folder)))
        report = run_load(args.sessions, args.waves, wave_timeout=args.wave_timeout)
    if report.rss_mb:
        growth = report.rss_mb[-1] - report.rss_mb[0]
        print(f"server RSS: {report.rss_opened_mb:.0f} MB with the pages open, "
              f"{min(report.rss_mb):.0f}-{max(report.rss_mb):.0f} MB over the waves "
              f"({growth:+.0f} MB from the first wave to the last)")
    for index, text in sorted(report.errors.items()):
        print(f"page {index}: {text}")
    print("result:", "no errors" if report.ok else "FAILED (errors or a wave timed out)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
