"""Clip transforms: short-side resize, crops, horizontal flip and normalisation to the model's input.

Frames are numpy uint8 (T, H, W, 3) RGB until `normalize` turns them into a float32 tensor (3, T, H, W).
Spatial augmentation is described by a `View` (crop box + flip) so the same view can be applied to an
RGB clip and to its optical flow (whose x-component changes sign under a horizontal flip).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from repflow.video import scaled_size

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)
FLOW_CLIP = 20.0  # optical flow (pixels) is clipped to +-FLOW_CLIP and scaled to [-1, 1]


@dataclass(frozen=True)
class View:
    """A square crop of side ``size`` at (``top``, ``left``), optionally mirrored left-right."""

    top: int
    left: int
    size: int
    flip: bool = False


def as_rgb(frames: np.ndarray) -> np.ndarray:
    """Check ``frames`` is uint8 (T, H, W, 3) or gray (T, H, W) / (T, H, W, 1) and return (T, H, W, 3)."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frames.dtype}")
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or 0 in frames.shape:
        raise ValueError(f"expected frames of shape (T, H, W, 3) or (T, H, W), got {frames.shape}")
    return np.repeat(frames, 3, axis=-1) if frames.shape[-1] == 1 else frames


def resize_short_side(frames: np.ndarray, size: int) -> np.ndarray:
    """Scale (T, H, W, C) frames so the shorter side is ``size`` pixels (area filter when shrinking)."""
    height, width = frames.shape[1:3]
    new_height, new_width = scaled_size(height, width, size)
    if (new_height, new_width) == (height, width):
        return frames
    interpolation = cv2.INTER_AREA if new_height < height else cv2.INTER_LINEAR
    resized = [cv2.resize(frame, (new_width, new_height), interpolation=interpolation) for frame in frames]
    return np.stack(resized).reshape(len(frames), new_height, new_width, *frames.shape[3:])


def center_view(height: int, width: int, size: int) -> View:
    """The centred ``size`` x ``size`` crop."""
    _check_fits(height, width, size)
    return View((height - size) // 2, (width - size) // 2, size)


def random_view(height: int, width: int, size: int, rng: np.random.Generator, *, flip: bool = True) -> View:
    """A uniformly placed ``size`` crop, mirrored with probability 1/2 when ``flip``."""
    _check_fits(height, width, size)
    top = int(rng.integers(0, height - size + 1))
    left = int(rng.integers(0, width - size + 1))
    return View(top, left, size, bool(flip and rng.random() < 0.5))


def eval_views(height: int, width: int, size: int, num_crops: int) -> list[View]:
    """Deterministic evaluation crops: 1 = centre; 3 = start, centre and end along the longer side."""
    centre = center_view(height, width, size)
    if num_crops == 1:
        return [centre]
    if num_crops != 3:
        raise ValueError(f"num_crops must be 1 or 3, got {num_crops}")
    if height > width:
        return [View(0, centre.left, size), centre, View(height - size, centre.left, size)]
    return [View(centre.top, 0, size), centre, View(centre.top, width - size, size)]


def apply_view(frames: np.ndarray, view: View) -> np.ndarray:
    """Crop (and mirror) RGB frames (T, H, W, C)."""
    out = frames[:, view.top : view.top + view.size, view.left : view.left + view.size]
    return out[:, :, ::-1] if view.flip else out


def apply_view_to_flow(flow: np.ndarray, view: View) -> np.ndarray:
    """Crop (and mirror) optical flow (T, H, W, 2); mirroring negates the x-component."""
    out = apply_view(flow, view)
    if view.flip:
        out = out * np.array([-1.0, 1.0], dtype=out.dtype)
    return out


def normalize(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float32 (3, T, H, W), scaled to [0, 1] then standardised with MEAN/STD."""
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(3, 1, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1, 1)
    return clip.sub_(mean).div_(std)


def to_uint8(clip: torch.Tensor) -> np.ndarray:
    """The inverse of :func:`normalize`: float (3, T, H, W) -> uint8 (T, H, W, 3), the frames the model read."""
    mean = torch.tensor(MEAN).view(3, 1, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1, 1)
    return ((clip.float().cpu() * std + mean).clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 3, 0).numpy()


def normalize_flow(flow: np.ndarray) -> torch.Tensor:
    """Flow (T, H, W, 2) in pixels -> float32 (2, T, H, W), clipped to +-FLOW_CLIP and scaled to [-1, 1]."""
    clipped = np.clip(np.asarray(flow, dtype=np.float32), -FLOW_CLIP, FLOW_CLIP) / FLOW_CLIP
    return torch.from_numpy(np.ascontiguousarray(clipped)).permute(3, 0, 1, 2)


def to_model_input(frames: np.ndarray, size: int, *, short_side: int | None = None) -> torch.Tensor:
    """uint8 (T, H, W, 3) RGB or (T, H, W) gray -> float32 (3, T, size, size) ready for a repflow model.

    Resizes the short side to ``short_side`` (default ``size``), takes the centre ``size`` crop, scales to
    [0, 1] and normalises with MEAN/STD: with the training run's ``short_side`` this is its test view.
    """
    short_side = size if short_side is None else short_side
    if short_side < size:
        raise ValueError(f"short_side ({short_side}) cannot be smaller than the crop size ({size})")
    frames = resize_short_side(as_rgb(frames), short_side)
    return normalize(apply_view(frames, center_view(*frames.shape[1:3], size)))


def _check_fits(height: int, width: int, size: int) -> None:
    if size < 1 or size > min(height, width):
        raise ValueError(f"crop size {size} does not fit frames of {height}x{width}")
