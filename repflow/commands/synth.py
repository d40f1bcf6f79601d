"""`repflow synth`: write the synthetic action dataset (mp4 clips + train/test lists) to a folder."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tqdm import tqdm

from repflow.data.synthetic.actions import ACTION_NAMES
from repflow.data.synthetic.backgrounds import BackgroundPool
from repflow.data.synthetic.dataset import SynthSettings, write_dataset
from repflow.data.synthetic.motion_only import MOTION_ONLY_NAMES
from repflow.io import check_output_folder


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        f"Render {len(ACTION_NAMES)} synthetic actions ({', '.join(ACTION_NAMES)}) to mp4 files under OUT, "
        "with train.txt, test.txt (held-out seeds) and classes.txt for the dataset loaders."
    )
    parser.add_argument("--out", required=True, help="output folder (created if needed)")
    parser.add_argument("--clips-per-class", type=int, required=True, help="training clips per class")
    parser.add_argument("--test-clips-per-class", type=int, default=None,
                        help="held-out test clips per class (default: a quarter of --clips-per-class, at least 1)")
    parser.add_argument("--seed", type=int, default=0,
                        help="base seed; the same settings and seed give the same files, byte for byte")
    parser.add_argument("--size", type=int, default=64, help="frame width and height in pixels")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip")
    parser.add_argument("--fps", type=float, default=15.0, help="frame rate the motion is sampled at")
    parser.add_argument("--backgrounds", nargs="+", default=None, metavar="DIR_OR_FILE",
                        help="videos/images (or folders of them) to cut real backgrounds from; default: none")
    parser.add_argument("--real-background-fraction", type=float, default=0.5,
                        help="share of clips on a real background when --backgrounds is given")
    parser.add_argument("--workers", type=int, default=1, help="processes rendering clips in parallel")  # fmt: skip
    parser.add_argument("--motion-only", action="store_true",
                        help=f"render the {len(MOTION_ONLY_NAMES)} motion-only classes instead, which no single "
                        "frame tells apart (docs/studies/motion_only.md)")  # fmt: skip
    parser.add_argument("--overwrite", action="store_true",
                        help="write into an --out folder that already holds files (a dataset there is replaced)")


def check_out(out: Path, *, overwrite: bool) -> None:
    """Before any rendering: ``out`` must be a writable folder, empty unless ``overwrite``."""
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        held = ", ".join(sorted(path.name for path in out.iterdir())[:4])
        raise ValueError(f"--out {out} already holds files ({held}, ...): choose an empty or new folder, or pass "
                         "--overwrite to write the dataset over them")
    check_output_folder(out, flag="--out")


def run(args: argparse.Namespace) -> int:
    check_out(Path(args.out), overwrite=args.overwrite)
    test_clips = args.test_clips_per_class
    if test_clips is None:
        test_clips = max(1, args.clips_per_class // 4)
    settings = SynthSettings(
        clips_per_class=args.clips_per_class, test_clips_per_class=test_clips, seed=args.seed, size=args.size,
        num_frames=args.frames, fps=args.fps, real_background_fraction=args.real_background_fraction,
        motion_only=args.motion_only,
    )  # fmt: skip
    backgrounds = BackgroundPool.from_paths(args.backgrounds) if args.backgrounds else None
    total = len(settings.class_names) * (settings.clips_per_class + settings.test_clips_per_class)
    start = time.perf_counter()
    with tqdm(total=total, unit="clip", desc="synth") as bar:
        lists = write_dataset(
            args.out, settings, backgrounds=backgrounds, workers=args.workers, on_clip=lambda _: bar.update()
        )
    seconds = time.perf_counter() - start
    print(f"wrote {total} clips ({settings.size}x{settings.size}, {settings.num_frames} frames) in {seconds:.1f} s: "
          f"{1000 * seconds / total:.1f} ms per clip, rendering + encoding, {args.workers} worker(s)")  # fmt: skip
    for name, path in lists.items():
        print(f"{name}: {path}")
    return 0
