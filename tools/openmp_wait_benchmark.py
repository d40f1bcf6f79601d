"""What OpenMP's wait policy does to the app's forward pass when the cores are busy.

The app's server shares the machine's cores with the browser and its own background TV-L1 job. torch's OpenMP
threads by default spin for a while when they wait for work; ``viz_app/main.py`` makes them sleep instead
(``OMP_WAIT_POLICY=PASSIVE``). This runs, in fresh interpreters, what the explorer's first view runs for the
bundled default model and clip (:func:`repflow.analysis.analyse_clip` on the model's training window), with 0, 1
and 2 cores kept busy by spinning processes beside it, under torch's default policy and under the app's,
alternately, and prints the median and slowest of each pass (the first pass of a process, then the next two).

Run from the repository root: ``python -m tools.openmp_wait_benchmark [--repeats 5] [--busy 0 1 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICIES = {"spinning (torch's default)": None, "sleeping (the app's)": "PASSIVE"}
PASSES = 3


def timed_passes() -> list[float]:
    """Seconds of PASSES analyses of the default clip's first window by the default model, in this process."""
    from repflow.analysis import analyse_clip
    from repflow.checkpoint import TrainingClip, load_checkpoint, model_from_payload
    from repflow.video import read_frames
    from viz_app.sources import DEFAULT_CLIP, DEFAULT_MODEL

    payload = load_checkpoint(ROOT / "models" / DEFAULT_MODEL)
    clip = TrainingClip.from_payload(payload)
    model = model_from_payload(payload, name=DEFAULT_MODEL)
    frames = read_frames(ROOT / "sample_videos" / DEFAULT_CLIP, list(range(0, clip.frames * clip.stride, clip.stride)),
                         short_side=clip.short_side)
    seconds = []
    for _ in range(PASSES):
        start = time.perf_counter()
        analyse_clip(model, frames, size=clip.size, short_side=clip.short_side)
        seconds.append(time.perf_counter() - start)
    return seconds


def run_once(policy: str | None, busy: int) -> list[float]:
    """The passes of a fresh interpreter under OpenMP wait ``policy`` (None: torch's default), ``busy`` cores spun."""
    env = {name: value for name, value in os.environ.items() if name != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        done = subprocess.run([sys.executable, "-m", "tools.openmp_wait_benchmark", "--child"], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per policy and load")
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2], help="cores kept busy beside it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(timed_passes()))
        return
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {args.repeats} interpreters each, "
          "policies alternating")
    print("| busy cores | OpenMP threads waiting | first pass, median (max) | later passes, median (max) |")
    print("|---|---|---|---|")
    for busy in args.busy:
        runs = {name: [] for name in POLICIES}
        for _ in range(args.repeats):
            for name, policy in POLICIES.items():
                runs[name].append(run_once(policy, busy))
        for name, passes in runs.items():
            first = [p[0] for p in passes]
            later = [t for p in passes for t in p[1:]]
            print(f"| {busy} | {name} | {statistics.median(first):.3f} s ({max(first):.3f}) | "
                  f"{statistics.median(later):.3f} s ({max(later):.3f}) |")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
