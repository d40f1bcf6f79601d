"""Agreement with TV-L1: does a flow channel show where the frames move?

Per time step, the Pearson r over a flow layer's h x w positions between a channel's |flow| and classical OpenCV
TV-L1 |flow| between the same input frames, area-averaged down to the layer's resolution. A channel's agreement is
its mean r over the steps of *local* motion: steps where TV-L1 motion is still (mean under ``STILL_PX`` input
pixels) or spread over the whole frame (spatial std / mean under ``LOCAL_MOTION``: a camera pan or shake) are
skipped, since they leave nothing to localise. ``repflow bench alignment`` reports it per layer over held-out
clips; the app and ``repflow figure`` rank a layer's channels by it.
"""

from __future__ import annotations

import cv2
import numpy as np

from repflow.classical import tvl1

LOCAL_MOTION = 0.5  # a step counts when TV-L1 magnitude's spatial std / mean is at least this
STILL_PX = 0.05  # ... and its mean is at least this many input pixels per step (not a still step)


def tvl1_magnitude(frames: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """Classical TV-L1 flow magnitude between consecutive uint8 frames (T, H, W, 3): (T - 1, H, W), pixels
    (``workers``: pairs computed at once, :func:`repflow.classical.tvl1`)."""
    return np.linalg.norm(tvl1(frames, workers=workers), axis=-1)


def reference_motion(magnitude: np.ndarray, size: tuple[int, int], steps: int) -> np.ndarray:
    """A :func:`tvl1_magnitude` (T - 1, H, W) area-averaged to ``size`` (h, w) and ``steps`` steps.

    ``steps`` = T - 1 pairs the reference with a flow layer's steps one to one. A layer with k fewer steps
    (flow-of-flow's second layer: its step i is made from input steps i .. i + k) gets the mean magnitude over
    the k + 1 input steps each of its steps spans.
    """
    height, width = size
    small = np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_AREA) for m in magnitude])
    extra = len(small) - steps
    if extra < 0:
        raise ValueError(f"a layer with {steps} flow steps cannot come from {len(small) + 1} frames")
    if extra == 0:
        return small
    return np.stack([small[i : i + extra + 1].mean(axis=0) for i in range(steps)])


def counted_steps(reference: np.ndarray) -> np.ndarray:
    """Boolean (steps,): where the reference motion (steps, h, w) is local and not still."""
    flat = reference.reshape(len(reference), -1)
    mean, std = flat.mean(axis=1), flat.std(axis=1)
    return (mean >= STILL_PX) & (std >= LOCAL_MOTION * np.maximum(mean, 1e-12))


def step_correlations(magnitude: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson r over positions of each channel's magnitude (C, steps, h, w) with ``reference`` (steps, h, w).

    Returns (C, steps); a constant map (zero variance) has r = 0.
    """
    a = magnitude.reshape(*magnitude.shape[:2], -1).astype(np.float64)
    b = reference.reshape(len(reference), -1).astype(np.float64)
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1)[None])
    covariance = (a * b[None]).sum(axis=-1)
    return np.divide(covariance, denominator, out=np.zeros_like(covariance), where=denominator > 1e-12)


def channel_agreement(flows: np.ndarray, frames: np.ndarray, *, motion: np.ndarray | None = None) -> np.ndarray:
    """Per channel, the mean r of |flow| with TV-L1 |flow| of ``frames`` over the steps of local motion.

    Args:
        flows: one clip's flows of one layer, (C, steps, h, w, 2), as in :class:`repflow.analysis.ClipAnalysis`.
        frames: uint8 (T, H, W, 3), the frames the model read (after resizing and cropping; ``ClipAnalysis.frames``).
        motion: ``tvl1_magnitude(frames)`` when already at hand: TV-L1 is the costly part (about 0.1 s a frame
            pair at 56 px, 0.4 s at 112 px, on 2 CPU cores), and every layer of a clip shares it.

    Returns:
        float (C,): "agreement with TV-L1" in [-1, 1]; NaN for every channel when no step has local motion.
    """
    magnitude = np.linalg.norm(np.asarray(flows, dtype=np.float32), axis=-1)  # (C, steps, h, w)
    motion = tvl1_magnitude(frames) if motion is None else motion
    reference = reference_motion(motion, magnitude.shape[-2:], magnitude.shape[1])
    counted = counted_steps(reference)
    if not counted.any():
        return np.full(len(magnitude), np.nan)
    return step_correlations(magnitude[:, counted], reference[counted]).mean(axis=1)


def rank_by_agreement(agreement: np.ndarray) -> np.ndarray:
    """Channel indices, highest :func:`channel_agreement` first (NaN last)."""
    return np.argsort(-np.asarray(agreement, dtype=np.float64), kind="stable")
