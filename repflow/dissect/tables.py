"""The files of a dissection folder: the streamed per-clip table, its merge, the per-class summary.

While ``repflow dissect`` runs, every process writes its rows in parts (``clips.parts/part-R-N.parquet``, or
``.csv`` without pyarrow), each written atomically, so a killed run keeps every finished part and ``--resume``
finds the clips already done. At the end rank 0 merges the parts into ``clips.parquet`` / ``clips.csv`` in the
list's order and writes ``channels.csv``. Reading needs numpy only (and pyarrow for parquet).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Iterable

import numpy as np

from repflow.io import atomic_path, atomic_write, interrupted_writes
from repflow.motion_stats import SECTORS, preferred_class, selectivity_index

PARTS = "clips.parts"
DIRECTIONS = tuple(f"dir{k}" for k in range(SECTORS))
TEXT_COLUMNS = ("clip", "label", "layer", "predicted")
INT_COLUMNS = ("index", "start", "stride", "frames", "channel")
COLUMNS = ("index", "clip", "label", "start", "stride", "frames", "layer", "channel", "energy", *DIRECTIONS,
           "predicted")
AGREEMENT = "agreement"
SUMMARY_COLUMNS = ("layer", "channel", "class", "clips", "energy_mean", "energy_std", *DIRECTIONS,
                   "agreement_mean", "selectivity", "preferred_class")


def have_pyarrow() -> bool:
    """Whether parquet can be written here (pyarrow is an optional package)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def file_sha1(path: Path) -> str:
    """SHA-1 of a file's bytes: which checkpoint a dissection was made from."""
    sha = hashlib.sha1()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def columns_of(agreement: bool) -> tuple[str, ...]:
    """The per-clip table's columns, with ``agreement`` when TV-L1 was scored."""
    return COLUMNS + ((AGREEMENT,) if agreement else ())


def table_name(fmt: str) -> str:
    """The merged per-clip table's file name for ``fmt`` ("parquet" or "csv")."""
    return f"clips.{fmt}"


class PartWriter:
    """Collects one process's rows and writes them as numbered parts every ``flush_every`` clips."""

    def __init__(self, out_dir: Path, *, rank: int, fmt: str, columns: tuple[str, ...], flush_every: int = 32):
        self.folder = Path(out_dir) / PARTS
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rank, self.fmt, self.columns, self.flush_every = rank, fmt, columns, flush_every
        taken = [int(m.group(1)) for path in self.folder.iterdir()
                 if (m := re.fullmatch(rf"part-{rank:04d}-(\d+)\.{fmt}", path.name))]
        self.next_part = max(taken, default=-1) + 1
        self.rows: dict[str, list] = {name: [] for name in columns}
        self.clips = 0

    def add(self, rows: dict[str, list]) -> None:
        """Add one clip's rows (column -> values); writes a part when ``flush_every`` clips are pending."""
        for name in self.columns:
            self.rows[name].extend(rows[name])
        self.clips += 1
        if self.clips >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write the pending rows as the next part (nothing when none are pending)."""
        if not self.clips:
            return
        path = self.folder / f"part-{self.rank:04d}-{self.next_part:06d}.{self.fmt}"
        write_columns(path, self.rows, self.columns, self.fmt)
        self.next_part += 1
        self.rows = {name: [] for name in self.columns}
        self.clips = 0


def write_columns(path: Path, rows: dict[str, list], columns: tuple[str, ...], fmt: str) -> None:
    """Write ``rows`` (column -> values) to ``path`` atomically, as parquet (float32 numbers) or csv."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = {}
        for name in columns:
            values = rows[name]
            if name in TEXT_COLUMNS:
                arrays[name] = pa.array(values, pa.string()).dictionary_encode()
            elif name in INT_COLUMNS:
                arrays[name] = pa.array(np.asarray(values, np.int32))
            else:
                arrays[name] = pa.array(np.asarray(values, np.float32))
        with atomic_path(path) as temporary:
            pq.write_table(pa.table(arrays), temporary, compression="zstd")
        return
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows(zip(*([_csv_value(value) for value in rows[name]] for name in columns)))
    atomic_write(path, text.getvalue())


def _csv_value(value):
    return f"{value:.7g}" if isinstance(value, (float, np.floating)) else value


def read_columns(path: Path, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Columns of a part or merged table (all when ``names`` is None) as numpy arrays (text as objects)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=list(names) if names is not None else None)
        return {name: _numpy(table.column(name)) for name in table.column_names}
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        wanted = [name for name in header if names is None or name in set(names)]
        positions = [header.index(name) for name in wanted]
        values: list[list[str]] = [[] for _ in wanted]
        for row in reader:
            for slot, position in enumerate(positions):
                values[slot].append(row[position])
    return {name: _typed(name, column) for name, column in zip(wanted, values)}


def _numpy(column) -> np.ndarray:
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if pa.types.is_string(column.type):
        return np.asarray(column.to_pylist(), dtype=object)
    return column.to_numpy()


def _typed(name: str, values: list[str]) -> np.ndarray:
    if name in TEXT_COLUMNS:
        return np.asarray(values, dtype=object)
    if name in INT_COLUMNS:
        return np.asarray(values, dtype=np.int64)
    return np.asarray(values, dtype=np.float64)


def part_files(out_dir: Path) -> list[Path]:
    """The parts written so far, in name order."""
    folder = Path(out_dir) / PARTS
    return sorted(folder.glob("part-*.*")) if folder.is_dir() else []


def merged_table(out_dir: Path) -> Path | None:
    """The merged per-clip table of ``out_dir`` (parquet or csv), None before the first merge."""
    found = [Path(out_dir) / table_name(fmt) for fmt in ("parquet", "csv")]
    return next((path for path in found if path.exists()), None)


def done_clips(out_dir: Path) -> set[int]:
    """Indices (in the video list) of the clips whose rows are already on disk (in a part or the merged table)."""
    done: set[int] = set()
    merged = merged_table(out_dir)
    for path in part_files(out_dir) + ([merged] if merged else []):
        done.update(int(i) for i in np.unique(read_columns(path, ["index"])["index"]))
    return done


def merge_parts(out_dir: Path, fmt: str, columns: tuple[str, ...]) -> Path:
    """Join every part (and the table of an earlier merge, which a resumed run extends) into the one per-clip
    table, rows in the list's order (a clip's rows keep their order), write it atomically, then remove the
    parts (and what a killed run left of a part it was writing). A part's clips already in the earlier table (a run
    killed between the two steps) are not repeated."""
    out_dir = Path(out_dir)
    merged = merged_table(out_dir)
    pieces = [read_columns(merged)] if merged else []
    known = set(np.unique(pieces[0]["index"]).tolist()) if pieces else set()
    parts = part_files(out_dir)
    for path in parts:
        piece = read_columns(path)
        keep = ~np.isin(piece["index"], list(known))
        pieces.append({name: values[keep] for name, values in piece.items()})
    joined = {name: np.concatenate([piece[name] for piece in pieces]) if pieces else np.array([])
              for name in columns}
    order = np.argsort(joined["index"], kind="stable") if pieces else np.array([], dtype=np.int64)
    target = out_dir / table_name(fmt)
    write_columns(target, {name: joined[name][order].tolist() for name in columns}, columns, fmt)
    for path in parts:
        path.unlink()
    if (out_dir / PARTS).is_dir():
        for leftover in interrupted_writes(out_dir / PARTS):  # a part being written when a run was killed
            leftover.unlink()
        (out_dir / PARTS).rmdir()
    return target


def class_summary(table: dict[str, np.ndarray], classes: list[str], layers: list[str]) -> dict[str, list]:
    """The per-class summary (``channels.csv``'s columns) of a per-clip table.

    Per layer, channel and class: clip count, mean and sample standard deviation of energy, the class's
    direction shares (each sector's share of the class's total |flow|², i.e. shares weighted by energy), mean
    agreement with TV-L1 (NaN when not scored); per channel (repeated on its rows): the selectivity index of its
    class mean energies (:func:`repflow.motion_stats.selectivity_index`) and its preferred class.
    """
    out: dict[str, list] = {name: [] for name in SUMMARY_COLUMNS}
    if len(table["layer"]) == 0:
        return out
    labels = table["label"]
    has_agreement = AGREEMENT in table
    for layer in layers:
        in_layer = table["layer"] == layer
        channels = np.unique(table["channel"][in_layer])
        present = [name for name in classes if np.any(in_layer & (labels == name))]
        means = np.full((len(channels), len(present)), np.nan)
        stats = []
        for c_pos, channel in enumerate(channels):
            rows = in_layer & (table["channel"] == channel)
            for k_pos, name in enumerate(present):
                chosen = rows & (labels == name)
                energy = table["energy"][chosen].astype(np.float64)
                shares = np.stack([table[d][chosen] for d in DIRECTIONS], axis=1).astype(np.float64)
                weighted = np.nansum(shares * energy[:, None], axis=0)
                total = weighted.sum()
                directions = weighted / total if total > 0 else np.full(SECTORS, np.nan)
                agreement = table[AGREEMENT][chosen].astype(np.float64) if has_agreement else np.array([np.nan])
                agreement = float(np.nanmean(agreement)) if np.isfinite(agreement).any() else float("nan")
                means[c_pos, k_pos] = energy.mean()
                std = float(energy.std(ddof=1)) if len(energy) > 1 else float("nan")
                stats.append((int(channel), name, int(len(energy)), float(energy.mean()), std, directions, agreement))
        if len(present) >= 2:
            selectivity, preferred = selectivity_index(means), preferred_class(means)
        else:
            selectivity, preferred = np.full(len(channels), np.nan), np.zeros(len(channels), dtype=int)
        position = {int(channel): c_pos for c_pos, channel in enumerate(channels)}
        for channel, name, count, mean, std, directions, agreement in stats:
            c_pos = position[channel]
            for column, value in zip(("layer", "channel", "class", "clips", "energy_mean", "energy_std"),
                                     (layer, channel, name, count, mean, std)):
                out[column].append(value)
            for column, value in zip(DIRECTIONS, directions):
                out[column].append(float(value))
            out["agreement_mean"].append(agreement)
            out["selectivity"].append(float(selectivity[c_pos]))
            out["preferred_class"].append(present[int(preferred[c_pos])])
    return out


def write_summary_csv(path: Path, summary: dict[str, list]) -> None:
    """Write :func:`class_summary`'s table as csv, atomically."""
    write_columns(Path(path), summary, SUMMARY_COLUMNS, "csv")
