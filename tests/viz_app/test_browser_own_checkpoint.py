"""In Chromium: a researcher's own 16-frame Rep-Flow and TVNet checkpoints (uploaded) and an RGB model (bundled)
open with their own training windows, captions that describe what is on screen, and no error box (issue 23).
Screenshots go to $REPFLOW_KEEP_SCREENSHOTS when it is set."""

import pytest
import torch

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.models import ModelConfig, build_model
from repflow.video import write_video
from tests.viz_app.test_browser import chromium_page, keep_screenshot, main_caption, open_viewer, row_panels, served_app

ERROR_WORDS = ("Cannot ", "refused", "no flow layer and no probe point", "No model checkpoint", "Traceback")


def save(path, config: ModelConfig, clip: dict) -> None:
    torch.manual_seed(0)
    payload = model_payload(build_model(config).eval())
    payload["clip"] = clip
    save_checkpoint(path, payload)


@pytest.fixture
def own_assets(tmp_path, moving_square):
    """models/ with a bundled RGB model; mine/ with a 16-frame Rep-Flow and a TVNet checkpoint; clips/ one clip."""
    root = tmp_path / "assets"
    for folder in ("models", "mine", "clips"):
        (root / folder).mkdir(parents=True)
    save(root / "models" / "rgb.pt", ModelConfig(flow="none", flow_after="layer1", width=8, num_classes=4),
         {"frames": 8, "size": 64, "stride": 1, "short_side": 64})
    save(root / "mine" / "rep16.pt", ModelConfig(flow="rep", width=8, num_classes=4, flow_channels=4),
         {"frames": 16, "size": 64, "stride": 2, "short_side": 80})
    save(root / "mine" / "tvnet.pt", ModelConfig(arch="tvnet", width=8, num_classes=4, n_iter=5, stacked_flows=10),
         {"frames": 12, "size": 48, "stride": 1, "short_side": 48})
    write_video(root / "clips" / "square.mp4", moving_square(frames=36, textured=True))
    return root


def visible_errors(page) -> list[str]:
    texts = page.locator("[data-testid='stAlert']").all_inner_texts()
    texts += page.locator("[data-testid='stException']").all_inner_texts()
    return [text for text in texts if any(word in text for word in ERROR_WORDS)]


def panel_captions(page) -> list[str]:
    return row_panels(page).all_inner_texts()


def upload_model(page, path, shown: str) -> None:
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    page.get_by_text(shown).first.wait_for(timeout=120_000)
    row_panels(page, "▶").first.wait_for(timeout=120_000)
    page.wait_for_timeout(2000)


def test_own_checkpoints_and_the_rgb_model_in_chromium(own_assets, tmp_path):
    with served_app(own_assets, tmp_path) as (port, _), chromium_page(tmp_path) as page:
        open_viewer(page, port)
        page.get_by_text("This model has no flow layer, so a flow probe").first.wait_for(timeout=60_000)
        assert visible_errors(page) == []
        assert main_caption(page).startswith("rgb.pt on square.mp4: frames 0–7 of 36"), main_caption(page)
        assert any(c.startswith("▶ probe layer1") for c in panel_captions(page)), panel_captions(page)
        keep_screenshot(page, "own_rgb_probe.png", tmp_path)

        upload_model(page, own_assets / "mine" / "rep16.pt", "rep16.pt on square.mp4")
        caption = main_caption(page)
        assert "frames 0–30 (every 2) of 36, short side resized to 80, centre crop 64×64" in caption, caption
        sidebar = page.locator("[data-testid='stSidebar']").inner_text()
        assert "Shown: your upload rep16.pt · Rep-Flow · R(2+1)D-18" in sidebar
        captions = panel_captions(page)
        assert any(c.startswith("▶ Rep-Flow · ch") for c in captions) and not any("flow-of-flow" in c for c in captions)
        assert visible_errors(page) == []
        keep_screenshot(page, "own_rep16.png", tmp_path)

        upload_model(page, own_assets / "mine" / "tvnet.pt", "tvnet.pt on square.mp4")
        caption = main_caption(page)
        assert "frames 0–11 of 36" in caption and "centre crop 48×48" in caption, caption
        assert any(c.startswith("▶ TVNet (frames)") for c in panel_captions(page))
        assert "is a probe" not in page.locator("[data-testid='stMain']").inner_text(), "TVNet's layer is learned"
        assert visible_errors(page) == []
        keep_screenshot(page, "own_tvnet.png", tmp_path)
