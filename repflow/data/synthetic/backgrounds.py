"""Backgrounds for synthetic clips: procedural rooms and outdoor scenes, or stills cut from real videos."""

from __future__ import annotations

import colorsys
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg"}


def random_colour(
    rng: np.random.Generator, *, saturation: tuple[float, float], value: tuple[float, float]
) -> np.ndarray:
    """An RGB colour (3,) in [0, 1] with uniform hue and saturation/value drawn from the given ranges."""
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value)))


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int, channels: int = 1) -> np.ndarray:
    """Smooth value noise in [-1, 1], shape (height, width, channels), with about ``cells`` blobs across."""
    grid = rng.uniform(-1, 1, size=(cells + 1, cells + 1, channels)).astype(np.float32)
    noise = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return noise.reshape(height, width, channels)


def procedural_background(rng: np.random.Generator, height: int, width: int, horizon: float) -> np.ndarray:
    """A float32 RGB image (height, width, 3) in [0, 1]: a wall or sky above ``horizon`` (a row), floor below.

    The wall gets panels, windows or stripes, the floor a gradient and tile lines, and everything a
    low-frequency colour noise, so the figure moves in front of texture rather than flat colour.
    """
    outdoor = rng.uniform() < 0.35
    top = random_colour(rng, saturation=(0.1, 0.5), value=(0.45, 0.95))
    bottom = random_colour(rng, saturation=(0.1, 0.6), value=(0.2, 0.75))
    if outdoor:
        top = np.array(colorsys.hsv_to_rgb(rng.uniform(0.53, 0.64), rng.uniform(0.15, 0.6), rng.uniform(0.7, 1.0)))
    image = np.empty((height, width, 3), dtype=np.float32)
    row = int(np.clip(horizon, 1, height - 1))
    image[:row] = top
    image[row:] = bottom
    rows = np.linspace(0.0, 1.0, height - row, dtype=np.float32)[:, None, None]
    image[row:] *= 0.75 + 0.35 * rows  # floor brightens towards the camera
    scale = max(height, width) / 64.0
    for _ in range(rng.integers(0, 5)):  # windows, doors, pictures, trees
        colour = random_colour(rng, saturation=(0.0, 0.7), value=(0.1, 1.0))
        x0, y0 = rng.uniform(0, width), rng.uniform(-0.2 * row, row)
        w, h = rng.uniform(4, 18) * scale, rng.uniform(4, 22) * scale
        if outdoor:  # a tree or bush on the horizon
            foliage = colorsys.hsv_to_rgb(rng.uniform(0.2, 0.4), rng.uniform(0.3, 0.8), rng.uniform(0.25, 0.65))
            cv2.circle(image, (int(x0), int(row - w / 2)), int(w), foliage, -1, cv2.LINE_AA)
        else:
            corner = (int(x0 + w), int(min(y0 + h, row)))
            cv2.rectangle(image, (int(x0), int(y0)), corner, colour.tolist(), -1, cv2.LINE_AA)
    if rng.uniform() < 0.4:  # vertical planks or wallpaper stripes
        period = rng.uniform(3, 10) * scale
        shade = 1.0 - rng.uniform(0.05, 0.2) * (np.arange(width) % period < period / 2)
        image[:row] *= shade[None, :, None]
    if rng.uniform() < 0.5:  # floor tiles or paving
        spacing = rng.uniform(4, 12) * scale
        for y in np.arange(row + spacing / 2, height, spacing):
            cv2.line(image, (0, int(y)), (width, int(y)), (image[int(y), 0] * 0.8).tolist(), 1, cv2.LINE_AA)
    texture = _smooth_noise(rng, height, width, cells=int(rng.integers(3, 9)), channels=3)
    image *= 1.0 + rng.uniform(0.05, 0.25) * texture
    fine = _smooth_noise(rng, height, width, cells=max(8, width // 4), channels=1)
    image *= 1.0 + rng.uniform(0.0, 0.08) * fine
    return np.clip(image, 0.0, 1.0)


class BackgroundPool:
    """Still frames from real videos (or images), cut into random crops for clip backgrounds.

    ``frames_per_video`` stills are taken evenly through each video when the pool is built, downscaled
    so their short side is ``short_side`` pixels, and kept in memory.
    """

    def __init__(self, stills: Sequence[np.ndarray], sources: Sequence[str]):
        if not stills:
            raise ValueError("a background pool needs at least one still frame")
        self.stills = list(stills)
        self.sources = list(sources)

    @classmethod
    def from_paths(
        cls, paths: Iterable[str | Path], *, frames_per_video: int = 6, short_side: int = 256
    ) -> "BackgroundPool":
        """Build a pool from video/image files and folders of them (searched recursively, in sorted order)."""
        from repflow.video import read_frames, video_info

        files = _media_files(paths)
        stills, sources = [], []
        for file in files:
            if file.suffix.lower() in IMAGE_SUFFIXES:
                image = cv2.imread(str(file), cv2.IMREAD_COLOR)
                if image is None:
                    raise ValueError(f"background image {file} could not be decoded")
                image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
                scale = short_side / min(image.shape[:2])
                frames = [cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)]
            else:
                count = video_info(file).num_frames
                indices = np.linspace(0, count - 1, min(frames_per_video, count)).round().astype(int)
                frames = list(read_frames(file, indices, short_side=short_side))
            stills.extend(frames)
            sources.extend([str(file)] * len(frames))
        return cls(stills, sources)

    def sample(self, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
        """A random crop (random still, position, zoom, mirror) resized to float32 (height, width, 3) in [0, 1]."""
        still = self.stills[rng.integers(len(self.stills))]
        sh, sw = still.shape[:2]
        zoom = rng.uniform(0.5, 1.0)
        crop_h = max(2, int(min(sh, sw * height / width) * zoom))
        crop_w = max(2, int(crop_h * width / height))
        y0, x0 = rng.integers(0, sh - crop_h + 1), rng.integers(0, sw - crop_w + 1)
        crop = still[y0 : y0 + crop_h, x0 : x0 + crop_w]
        if rng.uniform() < 0.5:
            crop = crop[:, ::-1]
        resized = cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=cv2.INTER_AREA)
        return resized.astype(np.float32) / 255.0


def _media_files(paths: Iterable[str | Path]) -> list[Path]:
    """Video and image files named by ``paths`` (files, or folders searched recursively), sorted."""
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    expected = ", ".join(sorted(suffixes))
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                raise FileNotFoundError(f"background folder {path} holds no video or image files ({expected})")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in suffixes:
                raise ValueError(f"background file {path} is not a video or image (expected one of {expected})")
            files.append(path)
        else:
            raise FileNotFoundError(f"background path {path} does not exist")
    return files
