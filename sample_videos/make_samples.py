"""Regenerate the clips in sample_videos/: real footage from Debian packages plus one synthetic clip per action.

Documents what was done to every committed clip (the committed files are what the app opens):

    python sample_videos/make_samples.py                        # downloads the two .deb packages with apt-get
    python sample_videos/make_samples.py --debian-root DIR      # DIR holds the packages already extracted (dpkg -x)
    python sample_videos/make_samples.py --motion-only          # only the motion-only clips (no download)

Real clips are trimmed, scaled so the longer side is at most 320 pixels and re-encoded as H.264.
Synthetic clips come from repflow.data.synthetic with fixed seeds; half of them use stills of the
real clips as backgrounds. Motion-only clips (one per class of ``repflow synth --motion-only``) are
the clips that set's generator writes for seed MOTION_ONLY_SEED, at the size and length the bundled
motion-only models were trained on.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from repflow.data.synthetic import ACTION_NAMES, BackgroundPool, generate_clip
from repflow.data.synthetic.dataset import SynthSettings
from repflow.video import read_frames, video_info, write_video

HERE = Path(__file__).resolve().parent
PACKAGES = ("opencv-doc", "python3-imageio")
MAX_SIDE = 320
MAX_BYTES = 2 * 1024 * 1024
SYNTHETIC_SIZE, SYNTHETIC_SECONDS, SYNTHETIC_FPS, SYNTHETIC_SEED = (
    160,
    2.5,
    15.0,
    2019,
)  # 15 fps: the rate of `repflow synth` data
# Seed 2: neither the motion-only models' training seed (0) nor their reserved test seed (1). Clip 0 of the
# training split of `repflow synth --motion-only --seed 2 --size 64 --frames 16`, the same scene for every class.
MOTION_ONLY = SynthSettings(clips_per_class=1, test_clips_per_class=0, seed=2, size=64, num_frames=16,
                            motion_only=True)  # fmt: skip
MOTION_ONLY_SEED = (MOTION_ONLY.seed, 0, 0)  # (set seed, split 0 = train, clip index 0), as `repflow synth` seeds it


@dataclass(frozen=True)
class RealClip:
    name: str
    package: str
    source: str  # path inside the extracted package
    start: float  # seconds
    seconds: float


REAL_CLIPS = (
    RealClip("real_vtest_walking.mp4", "opencv-doc", "usr/share/doc/opencv-doc/examples/data/vtest.avi", 0.0, 5.0),
    RealClip("real_box.mp4", "opencv-doc", "usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz", 0.0, 4.0),
    RealClip("real_cup.mp4", "opencv-doc", "usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz", 0.0, 4.0),
    RealClip("real_cockatoo.mp4", "python3-imageio",
             "usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4", 0.0, 4.0),  # fmt: skip
)


def extract_packages(workdir: Path) -> Path:
    """``apt-get download`` the packages into ``workdir`` and ``dpkg -x`` them into ``workdir/root``."""
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=workdir, check=True)
    root = workdir / "root"
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def _fit(frames: np.ndarray) -> np.ndarray:
    """Scale frames so the longer side is at most MAX_SIDE pixels, with even sizes (for yuv420p)."""
    height, width = frames.shape[1:3]
    scale = min(1.0, MAX_SIDE / max(height, width))
    size = (int(width * scale) // 2 * 2, int(height * scale) // 2 * 2)
    return np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in frames])


def make_real_clip(clip: RealClip, root: Path, out: Path, scratch: Path) -> Path:
    source = root / clip.source
    if not source.is_file():
        raise FileNotFoundError(f"{source} not found: is {clip.package} extracted under {root}?")
    if source.suffix == ".gz":
        plain = scratch / source.stem
        with gzip.open(source) as packed, open(plain, "wb") as unpacked:
            shutil.copyfileobj(packed, unpacked)
        source = plain
    info = video_info(source)
    first = int(round(clip.start * info.fps))
    last = min(info.num_frames, first + int(round(clip.seconds * info.fps)))
    frames = _fit(read_frames(source, np.arange(first, last)))
    return write_video(out / clip.name, frames, fps=info.fps, crf=23)


def make_synthetic_clips(out: Path, backgrounds: BackgroundPool) -> list[Path]:
    num_frames = int(round(SYNTHETIC_SECONDS * SYNTHETIC_FPS))
    paths = []
    for index, action in enumerate(ACTION_NAMES):
        frames = generate_clip(action, (SYNTHETIC_SEED, index), size=SYNTHETIC_SIZE, num_frames=num_frames,
                               fps=SYNTHETIC_FPS, backgrounds=backgrounds, real_background_fraction=0.5)  # fmt: skip
        paths.append(write_video(out / f"synthetic_{action}.mp4", frames, fps=SYNTHETIC_FPS, crf=20))
    return paths


def make_motion_only_clips(out: Path) -> list[Path]:
    """``motion_only_<class>.mp4`` for each class of the motion-only set: byte for byte the clip
    ``repflow synth --motion-only --seed 2 --clips-per-class 1 --test-clips-per-class 0 --size 64 --frames 16``
    writes as ``train/<class>/<class>_00000.mp4``."""
    paths = []
    for action in MOTION_ONLY.class_names:
        frames = generate_clip(action, MOTION_ONLY_SEED, size=MOTION_ONLY.size, num_frames=MOTION_ONLY.num_frames,
                               fps=MOTION_ONLY.fps, motion_only=True)  # fmt: skip
        paths.append(write_video(out / f"motion_only_{action}.mp4", frames, fps=MOTION_ONLY.fps))
    return paths


def describe(paths: list[Path]) -> None:
    """One line per clip: size, frames, frame rate, file size (flagged when over 2 MB)."""
    for path in paths:
        info = video_info(path)
        size = path.stat().st_size
        flag = "" if size <= MAX_BYTES else "  TOO BIG (> 2 MB)"
        shape = f"{info.width}x{info.height} {info.num_frames:4d} frames @ {info.fps:5.2f} fps"
        print(f"{path.name:32s} {shape} {size / 1024:7.1f} KiB{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debian-root", type=Path, help="where the packages are extracted (default: download them)")
    parser.add_argument("--out", type=Path, default=HERE, help="where the clips go (default: this folder)")
    parser.add_argument("--motion-only", action="store_true", help="only the motion-only clips (no download)")
    args = parser.parse_args()
    motion_only = make_motion_only_clips(args.out)
    if args.motion_only:
        describe(motion_only)
        return
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        root = args.debian_root or extract_packages(scratch)
        real = [make_real_clip(clip, root, args.out, scratch) for clip in REAL_CLIPS]
    synthetic = make_synthetic_clips(args.out, BackgroundPool.from_paths(real))
    describe(real + synthetic + motion_only)


if __name__ == "__main__":
    main()
