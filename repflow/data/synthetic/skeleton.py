"""A 2D articulated human body: proportions, joint angles and forward kinematics.

Units are body heights (a standing figure is about 1 tall), y points down, angles are radians.
A limb angle is measured from the torso's "down" direction; positive means forward (side view) or
outward, away from the body's mid-line (front view). Elbows flex forward/inward with positive angles,
knees flex backward with positive angles. In the side view the ``l_`` limbs are nearest the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Names of the angles a pose holds, each an array over time (T,).
POSE_ANGLES = (
    "torso",
    "l_shoulder", "l_elbow", "r_shoulder", "r_elbow",
    "l_hip", "l_knee", "r_hip", "r_knee",
)  # fmt: skip

VIEWS = ("front", "side")

Pose = dict[str, np.ndarray]
Joints = dict[str, np.ndarray]


@dataclass(frozen=True)
class Body:
    """Segment lengths and half-widths of one figure, in body heights."""

    torso: float = 0.30
    neck: float = 0.05
    head_radius: float = 0.068
    upper_arm: float = 0.17
    forearm: float = 0.15
    hand_radius: float = 0.024
    thigh: float = 0.245
    shin: float = 0.235
    foot: float = 0.075
    shoulder_offset: float = 0.085
    hip_offset: float = 0.05
    build: float = 1.0  # multiplies every limb and torso width

    def radius(self, part: str, view: str) -> float:
        """Half-width of a body part (``torso_top``, ``torso_bottom``, ``upper_arm``, ...) in body heights."""
        radii = {
            "torso_top": 0.085 if view == "front" else 0.06,
            "torso_bottom": 0.07 if view == "front" else 0.055,
            "neck": 0.025,
            "upper_arm": 0.03,
            "forearm": 0.024,
            "thigh": 0.045,
            "shin": 0.033,
            "foot": 0.022,
        }
        return radii[part] * self.build


def direction(angle: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 2) for angles measured from straight down, positive towards +x."""
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1)


def forward_kinematics(pose: Pose, body: Body, view: str) -> Joints:
    """Joint positions (T, 2) for every frame of ``pose``, with the pelvis at the origin.

    Returns pelvis, neck, head (centre), and for each side ``l_``/``r_``: shoulder, elbow, hand,
    hip, knee, ankle, toe.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    missing = [name for name in POSE_ANGLES if name not in pose]
    if missing:
        raise ValueError(f"pose lacks the angles {missing}")
    tau = np.asarray(pose["torso"], dtype=np.float64)
    down = direction(-tau)
    lateral = direction(np.pi / 2 - tau)
    pelvis = np.zeros_like(down)
    neck = pelvis - body.torso * down
    joints: Joints = {
        "pelvis": pelvis,
        "neck": neck,
        "head": neck - (body.neck + body.head_radius) * down,
    }
    lateral_scale = 1.0 if view == "front" else 0.2
    toe_turn = np.pi / 2 if view == "side" else np.pi / 6
    for side, sign in (("l", -1.0), ("r", 1.0)):
        mirror = sign if view == "front" else 1.0
        shoulder = neck + 0.03 * down + sign * body.shoulder_offset * lateral_scale * lateral
        upper_angle = mirror * pose[f"{side}_shoulder"] - tau
        elbow = shoulder + body.upper_arm * direction(upper_angle)
        hand = elbow + body.forearm * direction(upper_angle + mirror * pose[f"{side}_elbow"])
        hip = pelvis + sign * body.hip_offset * lateral_scale * lateral
        thigh_angle = mirror * pose[f"{side}_hip"] - tau
        knee = hip + body.thigh * direction(thigh_angle)
        shin_angle = thigh_angle - mirror * pose[f"{side}_knee"]
        ankle = knee + body.shin * direction(shin_angle)
        foot_length = body.foot if view == "side" else body.foot * 0.5
        toe = ankle + foot_length * direction(shin_angle + mirror * toe_turn)
        joints.update({
            f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_hand": hand,
            f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle, f"{side}_toe": toe,
        })  # fmt: skip
    return joints


def two_link_ik(target: np.ndarray, upper: float, lower: float, *, bend: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Angles (shoulder, elbow) that put the end of a two-segment limb at ``target`` (T, 2).

    ``target`` is relative to the limb's root, in the limb-angle frame (x = forward/outward, y = down).
    ``bend`` = +1 bends the joint towards positive angles, -1 the other way. Unreachable targets are
    clamped to the nearest reachable distance.
    """
    distance = np.linalg.norm(target, axis=-1)
    distance = np.clip(distance, abs(upper - lower) + 1e-6, upper + lower - 1e-6)
    towards = np.arctan2(target[..., 0], target[..., 1])
    cos_root = (upper**2 + distance**2 - lower**2) / (2 * upper * distance)
    cos_joint = (upper**2 + lower**2 - distance**2) / (2 * upper * lower)
    root = towards - bend * np.arccos(np.clip(cos_root, -1, 1))
    joint = bend * (np.pi - np.arccos(np.clip(cos_joint, -1, 1)))
    return root, joint
