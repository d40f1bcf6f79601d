"""The synthetic actions: each one maps clip times to a pose sequence, with random speed, phase and amplitude.

Angles are written in degrees (converted once, in :func:`action_motion`) with the conventions of
:mod:`repflow.data.synthetic.skeleton`. Periodic actions draw a frequency, a phase and an amplitude;
one-off actions (hand-stand, sitting down) draw a duration and where the clip's window falls in it.

Pairs that no single frame can tell apart:

* ``standing_up`` is ``sitting_down`` played backwards (same poses, reversed time);
* ``raise_hand`` holds the ``waving`` arm still at a random point of the wave, with a slow sway, so
  a still frame of either comes from the same distribution of poses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from repflow.data.synthetic.skeleton import POSE_ANGLES, Body, Pose, two_link_ik

# A motion function: (times in seconds, body, rng) -> (pose in degrees, lift in body heights).
MotionFn = Callable[[np.ndarray, Body, np.random.Generator], tuple[Pose, np.ndarray]]


@dataclass(frozen=True)
class Motion:
    """One clip's motion: pose angles in radians (T,), lift off the ground (T,), and how to ground it."""

    pose: Pose
    lift: np.ndarray
    view: str
    plant_contact: bool  # keep the lowest body point fixed on the ground (no foot sliding)


@dataclass(frozen=True)
class Action:
    """A named motion pattern; ``reverse_of`` names an action this one plays backwards."""

    name: str
    view: str
    motion: MotionFn | None = None
    reverse_of: str | None = None
    plant_contact: bool = True
    on_stool: bool = False  # the stool of the scene stands under the figure's seated pelvis


def _stance(times: np.ndarray, **angles: float | np.ndarray) -> Pose:
    """A pose with every angle 0 except those given, broadcast over ``times``."""
    pose = {name: np.zeros_like(times) for name in POSE_ANGLES}
    for name, value in angles.items():
        pose[name] = pose[name] + value
    return pose


def _cycle(times: np.ndarray, rng: np.random.Generator, hz: tuple[float, float]) -> np.ndarray:
    """Phase 2*pi*f*t + phi0 (T,) with a random frequency in ``hz`` and a random start phase."""
    return 2 * np.pi * rng.uniform(*hz) * times + rng.uniform(0, 2 * np.pi)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _progress(times: np.ndarray, rng: np.random.Generator, seconds: tuple[float, float]) -> np.ndarray:
    """Progress in [0, 1] (T,) of a one-off movement lasting ``seconds``, seen through the clip's window.

    The window start is uniform over a range symmetric under time reversal, so the frames a clip
    shows are distributed the same way forwards and backwards.
    """
    duration = rng.uniform(*seconds)
    clip_length = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    first, last = -0.1 * duration, 1.1 * duration - clip_length
    start = rng.uniform(min(first, last), max(first, last))
    return np.clip((times - times[0] + start) / duration, 0.0, 1.0)


def _keyframes(progress: np.ndarray, keys: list[tuple[float, dict[str, float]]]) -> Pose:
    """Interpolate angle keyframes ``[(progress, {angle: degrees})]`` with eased (cosine) segments."""
    stops = np.array([stop for stop, _ in keys])
    segment = np.clip(np.searchsorted(stops, progress, side="right") - 1, 0, len(keys) - 2)
    local = (progress - stops[segment]) / (stops[segment + 1] - stops[segment])
    eased = (1 - np.cos(np.pi * np.clip(local, 0, 1))) / 2
    pose = {}
    for name in POSE_ANGLES:
        values = np.array([angles.get(name, 0.0) for _, angles in keys])
        pose[name] = values[segment] + (values[segment + 1] - values[segment]) * eased
    return pose


def walking(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Side view: legs swing in antiphase, the swinging knee bends, arms swing against the legs."""
    phase = _cycle(times, rng, (0.8, 1.1))
    amp = rng.uniform(0.8, 1.2)
    swing = np.sin(phase)
    pose = _stance(
        times,
        torso=4.0,
        l_hip=6 + 24 * amp * swing, r_hip=6 - 24 * amp * swing,
        l_knee=6 + 40 * amp * _relu(np.cos(phase - 0.4)), r_knee=6 + 40 * amp * _relu(-np.cos(phase - 0.4)),
        l_shoulder=2 - 20 * amp * swing, r_shoulder=2 + 20 * amp * swing,
        l_elbow=15 + 12 * _relu(-swing), r_elbow=15 + 12 * _relu(swing),
    )  # fmt: skip
    return pose, np.zeros_like(times)


def running(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Side view: bigger, faster strides with high knees, bent elbows, a forward lean and a flight bounce."""
    phase = _cycle(times, rng, (1.3, 1.7))
    amp = rng.uniform(0.85, 1.15)
    swing = np.sin(phase)
    pose = _stance(
        times,
        torso=14.0,
        l_hip=28 + 42 * amp * swing, r_hip=28 - 42 * amp * swing,
        l_knee=25 + 80 * amp * _relu(np.cos(phase - 0.6)), r_knee=25 + 80 * amp * _relu(-np.cos(phase - 0.6)),
        l_shoulder=10 - 40 * amp * swing, r_shoulder=10 + 40 * amp * swing,
        l_elbow=np.full_like(times, 90.0), r_elbow=np.full_like(times, 90.0),
    )  # fmt: skip
    return pose, 0.04 * amp * np.abs(np.sin(2 * phase))


def clapping(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Front view: both hands meet in front of the chest and part again (two-link IK on the hand path)."""
    phase = _cycle(times, rng, (1.5, 2.6))
    amp = rng.uniform(0.75, 1.2)
    apart = (1 + np.cos(phase)) / 2  # 0 = hands together
    hand_x = 0.012 + 0.13 * amp * apart - body.shoulder_offset  # outward from the shoulder
    hand_y = np.full_like(times, 0.09 + rng.uniform(-0.03, 0.02))
    shoulder, elbow = two_link_ik(np.stack([hand_x, hand_y], -1), body.upper_arm, body.forearm, bend=-1.0)
    shoulder, elbow = np.degrees(shoulder), np.degrees(elbow)
    pose = _stance(times, l_shoulder=shoulder, r_shoulder=shoulder, l_elbow=elbow, r_elbow=elbow,
                   l_hip=3.0, r_hip=3.0)  # fmt: skip
    return pose, np.zeros_like(times)


def _raised_arm(times: np.ndarray, rng: np.random.Generator, *, waving: bool) -> tuple[Pose, np.ndarray]:
    """The waving arm: raised to the side, forearm swinging about the vertical, or held still."""
    phase = _cycle(times, rng, (1.5, 3.0))
    amp = rng.uniform(0.8, 1.2)
    upper = rng.uniform(115, 140)
    sway = _cycle(times, rng, (0.2, 0.5))
    held = phase[0] + np.zeros_like(times)  # the arm stops at a random point of the wave
    forearm = 178 + 30 * amp * np.sin(phase if waving else held) + 4 * np.sin(sway)
    pose = _stance(
        times,
        torso=2 * np.sin(sway + 1.0),
        r_shoulder=upper + 3 * np.sin(sway), r_elbow=forearm - upper,
        l_shoulder=6.0, l_elbow=8.0, l_hip=3.0, r_hip=3.0,
    )  # fmt: skip
    return pose, np.zeros_like(times)


def waving(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Front view: one arm raised, the forearm swinging about the vertical."""
    return _raised_arm(times, rng, waving=True)


def raise_hand(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Front view: the waving arm held still at a random point of the wave, swaying slowly."""
    return _raised_arm(times, rng, waving=False)


def jumping_jacks(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Front view: arms sweep from the sides to overhead while the legs spread, hopping at each change."""
    phase = _cycle(times, rng, (0.9, 1.4))
    amp = rng.uniform(0.85, 1.1)
    spread = (1 - np.cos(phase)) / 2
    arms = 12 + 150 * amp * spread
    legs = 3 + 17 * amp * spread
    elbows, knees = 10 - 8 * spread, 4 + 8 * np.abs(np.sin(phase))
    pose = _stance(times, l_shoulder=arms, r_shoulder=arms, l_elbow=elbows, r_elbow=elbows,
                   l_hip=legs, r_hip=legs, l_knee=knees, r_knee=knees)  # fmt: skip
    return pose, 0.06 * amp * np.abs(np.sin(phase))


def boxing(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Side view: guard stance, alternating jab (near arm) and cross (far arm), a slight bounce."""
    phase = _cycle(times, rng, (0.8, 1.5))
    reach = rng.uniform(0.85, 1.0)
    jab, cross = _relu(np.sin(phase)) ** 2, _relu(-np.sin(phase)) ** 2
    pose = _stance(
        times,
        torso=10 + 6 * (jab + cross),
        l_shoulder=40 + 50 * reach * jab, l_elbow=120 * (1 - jab) + 8 * jab,
        r_shoulder=50 + 45 * reach * cross, r_elbow=125 * (1 - cross) + 8 * cross,
        l_hip=32.0, l_knee=22.0, r_hip=-5.0, r_knee=14.0,
    )  # fmt: skip
    return pose, 0.012 * (1 - np.cos(2 * phase)) / 2


def kicking(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Side view: the near leg chambers (knee up) and extends forward while the body leans back."""
    phase = _cycle(times, rng, (0.55, 0.9))
    amp = rng.uniform(0.8, 1.1)
    kick = _relu(np.sin(phase)) ** 1.5
    pose = _stance(
        times,
        torso=4 - 22 * kick,
        l_hip=8 + 90 * amp * kick, l_knee=8 + 300 * kick * (1 - kick),
        r_hip=4.0, r_knee=8.0,
        l_shoulder=30 - 10 * kick, l_elbow=100.0, r_shoulder=35 - 45 * kick, r_elbow=95 - 40 * kick,
    )  # fmt: skip
    return pose, np.zeros_like(times)


_HAND_STAND_KEYS = [  # stand, arms up, lunge and tip over onto the hands, kick the legs up
    (0.0, dict(torso=0, l_shoulder=5, r_shoulder=5, l_elbow=10, r_elbow=10)),
    (0.2, dict(torso=3, l_shoulder=170, r_shoulder=170, l_elbow=5, r_elbow=5, l_hip=25, l_knee=15, r_hip=-8)),
    (0.45, dict(torso=112, l_shoulder=118, r_shoulder=118, l_hip=140, l_knee=75, r_hip=70)),
    (0.72, dict(torso=158, l_shoulder=160, r_shoulder=160, l_hip=80, l_knee=50, r_hip=-12)),
    (1.0, dict(torso=180, l_shoulder=180, r_shoulder=180, l_hip=5, r_hip=-5, l_knee=5)),
]


def hand_stand(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Side view: stand, raise the arms, tip forward onto the hands and kick the legs up."""
    pose = _keyframes(_progress(times, rng, (1.6, 2.4)), _HAND_STAND_KEYS)
    return pose, np.zeros_like(times)


_SIT_DOWN_KEYS = [  # stand, lean forward while bending the knees, sit upright on a stool
    (0.0, dict(torso=2, l_shoulder=5, r_shoulder=5, l_elbow=10, r_elbow=10)),
    (0.5, dict(torso=38, l_shoulder=75, r_shoulder=80, l_elbow=15, r_elbow=15,
               l_hip=85, r_hip=85, l_knee=55, r_knee=55)),
    (1.0, dict(torso=8, l_shoulder=25, r_shoulder=25, l_elbow=50, r_elbow=50,
               l_hip=98, r_hip=98, l_knee=90, r_knee=90)),
]  # fmt: skip


def sitting_down(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
    """Side view: lean forward while bending the knees and sit upright on a stool."""
    pose = _keyframes(_progress(times, rng, (1.0, 1.8)), _SIT_DOWN_KEYS)
    return pose, np.zeros_like(times)


ACTIONS: tuple[Action, ...] = (
    Action("clapping", "front", clapping),
    Action("running", "side", running),
    Action("walking", "side", walking),
    Action("waving", "front", waving),
    Action("raise_hand", "front", raise_hand),
    Action("jumping_jacks", "front", jumping_jacks, plant_contact=False),
    Action("hand_stand", "side", hand_stand),
    Action("boxing", "side", boxing),
    Action("kicking", "side", kicking),
    Action("sitting_down", "side", sitting_down, on_stool=True),
    Action("standing_up", "side", reverse_of="sitting_down", on_stool=True),
)
ACTION_NAMES: tuple[str, ...] = tuple(action.name for action in ACTIONS)
_BY_NAME = {action.name: action for action in ACTIONS}


def get_action(name: str) -> Action:
    """The action called ``name``; raises ValueError listing the known names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}; known actions: {', '.join(ACTION_NAMES)}") from None


def seated_pose() -> Pose:
    """The pose (one frame, radians) of a figure sitting on a stool: the end of ``sitting_down``."""
    return {name: np.radians(values) for name, values in _keyframes(np.ones(1), _SIT_DOWN_KEYS).items()}


def action_motion(name: str | Action, times: np.ndarray, body: Body, rng: np.random.Generator) -> Motion:
    """The motion of action ``name`` (a name or an :class:`Action`) at ``times`` (seconds, increasing), with its
    random draws from ``rng``."""
    action = name if isinstance(name, Action) else get_action(name)
    source = get_action(action.reverse_of) if action.reverse_of else action
    pose_degrees, lift = source.motion(times, body, rng)
    pose = {name: np.radians(np.asarray(values, dtype=np.float64)) for name, values in pose_degrees.items()}
    if action.reverse_of:
        pose = {name: values[::-1].copy() for name, values in pose.items()}
        lift = lift[::-1].copy()
    lift = np.asarray(lift, dtype=np.float64)
    return Motion(pose=pose, lift=lift, view=source.view, plant_contact=source.plant_contact)
