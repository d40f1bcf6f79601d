"""A tiny generated video dataset (moving textures whose direction is the class) for tests and smoke runs.

Class ``k`` of ``n`` moves a random texture at angle ``2 pi k / n``, so a model can learn it from motion alone.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from repflow.video import write_video


def moving_texture(
    num_frames: int, height: int, width: int, *, velocity: tuple[float, float], seed: int
) -> np.ndarray:
    """uint8 (T, H, W, 3): a smooth random colour texture translated by ``velocity`` (dx, dy) pixels per frame."""
    rng = np.random.default_rng(seed)
    margin = int(math.ceil(max(abs(velocity[0]), abs(velocity[1])) * num_frames)) + 2
    big_h, big_w = height + 2 * margin, width + 2 * margin
    noise = rng.random((big_h // 8 + 1, big_w // 8 + 1, 3)).astype(np.float32)
    texture = cv2.resize(noise, (big_w, big_h), interpolation=cv2.INTER_CUBIC)
    texture = (np.clip(texture, 0.0, 1.0) * 255).astype(np.uint8)
    frames = []
    for t in range(num_frames):
        shift = np.float32([[1, 0, -margin + velocity[0] * t], [0, 1, -margin + velocity[1] * t]])
        frames.append(cv2.warpAffine(texture, shift, (width, height), flags=cv2.INTER_LINEAR))
    return np.stack(frames)


def write_toy_dataset(
    root: str | Path,
    *,
    num_classes: int = 3,
    videos_per_class: int = 4,
    num_frames: int = 16,
    height: int = 48,
    width: int = 64,
    speed: float = 2.0,
    seed: int = 0,
    extension: str = ".mp4",
    class_names: Sequence[str] | None = None,
    file_stem: str = "video_{i}",
) -> list[tuple[Path, int]]:
    """Write ``root/<class name>/<file_stem><extension>`` for every class and return [(path, label), ...].

    Class names default to ``class_<k>``; ``file_stem`` may use ``{class_name}``, ``{label}`` and ``{i}``.
    """
    root = Path(root)
    names = list(class_names) if class_names is not None else [f"class_{k}" for k in range(num_classes)]
    samples = []
    for label, class_name in enumerate(names):
        angle = 2 * math.pi * label / len(names)
        velocity = (speed * math.cos(angle), speed * math.sin(angle))
        for i in range(videos_per_class):
            frames = moving_texture(num_frames, height, width, velocity=velocity,
                                    seed=seed * 100_003 + label * 1000 + i)
            stem = file_stem.format(class_name=class_name, label=label, i=i)
            samples.append((write_video(root / class_name / f"{stem}{extension}", frames), label))
    return samples


def write_toy_hmdb51(
    root: str | Path, *, classes: Sequence[str] = ("brush_hair", "cartwheel"), videos_per_class: int = 3,
    **video_options,
) -> Path:
    """A tiny dataset in HMDB-51's layout: ``root/videos/<class>/<class>_<i>.avi`` and split files
    ``root/splits/<class>_test_split{1,2,3}.txt`` (``<video>.avi 1`` = train, ``2`` = test).
    Video ``i`` is in the test set of split ``s`` when ``(i + s) % 3 == 0``. Returns ``root``."""
    root = Path(root)
    write_toy_dataset(root / "videos", videos_per_class=videos_per_class, extension=".avi", class_names=classes,
                      file_stem="{class_name}_{i}", **video_options)
    (root / "splits").mkdir(parents=True, exist_ok=True)
    for name in classes:
        for split in (1, 2, 3):
            marks = ["2" if (i + split) % 3 == 0 else "1" for i in range(videos_per_class)]
            text = "".join(f"{name}_{i}.avi {mark} \n" for i, mark in enumerate(marks))
            (root / "splits" / f"{name}_test_split{split}.txt").write_text(text)
    return root


def write_toy_kinetics(
    root: str | Path, *, classes: Sequence[str] = ("abseiling", "air drumming"), train_per_class: int = 2,
    val_per_class: int = 1, **video_options,
) -> Path:
    """A tiny dataset in Kinetics-400's layout: ``root/{train,val}/<class>/<id>_000000_000010.mp4`` plus
    ``root/train.csv`` and ``root/validate.csv`` (``label,youtube_id,time_start,time_end,split``). Returns ``root``."""
    root = Path(root)
    for subset, count, seed in (("train", train_per_class, 0), ("val", val_per_class, 1)):
        videos = write_toy_dataset(root / subset, videos_per_class=count, seed=seed, class_names=classes,
                                   file_stem=subset[0] + "{label}x{i}-toy_000000_000010", **video_options)
        rows = ["label,youtube_id,time_start,time_end,split"]
        rows += [f"{classes[label]},{path.stem.rsplit('_', 2)[0]},0,10,{subset}" for path, label in videos]
        (root / ("train.csv" if subset == "train" else "validate.csv")).write_text("\n".join(rows) + "\n")
    return root
