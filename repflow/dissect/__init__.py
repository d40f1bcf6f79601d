"""Motion dissection: which flow channels respond to which classes, in which direction, across a clip set.

`runner.dissect` computes the per-clip table, `tables` writes, merges and summarises it, `results` reads a
finished dissection (the app's Dataset page and the explorer's default channels use it).
"""

from __future__ import annotations

from pathlib import Path

from repflow.dissect.results import Dissection, bundled_dissection, default_channels, load_dissection, with_summary
from repflow.dissect.runner import ShardResult, dissect, layer_names
from repflow.dissect.tables import (
    AGREEMENT,
    DIRECTIONS,
    class_summary,
    columns_of,
    merge_parts,
    read_columns,
    write_summary_csv,
)

__all__ = ["Dissection", "ShardResult", "bundled_dissection", "default_channels", "dissect", "finish",
           "layer_names", "load_dissection", "with_summary"]


def finish(out_dir: Path, *, fmt: str, columns_tvl1: bool, classes: list[str], layers: list[str]) -> dict[str, int]:
    """Merge the parts of ``out_dir`` into the per-clip table and write ``channels.csv`` from it; returns the
    table's clip and row counts."""
    out_dir = Path(out_dir)
    table_path = merge_parts(out_dir, fmt, columns_of(columns_tvl1))
    wanted = ["index", "label", "layer", "channel", "energy", *DIRECTIONS] + ([AGREEMENT] if columns_tvl1 else [])
    table = read_columns(table_path, wanted)
    write_summary_csv(out_dir / "channels.csv", class_summary(table, classes, layers))
    return {"clips": int(len(set(table["index"].tolist()))), "rows": int(len(table["index"]))}
