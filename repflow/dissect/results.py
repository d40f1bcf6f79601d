"""Reading a finished dissection: its summary, per-clip table and per-class table, and the views of them the app
shows (class means per channel, direction tuning, top clips, the default channel of each layer).

Needs pandas (the app has it); ``repflow dissect`` itself does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repflow.dissect.tables import AGREEMENT, DIRECTIONS, file_sha1, merged_table, read_columns

SUFFIX = ".dissection"  # a bundled model's dissection: models/NAME.dissection/ beside models/NAME.pt
ORDERS = ("selectivity", "channel", "class")


@dataclass(frozen=True)
class Dissection:
    """A dissection folder read into tables: ``clips`` (one row per clip, layer and channel), ``channels`` (one
    row per layer, channel and class, as in ``channels.csv``) and ``summary`` (summary.json)."""

    folder: Path
    summary: dict
    clips: "object"  # pandas.DataFrame
    channels: "object"  # pandas.DataFrame

    @property
    def layers(self) -> list[str]:
        """The dissected layers, in model order (probes last)."""
        return list(self.summary.get("layers") or dict.fromkeys(self.channels["layer"]))

    @property
    def classes(self) -> list[str]:
        """The classes, in the model's label order, that have clips."""
        present = set(self.channels["class"])
        return [name for name in self.summary.get("classes", sorted(present)) if name in present]

    @property
    def has_agreement(self) -> bool:
        """Whether agreement with TV-L1 was scored (``repflow dissect --tvl1``)."""
        return AGREEMENT in self.clips.columns and bool(self.clips[AGREEMENT].notna().any())

    def channel_scores(self, layer: str):
        """Per channel of ``layer``: selectivity, preferred class, mean energy and (when scored) mean agreement with
        TV-L1 over all its clips; a DataFrame indexed by channel."""
        rows = self.clips[self.clips["layer"] == layer]
        per_channel = self.channels[self.channels["layer"] == layer].groupby("channel").first()
        scores = per_channel[["selectivity", "preferred_class"]].copy()
        scores["energy"] = rows.groupby("channel")["energy"].mean()
        if self.has_agreement:
            scores["agreement"] = rows.groupby("channel")[AGREEMENT].mean()
        return scores

    def class_means(self, layer: str, *, relative: bool = True):
        """Mean energy of each channel (rows) for each class (columns) in ``layer``; ``relative`` divides each
        channel's row by its largest class mean, so channels of any gain compare (1 = its preferred class)."""
        table = self.channels[self.channels["layer"] == layer].pivot(index="channel", columns="class",
                                                                     values="energy_mean")
        table = table[[name for name in self.classes if name in table.columns]]
        if relative:
            peak = table.max(axis=1).replace(0, np.nan)
            table = table.div(peak, axis=0).fillna(0.0)
        return table

    def channel_order(self, layer: str, by: str = "selectivity", *, class_name: str | None = None) -> list[int]:
        """``layer``'s channels ordered ``by`` "selectivity" (most selective first), "channel" (number) or "class"
        (highest relative mean energy for ``class_name`` first)."""
        if by not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {by!r}")
        if by == "selectivity":
            scores = self.channel_scores(layer)["selectivity"]
            return [int(c) for c in scores.sort_values(ascending=False, kind="stable").index]
        means = self.class_means(layer)
        if by == "class":
            if class_name not in means.columns:
                raise ValueError(f"no class {class_name!r} in this dissection")
            return [int(c) for c in means[class_name].sort_values(ascending=False, kind="stable").index]
        return [int(c) for c in sorted(means.index)]

    def tuning(self, layer: str, channel: int):
        """Direction tuning of one channel: per class (rows) the share of its |flow|² in each sector (dir0..dir7:
        right, then counter-clockwise on screen)."""
        rows = self.channels[(self.channels["layer"] == layer) & (self.channels["channel"] == channel)]
        return rows.set_index("class").loc[[c for c in self.classes if c in set(rows["class"])], list(DIRECTIONS)]

    def top_clips(self, layer: str, channel: int, count: int = 5, *, class_name: str | None = None):
        """The ``count`` clips where ``channel`` of ``layer`` moves most (highest energy), with their window; only
        clips labelled ``class_name`` when given."""
        rows = self.clips[(self.clips["layer"] == layer) & (self.clips["channel"] == channel)]
        if class_name is not None:
            rows = rows[rows["label"] == class_name]
        columns = [c for c in ("clip", "label", "predicted", "start", "stride", "frames", "energy", AGREEMENT)
                   if c in rows.columns]
        return rows.sort_values("energy", ascending=False, kind="stable").head(count)[columns].reset_index(drop=True)

    def clip_path(self, clip: str) -> Path | None:
        """Where a clip of the table is on this machine: its path as written, else (a relative path) below one of
        the dissection folder's parents (a folder shipped inside a repository); None when it is nowhere."""
        path = Path(clip)
        parents = [] if path.is_absolute() else [parent / path for parent in self.folder.resolve().parents]
        candidates = [path, *parents]
        return next((candidate for candidate in candidates if candidate.is_file()), None)

    def default_channels(self) -> dict[str, int]:
        """:meth:`default_channel` of every layer that has one."""
        chosen = {layer: self.default_channel(layer) for layer in self.layers}
        return {layer: channel for layer, channel in chosen.items() if channel is not None}

    def default_channel(self, layer: str) -> int | None:
        """The channel of ``layer`` that best shows motion across the clip set: highest mean agreement with TV-L1;
        None when agreement was not scored (or never measurable)."""
        if not self.has_agreement or layer not in self.layers:
            return None
        agreement = self.channel_scores(layer)["agreement"].dropna()
        return int(agreement.idxmax()) if len(agreement) else None


def load_dissection(folder: str | Path) -> Dissection:
    """Read the dissection in ``folder`` (``repflow dissect --out-dir``); ValueError naming what is missing."""
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise ValueError(f"{folder} is not a finished dissection (it needs summary.json, channels.csv and "
                         "clips.parquet or clips.csv from repflow dissect)")
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder}: cannot read the dissection ({error})") from None
    if not isinstance(summary, dict):
        raise ValueError(f"{folder}/summary.json is not a dissection summary")
    return with_summary(folder, summary)


def with_summary(folder: str | Path, summary: dict) -> Dissection:
    """The dissection whose tables are in ``folder``, with ``summary`` (``repflow dissect`` asks it for the default
    channels before it writes summary.json); ValueError naming what is missing."""
    import pandas as pd

    folder = Path(folder)
    table = merged_table(folder)
    if not (folder / "channels.csv").is_file() or table is None:
        raise ValueError(f"{folder} is not a finished dissection (it needs summary.json, channels.csv and "
                         "clips.parquet or clips.csv from repflow dissect)")
    try:
        channels = pd.read_csv(folder / "channels.csv")
        clips = pd.DataFrame(read_columns(table))
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{folder}: cannot read the dissection ({error})") from None
    return Dissection(folder, summary, clips, channels)


def bundled_dissection(checkpoint: str | Path) -> Path | None:
    """The dissection shipped beside a checkpoint (``NAME.dissection/`` next to ``NAME.pt``), if there is one and
    it was made from this very file (same SHA-1: a retrained checkpoint does not inherit the old one's)."""
    folder = Path(checkpoint).with_suffix(SUFFIX)
    try:
        summary = json.loads((folder / "summary.json").read_text())
        made_from = summary["settings"]["model_sha1"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder if made_from == file_sha1(Path(checkpoint)) else None


def default_channels(checkpoint: str | Path) -> dict[str, int]:
    """Per layer, the default channel of a checkpoint with a bundled dissection (:meth:`Dissection.default_channel`);
    empty when it has none. Read from its summary.json, where ``repflow dissect`` stores them (no table is read),
    else from its tables."""
    folder = bundled_dissection(checkpoint)
    if folder is None:
        return {}
    stored = json.loads((folder / "summary.json").read_text()).get("default_channels")
    if isinstance(stored, dict):
        return {str(layer): int(channel) for layer, channel in stored.items()}
    return load_dissection(folder).default_channels()
