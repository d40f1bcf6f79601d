"""Tests for the synthetic action generator (repflow.data.synthetic) and `repflow synth`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from repflow.data.synthetic import ACTION_NAMES, BackgroundPool, generate_clip, plan_clip
from repflow.data.synthetic.dataset import SynthSettings, write_dataset
from repflow.data.synthetic.skeleton import Body, forward_kinematics, two_link_ik

SMALL = dict(size=32, num_frames=6, fps=15.0)


def _joint_array(plan) -> np.ndarray:
    return np.stack([plan.joints[name] for name in sorted(plan.joints)], axis=1)  # (T, J, 2)


def test_at_least_ten_actions_including_the_required_ones():
    required = {"clapping", "running", "walking", "waving", "jumping_jacks", "hand_stand",
                "boxing", "kicking", "sitting_down", "standing_up"}  # fmt: skip
    assert required <= set(ACTION_NAMES)
    assert len(ACTION_NAMES) >= 10


@pytest.mark.parametrize("action", ACTION_NAMES)
def test_every_action_renders_uint8_frames_of_the_requested_size(action):
    frames = generate_clip(action, 3, size=(40, 56), num_frames=5, fps=12.0)
    assert frames.shape == (5, 40, 56, 3)
    assert frames.dtype == np.uint8
    assert frames.std() > 5  # not a blank frame


def test_same_seed_gives_identical_frames_and_another_seed_differs():
    first = generate_clip("running", 7, **SMALL)
    again = generate_clip("running", 7, **SMALL)
    other = generate_clip("running", 8, **SMALL)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 5



def test_clips_at_the_112_px_models_size_are_deterministic_and_full_size():
    # the 112-px demo models read 128 px clips of 24 frames (configs/synthetic112_*.yaml)
    first = generate_clip("clapping", (1401, 0, 3), size=128, num_frames=24)
    again = generate_clip("clapping", (1401, 0, 3), size=128, num_frames=24)
    assert first.shape == (24, 128, 128, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)


def test_at_128_px_every_moving_action_moves_a_joint_by_a_28x28_feature_cell_per_model_step():
    # A 112 px crop of a 128 px frame becomes 28x28 feature maps (4 px per cell); the models read every 2nd
    # frame. Each action but raise_hand (an arm held still) must move its fastest joint by at least a cell
    # per step on screen, or the flow layers on those maps would have no motion to find.
    cell = 4.0
    for action in ACTION_NAMES:
        speeds = []
        for index in range(3):
            plan = plan_clip(action, (1401, 0, index), size=128, num_frames=24)
            on_screen = _joint_array(plan) - plan.camera[:, None, :]
            steps = np.linalg.norm(on_screen[2:] - on_screen[:-2], axis=-1)  # (T - 2, joints), pixels
            speeds.append(steps.max(axis=1).mean())
        if action == "raise_hand":
            assert max(speeds) < cell, (action, speeds)
        else:
            assert min(speeds) >= cell, (action, speeds)

def test_standing_up_is_sitting_down_played_backwards():
    down = plan_clip("sitting_down", 11, size=64, num_frames=20)
    up = plan_clip("standing_up", 11, size=64, num_frames=20)
    np.testing.assert_allclose(_joint_array(up), _joint_array(down)[::-1], atol=1e-6)
    # and the clip really moves: the pelvis drops by a sizeable part of the body height
    pelvis_y = down.joints["pelvis"][:, 1]
    assert pelvis_y.max() - pelvis_y.min() > 0.05 * down.scale


def test_raise_hand_holds_the_waving_arm_still_at_the_same_pose():
    wave = plan_clip("waving", 5, size=64, num_frames=16)
    raised = plan_clip("raise_hand", 5, size=64, num_frames=16)
    # same seed: the first frame is the same pose (placement in the frame may differ by a fraction of a pixel)
    pose = lambda plan: _joint_array(plan)[0] - plan.joints["pelvis"][0]  # noqa: E731
    np.testing.assert_allclose(pose(raised), pose(wave), atol=1e-6)
    def hand_path(plan) -> float:  # how far the hand moves about the elbow, in body heights
        return np.ptp(plan.joints["r_hand"] - plan.joints["r_elbow"], axis=0).max() / plan.scale

    assert hand_path(wave) > 3 * hand_path(raised)


def test_raise_hand_poses_match_waving_poses_in_distribution():
    """A single random frame of either class shows the forearm at the same angles."""

    def forearm_angles(action: str) -> np.ndarray:
        angles = []
        for seed in range(60):
            plan = plan_clip(action, (42, seed), size=32, num_frames=8)
            forearm = plan.joints["r_hand"] - plan.joints["r_elbow"]
            frame = seed % 8
            angles.append(np.degrees(np.arctan2(abs(forearm[frame, 0]), -forearm[frame, 1])))
        return np.array(angles)

    wave, raised = forearm_angles("waving"), forearm_angles("raise_hand")
    assert abs(wave.mean() - raised.mean()) < 6
    assert abs(wave.std() - raised.std()) < 6


def test_look_and_background_do_not_depend_on_the_action():
    plans = [plan_clip(action, 21, **SMALL) for action in ACTION_NAMES]
    for plan in plans[1:]:
        np.testing.assert_array_equal(plan.background, plans[0].background)
        assert plan.appearance.body == plans[0].appearance.body
        np.testing.assert_array_equal(plan.appearance.shirt, plans[0].appearance.shirt)
        assert plan.scale == plans[0].scale


def test_appearance_statistics_are_the_same_for_every_class():
    """Over independent seeds per class, mean frame colour and figure size agree across classes."""
    per_class_colour, per_class_scale = [], []
    for label, action in enumerate(ACTION_NAMES):
        colours, scales = [], []
        for index in range(40):
            seed = (1234, label, index)  # independent draws per class
            colours.append(generate_clip(action, seed, size=24, num_frames=3).reshape(-1, 3).mean(axis=0))
            scales.append(plan_clip(action, seed, size=24, num_frames=3).scale / 24)
        per_class_colour.append(np.mean(colours, axis=0))
        per_class_scale.append(np.mean(scales))
        colour_sd, scale_sd = np.std(colours, axis=0), np.std(scales)
    colour_means, scale_means = np.array(per_class_colour), np.array(per_class_scale)
    # 4.5 standard errors of a 40-clip mean: a class-dependent look would show up, chance rarely does
    assert np.all(np.abs(colour_means - colour_means.mean(axis=0)) < 4.5 * colour_sd / np.sqrt(40))
    assert np.all(np.abs(scale_means - scale_means.mean()) < 4.5 * scale_sd / np.sqrt(40))
    assert 0.55 <= scale_means.min() and scale_means.max() <= 0.75


@pytest.mark.parametrize("action", ["waving", "clapping", "kicking", "walking"])  # no jumps or bounces
def test_standing_figure_fills_most_of_the_frame_height_and_stands_on_the_ground(action):
    plan = plan_clip(action, 2, size=64, num_frames=8)
    points = _joint_array(plan)
    height = (points[..., 1].max(axis=1) - points[..., 1].min(axis=1)) / 64
    assert np.all((height > 0.45) & (height < 0.95))
    ground = points[..., 1].max(axis=1)
    np.testing.assert_allclose(ground, ground[0], atol=1e-6)  # lowest point on the ground line


def test_walking_moves_forward_without_the_planted_foot_sliding():
    plan = plan_clip("walking", 4, size=64, num_frames=30)
    points = _joint_array(plan)
    names = sorted(plan.joints)
    contact = points[..., 1].argmax(axis=1)
    slides = [abs(points[t + 1, contact[t], 0] - points[t, contact[t], 0]) for t in range(len(points) - 1)]
    assert max(slides) < 1e-6
    travel = abs(plan.joints["pelvis"][-1, 0] - plan.joints["pelvis"][0, 0])
    assert travel > 0.3 * plan.scale  # two seconds of walking covers ground
    assert {names[c] for c in contact} <= {"l_ankle", "l_toe", "r_ankle", "r_toe"}


def test_hand_stand_ends_upside_down_on_the_hands():
    plan = plan_clip("hand_stand", 0, size=64, num_frames=60, fps=15.0)  # 4 s covers the whole movement
    head, feet = plan.joints["head"][-1, 1], plan.joints["l_ankle"][-1, 1]
    assert head > feet  # head below the feet (y points down)


def test_two_link_ik_reaches_reachable_targets():
    targets = np.array([[0.1, 0.2], [-0.15, 0.05], [0.2, -0.1]])
    for bend in (1.0, -1.0):
        root, joint = two_link_ik(targets, 0.17, 0.15, bend=bend)
        elbow = 0.17 * np.stack([np.sin(root), np.cos(root)], -1)
        ends = elbow + 0.15 * np.stack([np.sin(root + joint), np.cos(root + joint)], -1)
        np.testing.assert_allclose(ends, targets, atol=1e-9)


def test_forward_kinematics_rejects_bad_input():
    pose = {name: np.zeros(3) for name in ("torso", "l_shoulder")}
    with pytest.raises(ValueError, match="lacks the angles"):
        forward_kinematics(pose, Body(), "front")
    with pytest.raises(ValueError, match="view must be one of"):
        forward_kinematics(pose, Body(), "top")


def test_bad_settings_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown action 'dancing'"):
        generate_clip("dancing", 0)
    with pytest.raises(ValueError, match="at least 16x16"):
        generate_clip("waving", 0, size=8)
    with pytest.raises(ValueError, match="at least 2 frames"):
        generate_clip("waving", 0, num_frames=1)
    with pytest.raises(ValueError, match="clips_per_class"):
        SynthSettings(clips_per_class=0, test_clips_per_class=1)


def test_backgrounds_from_missing_or_wrong_paths_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        BackgroundPool.from_paths([tmp_path / "nowhere"])
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="notes.txt is not a video or image"):
        BackgroundPool.from_paths([tmp_path / "notes.txt"])
    with pytest.raises(FileNotFoundError, match="holds no video or image"):
        BackgroundPool.from_paths([tmp_path])


def test_real_backgrounds_are_cut_from_the_given_video(tmp_path):
    from repflow.video import write_video

    stripes = np.zeros((4, 48, 64, 3), dtype=np.uint8)
    stripes[:, :, ::8] = (255, 0, 0)  # strong red vertical lines no procedural background has
    write_video(tmp_path / "bg.mp4", stripes, fps=10)
    pool = BackgroundPool.from_paths([tmp_path], frames_per_video=2, short_side=48)
    assert len(pool.stills) == 2 and pool.sources == [str(tmp_path / "bg.mp4")] * 2
    first = generate_clip("walking", 3, **SMALL, backgrounds=pool, real_background_fraction=1.0)
    again = generate_clip("walking", 3, **SMALL, backgrounds=pool, real_background_fraction=1.0)
    np.testing.assert_array_equal(first, again)
    red = first[..., 0].astype(int) - first[..., 1].astype(int)
    assert (red > 60).mean() > 0.02  # the red lines show through


def _read_list(path: Path) -> list[tuple[str, int]]:
    rows = []
    for line in path.read_text().splitlines():
        relative, label = line.rsplit(" ", 1)
        rows.append((relative, int(label)))
    return rows


def test_synth_command_writes_clips_and_list_files(tmp_path, capsys):
    from repflow.cli import main
    from repflow.data.sources import from_list_file
    from repflow.video import read_frames

    root = tmp_path / "set"
    code = main(["synth", "--out", str(root), "--clips-per-class", "2", "--test-clips-per-class", "1",
                 "--size", "32", "--frames", "4", "--seed", "5"])  # fmt: skip
    assert code == 0
    assert (root / "classes.txt").read_text().split() == list(ACTION_NAMES)
    train, test = _read_list(root / "train.txt"), _read_list(root / "test.txt")
    assert len(train) == 2 * len(ACTION_NAMES) and len(test) == len(ACTION_NAMES)
    assert not {path for path, _ in train} & {path for path, _ in test}
    for relative, label in train + test:
        assert (root / relative).is_file()
        assert relative.split("/")[1] == ACTION_NAMES[label]
    # the dataset code reads the list with our class names
    listed = from_list_file(root / "train.txt")
    assert tuple(listed.classes) == ACTION_NAMES and len(listed) == len(train)
    frames = read_frames(root / train[0][0])
    assert frames.shape == (4, 32, 32, 3)
    expected = generate_clip(ACTION_NAMES[train[0][1]], (5, 0, 0), size=32, num_frames=4)
    assert np.abs(frames.astype(int) - expected.astype(int)).mean() < 6  # lossy H.264, same picture
    assert "ms per clip" in capsys.readouterr().out


def test_synth_command_reports_bad_arguments(tmp_path, capsys):
    from repflow.cli import main

    assert main(["synth", "--out", str(tmp_path), "--clips-per-class", "0"]) == 2
    assert "clips_per_class must be at least 1" in capsys.readouterr().err
    missing = str(tmp_path / "nope")
    assert main(["synth", "--out", str(tmp_path), "--clips-per-class", "1", "--backgrounds", missing]) == 2
    assert "nope does not exist" in capsys.readouterr().err


def test_the_same_settings_write_the_same_files_with_any_number_of_workers(tmp_path):
    settings = SynthSettings(clips_per_class=1, test_clips_per_class=1, size=64, num_frames=16)
    write_dataset(tmp_path / "one", settings, workers=1)
    write_dataset(tmp_path / "two", settings, workers=2)
    write_dataset(tmp_path / "again", settings, workers=1)
    for split in ("train.txt", "test.txt"):
        for line in (tmp_path / "one" / split).read_text().splitlines():
            relative = line.split()[0]
            one = (tmp_path / "one" / relative).read_bytes()
            assert one == (tmp_path / "two" / relative).read_bytes() == (tmp_path / "again" / relative).read_bytes(), (
                relative
            )


def test_train_and_test_clips_use_different_seeds(tmp_path):
    settings = SynthSettings(clips_per_class=1, test_clips_per_class=1, size=16, num_frames=2)
    write_dataset(tmp_path, settings)
    from repflow.video import read_frames

    train = read_frames(tmp_path / "train/waving/waving_00000.mp4")
    test = read_frames(tmp_path / "test/waving/waving_00000.mp4")
    assert np.abs(train.astype(int) - test.astype(int)).mean() > 5
