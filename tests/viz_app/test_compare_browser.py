"""End-to-end: the Compare page in Debian's Chromium on the bundled motion-only models and clips (a screenshot whose
two rows of flow panels are drawn). Fails (never skips) under CI=true when Chromium is missing."""

import io
import os

import numpy as np
from PIL import Image

from tests.viz_app.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    require_browser,
    start_server,
    wait_for_port,
)
from tools.app_benchmark import stop_server


def test_the_compare_page_draws_both_rows_in_chromium(tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    env = {key: value for key, value in os.environ.items() if key not in ("REPFLOW_MODELS_DIR", "REPFLOW_SAMPLES_DIR")}
    port = free_port()
    log_path = tmp_path / "streamlit.log"
    log = log_path.open("wb")
    server = start_server(port, {**env, "PYTHONUNBUFFERED": "1"}, log)
    try:
        wait_for_port(port, server, log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 1250})
                page.goto(f"http://127.0.0.1:{port}/compare", wait_until="domcontentloaded")
                page.get_by_text("Download this comparison").wait_for(timeout=120_000)
                page.wait_for_function("!document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=60_000)
                headings = page.locator("h3").all_inner_texts()
                assert any("motion_only_rep_flow.pt" in text and "Rep-Flow" in text for text in headings), headings
                assert any("motion_only_rgb.pt" in text and "probe layer1" in text for text in headings), headings
                panels = page.locator("[data-testid='stImage']", has_text="#")
                panels.nth(5).wait_for(timeout=30_000)
                assert panels.count() == 6, "3 channels per model"
                widths = panels.locator("img").evaluate_all("images => images.map(image => image.naturalWidth)")
                assert all(width >= 160 for width in widths), widths
                shot = np.asarray(Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB"))
                box = {key: int(value) for key, value in panels.nth(0).locator("img").bounding_box().items()}
                panel = shot[box["y"] : box["y"] + box["height"], box["x"] : box["x"] + box["width"]]
                assert panel.std() > 5, "the first flow panel is drawn, not blank"
                assert page.get_by_text("true class").count() == 2
            finally:
                browser.close()
    finally:
        stop_server(server)
        log.close()
