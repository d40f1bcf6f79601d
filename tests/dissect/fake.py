"""A small dissection folder with known numbers, written through repflow.dissect.tables (no model run)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from repflow.dissect.tables import class_summary, columns_of, write_columns, write_summary_csv

CLASSES = ["boxing", "waving", "running"]
LAYER = "flow_block.flow1"
CHANNELS = 4
# channel 1 moves for boxing only (selective); channel 2 agrees best with TV-L1; channel 3 moves left, up for waving.


def write_fake_dissection(folder: Path, clips: list[Path] | None = None, model: str = "models/fake.pt",
                          model_sha1: str = "0" * 40, layers: tuple[str, ...] = (LAYER,)) -> Path:
    """Two clips per class, the same numbers in every layer of ``layers``; returns ``folder``."""
    rng = np.random.default_rng(0)
    columns = columns_of(True)
    rows: dict[str, list] = {name: [] for name in columns}
    index = 0
    for label in CLASSES:
        for _ in range(2):
            clip = str(clips[index]) if clips else f"videos/{label}_{index}.mp4"
            for layer, channel in ((layer, channel) for layer in layers for channel in range(CHANNELS)):
                energy = {0: 1.0, 1: 4.0 if label == "boxing" else 0.1, 2: 0.5, 3: 2.0}[channel]
                energy *= 1 + 0.05 * rng.random()
                shares = np.zeros(8)
                shares[0 if channel != 3 else (2 if label == "waving" else 4)] = 1.0
                values = {"index": index, "clip": clip, "label": label, "start": 3, "stride": 2, "frames": 8,
                          "layer": layer, "channel": channel, "energy": energy, "predicted": label,
                          "agreement": {0: 0.1, 1: 0.2, 2: 0.6, 3: 0.3}[channel] + 0.01 * rng.random()}
                values.update({f"dir{k}": shares[k] for k in range(8)})
                for name in columns:
                    rows[name].append(values[name])
            index += 1
    folder.mkdir(parents=True, exist_ok=True)
    write_columns(folder / "clips.parquet", rows, columns, "parquet")
    table = {name: np.asarray(values, dtype=object if name in ("clip", "label", "layer", "predicted") else None)
             for name, values in rows.items()}
    write_summary_csv(folder / "channels.csv", class_summary(table, CLASSES, list(layers)))
    summary = {"model": model, "settings": {"model": model, "model_sha1": model_sha1}, "classes": CLASSES,
               "layers": list(layers), "clips_done": index, "complete": True}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder
