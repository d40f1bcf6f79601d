"""The motion-only synthetic set: its classes differ in motion only, never in what one frame shows."""

import numpy as np
import pytest

from repflow.cli import main
from repflow.data.synthetic import plan_clip
from repflow.data.synthetic.actions import action_motion
from repflow.data.synthetic.dataset import SynthSettings, write_dataset
from repflow.data.synthetic.generator import class_table
from repflow.data.synthetic.motion_only import MOTION_ONLY_NAMES
from repflow.data.synthetic.skeleton import Body

LOOP_ANGLES = ("l_shoulder", "l_elbow", "l_hip", "l_knee")
BODY = Body(torso=0.3, head_radius=0.068, upper_arm=0.17, forearm=0.15, thigh=0.245, shin=0.235,
            shoulder_offset=0.085, build=1.0)  # fmt: skip


def _ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    values = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), values, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), values, side="right") / len(b)
    return float(np.abs(cdf_a - cdf_b).max())


def _frame_angles(action, frame: int, draws: int, *, motion_only: bool = True) -> dict[str, np.ndarray]:
    """Each loop angle (degrees) at ``frame`` of ``draws`` clips of ``action`` with independent seeds."""
    times = np.arange(16) / 15.0
    table = {item.name: item for item in class_table(motion_only)}
    poses = [action_motion(table[action], times, BODY, np.random.default_rng((77, draw))).pose
             for draw in range(draws)]  # fmt: skip
    return {name: np.degrees([pose[name][frame] for pose in poses]) for name in LOOP_ANGLES}


def test_at_least_eight_classes_covering_direction_speed_and_limb():
    assert len(MOTION_ONLY_NAMES) >= 8 and len(set(MOTION_ONLY_NAMES)) == len(MOTION_ONLY_NAMES)
    for part in ("arm", "leg", "forward", "backward", "slow", "fast"):
        assert sum(part in name for name in MOTION_ONLY_NAMES) == len(MOTION_ONLY_NAMES) // 2, part


@pytest.mark.parametrize("limb", ["arm", "leg"])
@pytest.mark.parametrize("speed", ["slow", "fast"])
def test_backward_is_the_forward_clip_played_in_reverse(limb, speed):
    forward = plan_clip(f"{limb}_forward_{speed}", 5, size=48, num_frames=12, motion_only=True)
    backward = plan_clip(f"{limb}_backward_{speed}", 5, size=48, num_frames=12, motion_only=True)
    moved = 0.0
    for name, joints in forward.joints.items():
        np.testing.assert_allclose(backward.joints[name], joints[::-1], atol=1e-9, err_msg=name)
        moved = max(moved, float(np.ptp(joints, axis=0).max()))
    assert moved > 3  # pixels: the clip does move, so the order carries the class
    np.testing.assert_array_equal(forward.background, backward.background)
    assert forward.appearance.body == backward.appearance.body


def test_single_frames_of_every_class_have_the_same_pose_distribution():
    """KS test per loop angle at the first and last frame, each class against the first, 400 clips each."""
    critical = 1.95 * np.sqrt(2 / 400)  # 0.1 % level
    for frame in (0, 15):
        reference = _frame_angles(MOTION_ONLY_NAMES[0], frame, 400)
        for action in MOTION_ONLY_NAMES[1:]:
            angles = _frame_angles(action, frame, 400)
            for name in LOOP_ANGLES:
                assert _ks_distance(angles[name], reference[name]) < critical, (action, frame, name)


def test_the_same_ks_check_does_tell_apart_actions_whose_frames_differ():
    """The check above has power: it separates walking from running frames in the main set."""
    walk = _frame_angles("walking", 0, 400, motion_only=False)
    run = _frame_angles("running", 0, 400, motion_only=False)
    assert _ks_distance(walk["l_hip"], run["l_hip"]) > 2 * 1.95 * np.sqrt(2 / 400)


def test_fast_classes_move_further_between_frames_than_slow_ones():
    def mean_step(action: str) -> float:
        steps = []
        for seed in range(20):
            plan = plan_clip(action, (3, seed), size=64, num_frames=8, motion_only=True)
            end = plan.joints["l_hand" if action.startswith("arm") else "l_toe"] - plan.joints["pelvis"]
            steps.append(np.linalg.norm(np.diff(end, axis=0), axis=-1).mean() / plan.scale)
        return float(np.mean(steps))

    for limb in ("arm", "leg"):
        assert mean_step(f"{limb}_forward_fast") > 2 * mean_step(f"{limb}_forward_slow"), limb


def test_motion_only_set_is_written_byte_identically_with_its_own_classes(tmp_path):
    settings = SynthSettings(clips_per_class=1, test_clips_per_class=1, size=32, num_frames=6, motion_only=True)
    write_dataset(tmp_path / "one", settings)
    write_dataset(tmp_path / "two", settings, workers=2)
    assert (tmp_path / "one" / "classes.txt").read_text().split() == list(MOTION_ONLY_NAMES)
    lines = (tmp_path / "one" / "train.txt").read_text().splitlines()
    assert [int(line.split()[1]) for line in lines] == list(range(len(MOTION_ONLY_NAMES)))
    for split in ("train.txt", "test.txt"):
        for line in (tmp_path / "one" / split).read_text().splitlines():
            relative = line.split()[0]
            assert (tmp_path / "one" / relative).read_bytes() == (tmp_path / "two" / relative).read_bytes(), relative


def test_synth_command_motion_only_flag(tmp_path, capsys):
    out = tmp_path / "set"
    args = ["synth", "--motion-only", "--out", str(out), "--clips-per-class", "1", "--test-clips-per-class", "0",
            "--size", "24", "--frames", "3"]  # fmt: skip
    assert main(args) == 0
    assert (out / "classes.txt").read_text().split() == list(MOTION_ONLY_NAMES)
    assert f"wrote {len(MOTION_ONLY_NAMES)} clips" in capsys.readouterr().out


def test_motion_only_names_are_refused_without_the_flag_and_the_reverse():
    with pytest.raises(ValueError, match="unknown action 'arm_forward_slow'"):
        plan_clip("arm_forward_slow", 1, size=24, num_frames=3)
    with pytest.raises(ValueError, match="unknown action 'walking'"):
        plan_clip("walking", 1, size=24, num_frames=3, motion_only=True)
