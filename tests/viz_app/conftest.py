"""Fixtures of the viewer tests: tiny models and clips in temp folders the app is pointed at."""

import numpy as np
import pytest
import torch

from repflow.checkpoint import model_payload, save_checkpoint
from repflow.models import ModelConfig, build_model
from repflow.video import write_video


def make_moving_square(
    frames: int = 12, height: int = 64, width: int = 80, *, gray: bool = False, textured: bool = False
) -> np.ndarray:
    """A textured square sliding right over a dark background (``textured``: over a still texture of 4-px blocks,
    where TV-L1 finds the motion local; over a flat background it spreads the square's motion over the frame):
    (T, H, W, 3) uint8."""
    rng = np.random.default_rng(0)
    side = max(4, min(height, width) // 3)
    texture = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
    if gray:
        texture[...] = texture[..., :1]
    clip = np.full((frames, height, width, 3), 30, np.uint8)
    if textured:
        blocks = rng.integers(40, 140, (-(-height // 4), -(-width // 4), 3), dtype=np.uint8)
        clip[:] = np.kron(blocks, np.ones((4, 4, 1), np.uint8))[:height, :width]
    top = (height - side) // 2
    for t in range(frames):
        left = min(2 + 2 * t, width - side)
        clip[t, top : top + side, left : left + side] = texture
    return clip


def make_tiny_model(flow: str, *, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    model = build_model(ModelConfig(flow=flow, width=8, num_classes=10, flow_channels=8, **overrides))
    # The untrained block's BatchNorm scale is 0; flows are computed anyway, so no training is needed.
    return model.eval()


@pytest.fixture(scope="session")
def assets(tmp_path_factory):
    """models/ (a flow-of-flow and a Rep-Flow model) and clips/ (one moving-square clip) folders."""
    root = tmp_path_factory.mktemp("viz_assets")
    models, clips = root / "models", root / "clips"
    models.mkdir()
    clips.mkdir()
    save_checkpoint(models / "a_rep.pt", model_payload(make_tiny_model("rep", seed=1)))
    payload = model_payload(make_tiny_model("fcf"))
    payload["clip"] = {"frames": 8, "size": 64, "short_side": 80}
    payload["class_names"] = [f"action {i}" for i in range(10)]
    save_checkpoint(models / "b_fcf.pt", payload)
    write_video(clips / "square.mp4", make_moving_square())
    return root


@pytest.fixture
def app_env(assets, monkeypatch):
    """Point the app at the tiny assets."""
    monkeypatch.setenv("REPFLOW_MODELS_DIR", str(assets / "models"))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(assets / "clips"))
    return assets


@pytest.fixture
def allow_torchscript(monkeypatch):
    """TorchScript uploads as the person starting the app allows them: the opt-in set, the server on loopback."""
    from viz_app import compute

    monkeypatch.setenv("REPFLOW_ALLOW_TORCHSCRIPT", "1")
    monkeypatch.setattr(compute, "server_address", lambda: "127.0.0.1")


@pytest.fixture
def moving_square():
    """make_moving_square(frames, height, width, *, gray) for tests (test files cannot import conftest)."""
    return make_moving_square


@pytest.fixture
def tiny_model():
    """make_tiny_model(flow, *, seed, **config) for tests."""
    return make_tiny_model
