"""The bundled motion-only models (models/motion_only_*.pt): loadable with weights_only, the classes and window the
model card documents, and the very checkpoints the study's CSV names."""

import csv
import hashlib
from pathlib import Path

import pytest
import torch

from repflow.checkpoint import TrainingClip, load_checkpoint, load_model
from repflow.data.synthetic.generator import class_table
from repflow.inspect import list_flow_layers

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "docs" / "studies" / "motion_only.csv"
MAX_BYTES = 15 * 10**6
# file -> (the study's model and variant, its flow kind, the seed the model card names)
MOTION_ONLY = {
    "motion_only_rgb.pt": ("rgb", "none", 0),
    "motion_only_rep_flow.pt": ("rep_flow", "rep", 1),
    "motion_only_flow_of_flow.pt": ("flow_of_flow", "fcf", 2),
}


@pytest.mark.parametrize("name", sorted(MOTION_ONLY))
def test_a_motion_only_model_loads_with_its_classes_and_window(name):
    path = ROOT / "models" / name
    assert path.stat().st_size <= MAX_BYTES
    payload = load_checkpoint(path)  # torch.load(weights_only=True) inside
    assert payload["classes"] == [action.name for action in class_table(motion_only=True)]
    assert TrainingClip.from_payload(payload) == TrainingClip(frames=8, stride=2, short_side=64, size=56)
    config = payload["model_config"]
    assert (config["flow"], config["flow_after"], config["width"], config["flow_channels"]) == (
        MOTION_ONLY[name][1], "layer1", 16, 8)
    model = load_model(path).eval()
    with torch.inference_mode():
        logits = model(torch.zeros(1, 3, 8, 56, 56))
    assert logits.shape == (1, 8)
    assert len(list_flow_layers(model)) == {"none": 0, "rep": 1, "fcf": 2}[config["flow"]]


def test_the_bundled_files_are_the_studys_checkpoints():
    """Each file's sha256 is the checkpoint_sha256 of the study's default-variant row of its model and seed."""
    with STUDY.open() as handle:
        rows = {row["checkpoint_sha256"]: row for row in csv.DictReader(handle)}
    for name, (model, _, seed) in MOTION_ONLY.items():
        digest = hashlib.sha256((ROOT / "models" / name).read_bytes()).hexdigest()
        assert digest in rows, f"{name} is not a checkpoint of {STUDY.name}"
        row = rows[digest]
        assert (row["model"], row["variant"], int(row["seed"])) == (model, "default", seed)
