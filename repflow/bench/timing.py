"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def time_ms(
    run: Callable[[], object], *, repeats: int, warmup: int = 1, device: torch.device | None = None
) -> list[float]:
    """Wall-clock milliseconds of ``repeats`` calls of ``run`` after ``warmup`` calls (CUDA synchronised)."""
    sync = torch.cuda.synchronize if device is not None and device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        run()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
