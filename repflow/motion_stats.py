"""Motion statistics of flow channels: how much a channel moves, in which direction, and for which classes.

Pure functions on numpy arrays, beside :func:`repflow.flowviz.flow_energy` (how much) and
:mod:`repflow.agreement` (where); ``repflow dissect`` computes them per clip and summarises them per class.

Directions are as seen on screen: sector 0 is motion to the right, and sectors go counter-clockwise in 45°
steps (2 = up, 4 = left, 6 = down). Flow fields keep image coordinates (positive y = down), so the screen angle
of (x, y) is atan2(-y, x).
"""

from __future__ import annotations

import numpy as np

from repflow.flowviz import check_flow

SECTORS = 8
SECTOR_NAMES = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")


def direction_shares(flows: np.ndarray) -> np.ndarray:
    """Share of each channel's |flow|² in each of 8 direction sectors: (C, ..., H, W, 2) -> (C, 8).

    Sector k holds screen angles within 22.5° of k·45° (0 = right, counter-clockwise). Each row sums to 1; a
    channel whose flow is zero everywhere has no direction and gets NaN.
    """
    flows = check_flow(flows, name="flows")
    if flows.ndim < 4:
        raise ValueError(f"flows must have shape (C, ..., H, W, 2), got {flows.shape}")
    flat = flows.astype(np.float64).reshape(len(flows), -1, 2)
    x, y = flat[..., 0], flat[..., 1]
    weight = x * x + y * y
    angle = np.arctan2(-y, x)  # screen angle: image y points down
    sector = np.round(angle / (2 * np.pi / SECTORS)).astype(np.int64) % SECTORS
    shares = np.zeros((len(flows), SECTORS))
    for k in range(SECTORS):
        shares[:, k] = np.where(sector == k, weight, 0.0).sum(axis=1)
    total = shares.sum(axis=1, keepdims=True)
    return np.divide(shares, total, out=np.full_like(shares, np.nan), where=total > 0)


def selectivity_index(class_means: np.ndarray) -> np.ndarray:
    """Class selectivity of each channel from its mean energy per class: (C, K) -> (C,), in [0, 1].

    (μ_max − μ_rest) / (μ_max + μ_rest), where μ_max is the largest class mean and μ_rest the mean of the other
    classes' means (the class-selectivity index of Morcos et al., 2018): 0 when every class moves the channel
    equally, 1 when only one class moves it at all. Chosen because it is bounded, ignores the channel's overall
    scale (channels of different gain compare) and reads directly as "how much more one class than the rest".
    Classes without clips (NaN means) are left out; a channel with no energy at all gets 0.
    """
    means = np.asarray(class_means, dtype=np.float64)
    if means.ndim != 2:
        raise ValueError(f"class_means must be (channels, classes), got {means.shape}")
    present = ~np.isnan(means)
    counts = present.sum(axis=1)
    if (counts < 2).any():
        raise ValueError("selectivity needs the mean energy of at least two classes per channel")
    filled = np.where(present, means, -np.inf)
    best = filled.max(axis=1)
    rest = (np.where(present, means, 0.0).sum(axis=1) - best) / (counts - 1)
    total = best + rest
    return np.divide(best - rest, total, out=np.zeros_like(total), where=total > 0)


def preferred_class(class_means: np.ndarray) -> np.ndarray:
    """Index of the class with the highest mean energy, per channel: (C, K) -> (C,) (NaN classes ignored)."""
    means = np.asarray(class_means, dtype=np.float64)
    return np.where(np.isnan(means), -np.inf, means).argmax(axis=1)
