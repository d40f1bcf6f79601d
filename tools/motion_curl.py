"""Is the direction of the motion-only classes visible in classical TV-L1 flow? (docs/studies/motion_only.md)

    python tools/motion_curl.py   # after tools/motion_study.py has made data/motion_only{,_test}

For each clip, the 8 frames the models see (stride 2) give 7 TV-L1 flows; after removing the median (camera)
motion, the flow's angular momentum about the centroid of the moving pixels, summed over the steps and signed by
the way the figure faces (read from the generator's plan for the clip's seed), says which way the limb turns.
The sign that means "forward" is fixed on training clips for each limb and speed; the rule's accuracy is then
measured on the reserved test clips, at the frames' 64 px and with frames area-averaged to 16 px (about the
14x14 maps after layer1).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from repflow.classical import tvl1
from repflow.data.synthetic import plan_clip
from repflow.video import read_frames

SETS = {"train": (Path("data/motion_only/train.txt"), 0, 0), "test": (Path("data/motion_only_test/test.txt"), 1, 1)}
PER_CLASS = {"train": 24, "test": 32}


def signed_turn(frames: np.ndarray, facing: float, size: int) -> float:
    """Facing-signed angular momentum of the flow about the moving pixels' centroid, summed over the steps."""
    frames = frames[::2][:8]
    if size != frames.shape[1]:
        frames = np.stack([cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA) for frame in frames])
    total = 0.0
    for flow in tvl1(frames):
        flow = flow - np.median(flow.reshape(-1, 2), axis=0)
        speed = np.linalg.norm(flow, axis=-1)
        weight = speed * (speed > np.quantile(speed, 0.9))
        if weight.sum() == 0:
            continue
        ys, xs = np.mgrid[: flow.shape[0], : flow.shape[1]]
        cx, cy = (weight * xs).sum() / weight.sum(), (weight * ys).sum() / weight.sum()
        total += float((weight * ((xs - cx) * flow[..., 1] - (ys - cy) * flow[..., 0])).sum() / weight.sum())
    return facing * total


def measure(split: str, size: int) -> list[tuple[str, float]]:
    """(class name, signed turn) for the first clips of each class of ``split``."""
    list_file, seed, split_index = SETS[split]
    rows, seen = [], {}
    for line in list_file.read_text().splitlines():
        relative = line.split()[0]
        name = relative.split("/")[1]
        index = int(Path(relative).stem.rsplit("_", 1)[1])
        if seen.get(name, 0) >= PER_CLASS[split]:
            continue
        seen[name] = seen.get(name, 0) + 1
        facing = plan_clip(name, (seed, split_index, index), size=16, num_frames=2, motion_only=True).facing
        rows.append((name, signed_turn(read_frames(list_file.parent / relative), facing, size)))
    return rows


def main() -> None:
    for size in (64, 16):
        train, test = measure("train", size), measure("test", size)
        print(f"{size} px frames: direction from the sign of the turn, test accuracy by limb and speed", flush=True)
        for group in ("arm_", "leg_"):
            for speed in ("_slow", "_fast"):
                mine = [(name, value) for name, value in train if name.startswith(group) and name.endswith(speed)]
                forward_sign = np.sign(np.mean([value for name, value in mine if "_forward_" in name]))
                right = [("_forward_" in name) == (np.sign(value) == forward_sign)
                         for name, value in test if name.startswith(group) and name.endswith(speed)]  # fmt: skip
                print(f"  {group}*{speed}: {100 * np.mean(right):.1f} % of {len(right)} clips", flush=True)


if __name__ == "__main__":
    main()
