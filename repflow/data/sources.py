"""Where the videos and labels are: folder-per-class, list files, HMDB-51 splits, Kinetics-400.

Each function returns a `VideoList` (records of path + integer label, and the class names in label order).
Labels always come from the dataset's own metadata; a video that cannot be found is an error (or, for
Kinetics, whose downloads always miss some videos, skipped and counted), never given a made-up label.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoRecord:
    """One labelled video file."""

    path: Path
    label: int


@dataclass(frozen=True)
class VideoList:
    """Labelled videos plus the class names, indexed by label."""

    records: tuple[VideoRecord, ...]
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.records)


def from_folders(
    root: str | Path, *, classes: Sequence[str] | None = None, extensions: Sequence[str] = VIDEO_EXTENSIONS
) -> VideoList:
    """``root/<class>/<video>``: one sub-folder per class; labels follow sorted folder names (or ``classes``)."""
    root = _existing_dir(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ValueError(f"{root}: expected one sub-folder per class, found none")
    class_names = tuple(classes) if classes is not None else tuple(p.name for p in folders)
    label_of = {name: label for label, name in enumerate(class_names)}
    records = []
    for folder in folders:
        if folder.name not in label_of:
            raise ValueError(f"{root}: folder {folder.name!r} is not one of the {len(class_names)} known classes")
        videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in extensions and p.is_file())
        records += [VideoRecord(path, label_of[folder.name]) for path in videos]
    if not records:
        raise ValueError(f"{root}: no video files ({', '.join(extensions)}) in the class folders")
    return VideoList(tuple(records), class_names)


def from_list_file(
    list_file: str | Path, *, root: str | Path | None = None, classes: Sequence[str] | None = None
) -> VideoList:
    """Lines ``relative/path label``; paths are relative to ``root`` (default: the list file's folder).

    Class names come from ``classes``, else from ``classes.txt`` beside the list file, else are ``class_<k>``.
    """
    list_file = Path(list_file)
    if list_file.is_dir():
        raise ValueError(f"list file {list_file} is a folder (for a folder of class folders use dataset=folders)")
    if not list_file.is_file():
        raise FileNotFoundError(f"list file {list_file} does not exist")
    root = Path(root) if root is not None else list_file.parent
    records = []
    for number, line in enumerate(list_file.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.rsplit(maxsplit=1)
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise ValueError(f"{list_file}:{number}: expected 'relative/path label', found {line.strip()!r}")
        records.append(VideoRecord(root / parts[0].strip(), int(parts[1])))
    if not records:
        raise ValueError(f"{list_file}: no videos listed")
    if classes is None:
        classes_file = list_file.parent / "classes.txt"
        if classes_file.is_file():
            classes = [line.strip() for line in classes_file.read_text().splitlines() if line.strip()]
        else:
            classes = [f"class_{k}" for k in range(max(r.label for r in records) + 1)]
    bad = [r for r in records if not 0 <= r.label < len(classes)]
    if bad:
        raise ValueError(f"{list_file}: label {bad[0].label} of {bad[0].path.name} is outside 0..{len(classes) - 1}")
    _require_files(records, str(list_file))
    return VideoList(tuple(records), tuple(classes))


def hmdb51(
    root: str | Path, *, split: int = 1, subset: str = "train", splits_dir: str | Path | None = None
) -> VideoList:
    """HMDB-51 as distributed: ``root/<class>/<video>.avi`` plus ``<class>_test_split{1,2,3}.txt`` files
    (in ``splits_dir``, default ``root``) whose lines are ``<video>.avi <0|1|2>`` (1 = train, 2 = test, 0 = unused).
    """
    if split not in (1, 2, 3):
        raise ValueError(f"HMDB-51 has splits 1, 2 and 3, got {split}")
    wanted = {"train": "1", "test": "2"}.get(subset)
    if wanted is None:
        raise ValueError(f"HMDB-51 subset must be 'train' or 'test', got {subset!r}")
    root = _existing_dir(root)
    splits_dir = _existing_dir(splits_dir if splits_dir is not None else root)
    suffix = f"_test_split{split}.txt"
    split_files = sorted(splits_dir.glob(f"*{suffix}"))
    if not split_files:
        raise ValueError(f"{splits_dir}: no HMDB-51 split files '<class>{suffix}'")
    classes = tuple(f.name[: -len(suffix)] for f in split_files)
    records = []
    for label, (name, split_file) in enumerate(zip(classes, split_files)):
        for number, line in enumerate(split_file.read_text().splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise ValueError(f"{split_file}:{number}: expected '<video>.avi <0|1|2>', found {line.strip()!r}")
            if parts[1] == wanted:
                records.append(VideoRecord(root / name / parts[0], label))
    _require_files(records, f"HMDB-51 split {split} ({subset})")
    return VideoList(tuple(records), classes)


def kinetics400(
    root: str | Path, *, subset: str = "train", csv_file: str | Path | None = None, classes: Sequence[str] | None = None
) -> VideoList:
    """Kinetics-400: ``root/{train,val}/<class>/*.mp4``.

    With ``csv_file`` (columns ``youtube_id,time_start,time_end,label``, more allowed) labels come from the csv
    and files are matched by name (``<id>_<start:06d>_<end:06d>.mp4`` or ``<id>.mp4``) anywhere under
    ``root/<subset>``; listed videos missing on disk are skipped and counted in a warning. Without it,
    folders are classes, and the class list is taken from ``root/train`` so train and val labels agree.
    """
    if subset not in ("train", "val", "test"):
        raise ValueError(f"Kinetics subset must be 'train', 'val' or 'test', got {subset!r}")
    root = _existing_dir(root)
    subset_dir = _existing_dir(root / subset)
    if csv_file is None:
        if classes is None and (root / "train").is_dir():
            classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir() and not p.name.startswith("."))
        return from_folders(subset_dir, classes=classes)
    rows = _read_kinetics_csv(Path(csv_file))
    class_names = tuple(classes) if classes is not None else tuple(sorted({row["label"] for row in rows}))
    label_of = {name: label for label, name in enumerate(class_names)}
    on_disk = {p.stem: p for p in subset_dir.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS}
    records, missing = [], 0
    for row in rows:
        if row["label"] not in label_of:
            raise ValueError(f"{csv_file}: label {row['label']!r} is not one of the {len(class_names)} known classes")
        stem = f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}"
        path = on_disk.get(stem) or on_disk.get(row["youtube_id"])
        if path is None:
            missing += 1
        else:
            records.append(VideoRecord(path, label_of[row["label"]]))
    if missing:
        log.warning("Kinetics %s: %d of %d videos listed in %s are not under %s; skipped",
                    subset, missing, len(rows), csv_file, subset_dir)
    if not records:
        raise ValueError(f"{subset_dir}: none of the {len(rows)} videos listed in {csv_file} is there")
    return VideoList(tuple(records), class_names)


DATASETS = ("folders", "list", "hmdb51", "kinetics400")


def load_videos(
    dataset: str,
    subset: str,
    *,
    location: str | Path | None = None,
    data_root: str | Path | None = None,
    split: int = 1,
    splits_dir: str | Path | None = None,
    csv_file: str | Path | None = None,
    classes: Sequence[str] | None = None,
) -> VideoList:
    """The videos of ``subset`` ("train" or "val"/"test") of a dataset kind (see DATASETS).

    folders / list: ``location`` is the class-folder dir / list file; hmdb51: ``data_root`` + ``splits_dir`` +
    ``split`` (val = the official test set); kinetics400: ``data_root`` + optional ``csv_file``.
    """
    training = subset == "train"
    if dataset == "hmdb51":
        return hmdb51(data_root, split=split, subset="train" if training else "test", splits_dir=splits_dir)
    if dataset == "kinetics400":
        return kinetics400(data_root, subset="train" if training else "val", csv_file=csv_file, classes=classes)
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    if not location:
        raise ValueError(f"dataset {dataset} needs a {'list file' if dataset == 'list' else 'folder'} for {subset}")
    if dataset == "list":
        return from_list_file(location, classes=classes)
    return from_folders(location, classes=classes)


@dataclass(frozen=True)
class DataSettings:
    """Which videos a run trains and validates on: the data settings of a training config, which its
    checkpoints keep (``"train_config"``), so evaluation finds the same videos."""

    dataset: str
    data_root: str = ""
    train_data: str = ""
    val_data: str = ""
    split: int = 1
    splits_dir: str = ""
    train_csv: str = ""
    val_csv: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "DataSettings":
        """The settings among ``values`` (a training config as a dict; other keys are ignored)."""
        return cls(**{item.name: values[item.name] for item in fields(cls) if item.name in values})


def video_list(data: DataSettings, subset: str, *, classes: Sequence[str] | None = None) -> VideoList | None:
    """The videos of ``subset`` ("train" or "val"); None when the settings name no validation data."""
    training = subset == "train"
    if not training:
        no_kinetics_val = data.dataset == "kinetics400" and not (Path(data.data_root) / "val").is_dir()
        if no_kinetics_val or (data.dataset in ("folders", "list") and not data.val_data):
            return None
    return load_videos(data.dataset, subset, location=data.train_data if training else data.val_data,
                       data_root=data.data_root, split=data.split, splits_dir=data.splits_dir or None,
                       csv_file=(data.train_csv if training else data.val_csv) or None, classes=classes)


def _read_kinetics_csv(csv_file: Path) -> list[dict[str, str]]:
    if not csv_file.is_file():
        raise FileNotFoundError(f"Kinetics csv {csv_file} does not exist")
    with csv_file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"youtube_id", "time_start", "time_end", "label"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{csv_file}: missing csv column(s) {', '.join(sorted(missing))}; "
                             f"expected a header with youtube_id,time_start,time_end,label")
        return list(reader)


def _existing_dir(path: str | Path) -> Path:
    path = Path(path)
    if path.is_file():
        raise ValueError(f"dataset folder {path} is a file (for a list file use dataset=list)")
    if not path.is_dir():
        raise FileNotFoundError(f"dataset folder {path} does not exist")
    return path


def _require_files(records: list[VideoRecord], source: str) -> None:
    missing = [r.path for r in records if not r.path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{source}: {len(missing)} of {len(records)} listed videos are missing, e.g. {missing[0]}"
        )
    if not records:
        raise ValueError(f"{source}: no videos")
