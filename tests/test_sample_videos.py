"""sample_videos/make_samples.py reproduces the committed motion-only clips byte for byte (the other samples need
Debian packages and are checked by hand, as its README says)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"


def make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_motion_only_clips_are_reproduced_from_a_seed_of_their_own(tmp_path):
    module = make_samples()
    assert module.MOTION_ONLY.seed not in (0, 1), "the motion-only models' training and reserved test seeds"
    made = module.make_motion_only_clips(tmp_path)
    committed = sorted(SAMPLES.glob("motion_only_*.mp4"))
    assert sorted(path.name for path in made) == [path.name for path in committed]
    assert len(made) == 8
    for path in made:
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), path.name
