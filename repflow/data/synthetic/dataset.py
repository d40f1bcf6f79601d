"""Write a synthetic action dataset to disk: mp4 clips, train/test list files, classes.txt and a manifest.

Layout under ``out``::

    classes.txt                 one class name per line, in label order
    train.txt, test.txt         "train/<class>/<class>_00000.mp4 <label>" per line, relative to ``out``
    train/<class>/*.mp4, test/<class>/*.mp4
    synth.json                  the settings that produced the set

Clip ``i`` of split ``s`` uses seed ``(seed, s, i)`` for every class: the same actor, background,
camera shake and noise perform each action, so only motion tells the classes apart. Train (s = 0)
and test (s = 1) seeds never overlap, so the test set is held out.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from repflow.data.synthetic.backgrounds import BackgroundPool
from repflow.data.synthetic.generator import class_table, generate_clip
from repflow.io import atomic_write

SPLITS = ("train", "test")
LIST_FILES = ("synth.json", "classes.txt", "test.txt", "train.txt")  # in the order they are written, after the clips


@dataclass(frozen=True)
class SynthSettings:
    """What a dataset is generated from; saved as ``synth.json`` next to the clips."""

    clips_per_class: int
    test_clips_per_class: int
    seed: int = 0
    size: int = 64
    num_frames: int = 16
    fps: float = 15.0
    real_background_fraction: float = 0.5
    motion_only: bool = False  # the motion-only classes (repflow.data.synthetic.motion_only)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The set's class names in label order."""
        return tuple(action.name for action in class_table(self.motion_only))

    def __post_init__(self) -> None:
        if self.clips_per_class < 1:
            raise ValueError(f"clips_per_class must be at least 1, got {self.clips_per_class}")
        if self.test_clips_per_class < 0:
            raise ValueError(f"test_clips_per_class must be 0 or more, got {self.test_clips_per_class}")
        if self.size < 16 or self.num_frames < 2 or not self.fps > 0:
            got = f"{self.size}, {self.num_frames}, {self.fps}"
            raise ValueError(f"need size >= 16, num_frames >= 2 and fps > 0, got {got}")
        if not 0.0 <= self.real_background_fraction <= 1.0:
            raise ValueError(f"real_background_fraction must be in [0, 1], got {self.real_background_fraction}")


@dataclass(frozen=True)
class _Job:
    path: Path
    action: str
    seed: tuple[int, int, int]


_worker_backgrounds: BackgroundPool | None = None


def _set_worker_backgrounds(backgrounds: BackgroundPool | None) -> None:
    global _worker_backgrounds
    _worker_backgrounds = backgrounds


def _write_clip(job: _Job, settings: SynthSettings) -> Path:
    from repflow.video import write_video

    frames = generate_clip(
        job.action, job.seed, size=settings.size, num_frames=settings.num_frames, fps=settings.fps,
        backgrounds=_worker_backgrounds, real_background_fraction=settings.real_background_fraction,
        motion_only=settings.motion_only,
    )  # fmt: skip
    return write_video(job.path, frames, fps=settings.fps)


def _jobs(out: Path, settings: SynthSettings) -> dict[str, list[_Job]]:
    counts = {"train": settings.clips_per_class, "test": settings.test_clips_per_class}
    jobs: dict[str, list[_Job]] = {}
    for split_index, split in enumerate(SPLITS):
        jobs[split] = [
            _Job(out / split / action / f"{action}_{index:05d}.mp4", action, (settings.seed, split_index, index))
            for action in settings.class_names
            for index in range(counts[split])
        ]
    return jobs


def _write_text(path: Path, lines: list[str]) -> None:
    atomic_write(path, "".join(f"{line}\n" for line in lines))


def write_dataset(
    out: str | Path,
    settings: SynthSettings,
    *,
    backgrounds: BackgroundPool | None = None,
    workers: int = 1,
    on_clip: Callable[[Path], None] | None = None,
) -> dict[str, Path]:
    """Generate every clip of ``settings`` under ``out``; returns the paths of the list files.

    ``workers`` > 1 renders and encodes clips in that many processes. ``on_clip`` is called with each
    written file (e.g. to advance a progress bar). The list files and manifest of a set already in ``out`` are
    removed first and written again last, ``train.txt`` the very last, so a set whose ``train.txt`` exists is
    complete (an interrupted or failed run leaves none).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in LIST_FILES[::-1]:  # train.txt first: the set stops looking complete at once
        (out / name).unlink(missing_ok=True)
    jobs = _jobs(out, settings)
    all_jobs = [job for split in SPLITS for job in jobs[split]]
    for path in _written(all_jobs, settings, backgrounds, workers):
        if on_clip is not None:
            on_clip(path)
    names = settings.class_names
    manifest = {"generator": "repflow.data.synthetic", **asdict(settings), "classes": list(names),
                "backgrounds": sorted(set(backgrounds.sources)) if backgrounds else []}  # fmt: skip
    _write_text(out / "synth.json", [json.dumps(manifest, indent=2)])
    lists = {"classes": out / "classes.txt"}
    _write_text(lists["classes"], list(names))
    for split in SPLITS[::-1]:  # test.txt, then train.txt
        lists[split] = out / f"{split}.txt"
        lines = [f"{job.path.relative_to(out).as_posix()} {names.index(job.action)}" for job in jobs[split]]
        _write_text(lists[split], lines)
    return {name: lists[name] for name in ("classes", *SPLITS)}


def _written(
    jobs: list[_Job], settings: SynthSettings, backgrounds: BackgroundPool | None, workers: int
) -> Iterator[Path]:
    if workers <= 1:
        _set_worker_backgrounds(backgrounds)
        for job in jobs:
            yield _write_clip(job, settings)
        return
    workers = min(workers, os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, initializer=_set_worker_backgrounds, initargs=(backgrounds,)) as pool:
        yield from pool.map(_write_clip, jobs, [settings] * len(jobs), chunksize=8)
