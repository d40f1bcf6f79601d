"""The dissections shipped in models/ (models/README.md): each belongs to the checkpoint beside it, is complete, and
its tables agree with each other, so the explorer's default channels and the Dataset page read a whole test set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from repflow.dissect import bundled_dissection, default_channels, load_dissection
from repflow.dissect.tables import AGREEMENT, DIRECTIONS

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = sorted(MODELS.glob("*.dissection"))


@pytest.mark.parametrize("folder", SHIPPED, ids=[folder.name for folder in SHIPPED])
def test_a_shipped_dissection_is_whole_and_belongs_to_its_model(folder):
    checkpoint = folder.with_suffix(".pt")
    assert bundled_dissection(checkpoint) == folder, "made from this very checkpoint (same SHA-1)"
    dissection = load_dissection(folder)
    summary = dissection.summary
    clips = dissection.clips
    assert summary["complete"] and summary["clips_done"] == summary["settings"]["videos"]
    assert Path(summary["settings"]["data"]).name == "test.txt", "the whole reserved test set, not a subset"
    assert clips["clip"].nunique() == summary["clips_done"]
    per_clip = clips.groupby(["layer", "channel"])["clip"].nunique()
    assert (per_clip == summary["clips_done"]).all(), "every clip has a row for every layer and channel"
    np.testing.assert_allclose(clips[list(DIRECTIONS)].sum(axis=1), 1.0, atol=1e-4)
    counts = dissection.channels.groupby(["layer", "channel"])["clips"].sum()
    assert (counts == summary["clips_done"]).all(), "channels.csv counts every clip once per channel"
    assert AGREEMENT in clips.columns and dissection.has_agreement
    assert summary["default_channels"] == dissection.default_channels(), "the stored default channels are current"
    for layer, channel in default_channels(checkpoint).items():
        mean_agreement = clips[clips["layer"] == layer].groupby("channel")[AGREEMENT].mean()
        assert channel == mean_agreement.idxmax()
