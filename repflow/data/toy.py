"""A tiny generated video dataset (moving textures whose direction is the class) for tests and smoke runs.

Class ``k`` of ``n`` moves a random texture at angle ``2 pi k / n``, so a model can learn it from motion alone.
"""

from __future__ import annotations

import math
from pathlib import Path

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
) -> list[tuple[Path, int]]:
    """Write ``root/class_<k>/video_<i><extension>`` for every class and return [(path, label), ...]."""
    root = Path(root)
    samples = []
    for label in range(num_classes):
        angle = 2 * math.pi * label / num_classes
        velocity = (speed * math.cos(angle), speed * math.sin(angle))
        for i in range(videos_per_class):
            frames = moving_texture(num_frames, height, width, velocity=velocity,
                                    seed=seed * 100_003 + label * 1000 + i)
            path = write_video(root / f"class_{label}" / f"video_{i}{extension}", frames)
            samples.append((path, label))
    return samples
