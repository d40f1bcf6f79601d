"""Classical TV-L1 optical flow of video frames (OpenCV's Dual TV-L1), for two-stream baselines and comparison."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np


def _gray(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"tvl1 expects uint8 frames, got {frames.dtype}")
    if frames.ndim == 4 and frames.shape[-1] == 3:
        return np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames])
    if frames.ndim == 3:
        return frames
    raise ValueError(f"tvl1 expects frames (T, H, W, 3) RGB or (T, H, W) gray, got shape {frames.shape}")


def tvl1(frames: np.ndarray, *, nscales: int = 5, warps: int = 5, workers: int = 1) -> np.ndarray:
    """Dual TV-L1 optical flow (Zach, Pock & Bischof 2007) between consecutive frames.

    Args:
        frames: uint8 (T, H, W, 3) RGB or (T, H, W) gray, T >= 2.
        nscales, warps: OpenCV's pyramid levels and warps per level (nscales=1: single scale).
        workers: pairs computed at once, each in a thread of its own with its own solver (OpenCV releases the
            GIL); the flows are the same. One call alone spreads over OpenCV's threads, which on small frames
            costs about twice the CPU time for no gain in wall time; several calls at once each run on one core.

    Returns:
        float32 (T-1, H, W, 2): (x, y) flow in pixels from frame t to t+1 (positive = moves right/down).
    """
    gray = _gray(frames)
    if len(gray) < 2:
        raise ValueError(f"tvl1 needs at least 2 frames, got {len(gray)}")
    pairs = list(zip(gray[:-1], gray[1:]))

    def pair_flow(pair: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        return cv2.optflow.DualTVL1OpticalFlow_create(nscales=nscales, warps=warps).calc(*pair, None)

    if workers <= 1:
        flows = list(map(pair_flow, pairs))
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(pairs)), thread_name_prefix="tvl1") as pool:
            flows = list(pool.map(pair_flow, pairs))
    return np.stack(flows).astype(np.float32)
