"""The architecture's rules, checked: evaluation does not stand on training, the app uses the library's public
modules, and each shared fact (flow kinds, value lists, defaults, the atomic write) has one home."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from repflow import blocks, inspect, models
from repflow.blocks import FLOW_KINDS
from repflow.data.datasets import STREAMS, ClipSpec
from repflow.data.sources import DATASETS
from repflow.io import atomic_write
from repflow.runtime import DEVICES
from repflow.train.config import CHOICES, TrainConfig
from repflow.video import BACKEND_NAMES

ROOT = Path(__file__).resolve().parents[1]
# What the app may import from the library: its public entry points.
APP_MAY_IMPORT = {
    "agreement", "analysis", "checkpoint", "classical", "dissect", "figure", "flowviz", "inspect", "io",
    "motion_stats", "probe", "video",
}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names), anywhere in the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_evaluation_imports_nothing_from_training():
    code = ("import sys, repflow.eval, repflow.commands.eval; "
            "print(sorted(m for m in sys.modules if m.startswith('repflow.train')))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    for path in [*(ROOT / "repflow" / "eval").glob("*.py"), ROOT / "repflow" / "commands" / "eval.py"]:
        assert not {m for m in imported_modules(path) if m.startswith("repflow.train")}, path.name


@pytest.mark.parametrize("path", sorted((ROOT / "viz_app").glob("*.py")), ids=lambda p: p.name)
def test_the_app_uses_only_the_public_library_modules(path):
    library = {m.split(".")[1] for m in imported_modules(path) if m.startswith("repflow.")}
    assert library <= APP_MAY_IMPORT, f"{path.name} reaches into {sorted(library - APP_MAY_IMPORT)}"
    assert "sys.path" not in path.read_text(), f"{path.name} edits sys.path"


def test_the_flow_kind_registry_feeds_models_labels_and_choices():
    assert tuple(FLOW_KINDS) == models.ARCHITECTURE_CHOICES["flow"] == CHOICES["flow"]
    assert inspect.FLOW_KIND_LABELS == {name: kind.label for name, kind in FLOW_KINDS.items()}
    for name, kind in FLOW_KINDS.items():
        model = models.build_model(models.ModelConfig(flow=name, width=8, num_classes=3, flow_channels=4, n_iter=1))
        layers = inspect.list_flow_layers(model)
        assert {layer.kind: layer.label for layer in layers} == kind.layer_labels
        assert model.config.min_frames == kind.min_frames
        clip = torch.randn(1, 3, kind.min_frames, 32, 32)
        assert model.eval()(clip).shape == (1, 3)
        if kind.min_frames > 1:
            with pytest.raises(ValueError, match="needs T >="):
                model(clip[:, :, : kind.min_frames - 1])


def test_training_choices_and_defaults_come_from_their_owners():
    assert CHOICES["dataset"] == DATASETS and CHOICES["device"] == DEVICES
    assert CHOICES["video_backend"] == BACKEND_NAMES and set(CHOICES["stream"]) < set(STREAMS)
    assert CHOICES["depth"] == tuple(models.DEPTHS) and CHOICES["flow_after"] == models.STAGES
    config, model, clip = TrainConfig(), models.ModelConfig(), ClipSpec()
    for name in ("depth", "flow_after", "width", "flow_channels", "n_iter", "learn_flow"):
        assert getattr(config, name) == getattr(model, name), name
    assert (config.num_frames, config.stride, config.short_side, config.crop_size) == (
        clip.num_frames, clip.stride, clip.short_side, clip.crop_size)
    assert model.n_iter == blocks.FLOW_N_ITER == blocks.FlowLayer(2, kind="rep").tvl1.n_iter


def test_atomic_write_replaces_whole_files_and_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    assert atomic_write(target, b"first") == target and target.read_bytes() == b"first"
    atomic_write(target, "second")
    assert target.read_text() == "second"

    def fails(file):
        file.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_text() == "second" and sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_no_module_writes_files_by_hand():
    """Temp-file-and-rename is written once, in repflow/io.py."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("repflow", "viz_app")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "io.py" and (".tmp" in path.read_text() or "os.replace(" in path.read_text())
    ]
    assert offenders == []
