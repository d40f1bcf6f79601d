"""The motion-only action set (``repflow synth --motion-only``): classes no single frame can tell apart.

Every class is the same side-view figure with two limbs that can move, the near arm and the near leg.
Each traces a closed loop (shoulder and elbow, or hip and knee, a quarter cycle apart), so its pose
is a function of one phase angle. The classes differ only in how those phases change over time:

=========================  ======  =========  =========  =================================
class                      limb    direction  cycles/s   the other limb
=========================  ======  =========  =========  =================================
arm_forward_slow           arm     forward    0.3-0.5    held still at a random phase
arm_backward_slow          arm     backward   0.3-0.5    held still at a random phase
arm_forward_fast           arm     forward    1.1-1.5    held still at a random phase
arm_backward_fast          arm     backward   1.1-1.5    held still at a random phase
leg_forward_slow           leg     forward    0.3-0.5    held still at a random phase
leg_backward_slow          leg     backward   0.3-0.5    held still at a random phase
leg_forward_fast           leg     forward    1.1-1.5    held still at a random phase
leg_backward_fast          leg     backward   1.1-1.5    held still at a random phase
=========================  ======  =========  =========  =================================

"Forward" turns the loop one way relative to where the figure faces (it is mirrored with the figure),
"backward" is the same clip played in reverse. Both phases start uniformly at random and are
independent, so in every frame of every class the pair (arm phase, leg phase) is uniform on the
torus: any single frame has the same pose distribution whatever the class. Actor, clothes,
background, camera and noise come from their own random streams (see
:mod:`repflow.data.synthetic.generator`), as in the main set. With the same seed, a backward clip's
poses are exactly the forward clip's poses in reverse order.
"""

from __future__ import annotations

import numpy as np

from repflow.data.synthetic.actions import Action, MotionFn, _stance
from repflow.data.synthetic.skeleton import Body, Pose

SLOW_HZ, FAST_HZ = (0.3, 0.5), (1.1, 1.5)
LIMBS = ("arm", "leg")


def _loop(phase: np.ndarray, amp: float, limb: str) -> dict[str, np.ndarray]:
    """The limb's two angles (degrees) at ``phase``, a quarter cycle apart, so the hand or foot traces a loop."""
    if limb == "arm":  # the hand circles in front of the body
        return {"l_shoulder": 55 + 45 * amp * np.sin(phase), "l_elbow": 55 + 35 * amp * np.cos(phase)}
    # the foot pedals: the knee lifts forward while the shin swings under it
    return {"l_hip": 40 + 32 * amp * np.sin(phase), "l_knee": 50 + 38 * amp * np.cos(phase)}


def limb_loop(limb: str, forward: bool, hz: tuple[float, float]) -> MotionFn:
    """A motion function: ``limb`` turns its loop at a frequency drawn from ``hz``; the other limb holds still."""

    def motion(times: np.ndarray, body: Body, rng: np.random.Generator) -> tuple[Pose, np.ndarray]:
        still = "leg" if limb == "arm" else "arm"
        moving_phase = 2 * np.pi * rng.uniform(*hz) * times + rng.uniform(0, 2 * np.pi)
        held_phase = np.full_like(times, rng.uniform(0, 2 * np.pi))
        amps = {name: rng.uniform(0.85, 1.15) for name in LIMBS}
        angles = {**_loop(moving_phase, amps[limb], limb), **_loop(held_phase, amps[still], still)}
        pose = _stance(times, torso=5.0, r_shoulder=10.0, r_elbow=20.0, r_hip=2.0, r_knee=6.0, **angles)
        if not forward:  # the same poses in reverse order
            pose = {name: values[::-1].copy() for name, values in pose.items()}
        return pose, np.zeros_like(times)

    return motion


MOTION_ONLY_ACTIONS: tuple[Action, ...] = tuple(
    Action(f"{limb}_{'forward' if forward else 'backward'}_{speed}", "side",
           limb_loop(limb, forward, SLOW_HZ if speed == "slow" else FAST_HZ), plant_contact=False)
    for limb in LIMBS for speed in ("slow", "fast") for forward in (True, False)
)  # fmt: skip
MOTION_ONLY_NAMES: tuple[str, ...] = tuple(action.name for action in MOTION_ONLY_ACTIONS)
