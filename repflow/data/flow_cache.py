"""Classical TV-L1 optical flow of a clip for the flow stream of a two-stream model, cached on disk.

OpenCV's TV-L1 costs tens of milliseconds per frame pair even on small frames, far more than a training
step, so each computed clip flow is saved as float16 ``.npy`` under a key made of the video file
(absolute path, size, modification time), the frame indices and the short side. Evaluation clips are
deterministic and hit the cache from the second pass on; random training clips fill it as epochs go.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from repflow.io import atomic_write


def clip_flow(frames: np.ndarray) -> np.ndarray:
    """TV-L1 flow (T-1, H, W, 2) float32 in pixels between consecutive frames of uint8 (T, H, W, 3)."""
    from repflow.classical import tvl1

    return np.asarray(tvl1(frames), dtype=np.float32)


def run_flow_cache(flow_cache: str | Path, out_dir: str | Path) -> FlowCache:
    """The TV-L1 cache of a training run: its ``flow_cache`` setting, or ``<out_dir>/flow_cache`` when empty."""
    return FlowCache(Path(flow_cache) if flow_cache else Path(out_dir) / "flow_cache")


class FlowCache:
    """Compute-once store of clip flows; ``directory=None`` computes every time (no disk use)."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None

    def key(self, video: Path, indices: np.ndarray, short_side: int, view: str = "") -> str:
        """A hash naming the video file's identity and content stamp, the frame indices, the size and, when not
        the whole resized frame, the ``view`` (e.g. "crop112")."""
        stat = video.stat()
        text = f"{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{short_side}|{','.join(map(str, indices))}"
        return hashlib.sha1((text + (f"|{view}" if view else "")).encode()).hexdigest()

    def get(self, video: Path, indices: np.ndarray, short_side: int, frames: np.ndarray, *,
            view: str = "") -> np.ndarray:
        """The flow of ``frames`` (read from ``video`` at ``indices``, resized to ``short_side``, cut to ``view``),
        from the cache or freshly computed."""
        if self.directory is None:
            return clip_flow(frames)
        key = self.key(video, indices, short_side, view)
        path = self.directory / key[:2] / f"{key}.npy"
        if path.is_file():
            try:
                return np.load(path).astype(np.float32)
            except (OSError, ValueError):
                pass  # a damaged entry is recomputed and overwritten below
        flow = clip_flow(frames)
        atomic_write(path, lambda file: np.save(file, flow.astype(np.float16)))
        return flow
