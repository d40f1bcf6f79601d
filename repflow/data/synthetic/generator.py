"""Plan and render one synthetic action clip: figure motion, placement, camera, background and sensor noise.

A clip is fully determined by (action, seed, size, frames, fps, background pool). The seed drives
five independent random streams: scene (framing), background, look, motion and camera/noise. None of
them depends on the action, so with the same seed two actions get the same actor, background,
camera shake and noise; only the motion differs. ``standing_up`` with a seed is exactly
``sitting_down`` with that seed played backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from repflow.data.synthetic.actions import ACTIONS, Action, action_motion, seated_pose
from repflow.data.synthetic.appearance import Appearance, sample_appearance
from repflow.data.synthetic.backgrounds import BackgroundPool, procedural_background
from repflow.data.synthetic.motion_only import MOTION_ONLY_ACTIONS
from repflow.data.synthetic.render import draw_figure, draw_shadow, draw_stool
from repflow.data.synthetic.skeleton import Body, Joints, forward_kinematics

Seed = int | Sequence[int]


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to render a clip. Joint positions are world pixels (T, 2), before camera motion."""

    action: str
    label: int
    view: str
    facing: float  # +1 faces right, -1 left
    scale: float  # pixels per body height
    joints: Joints
    camera: np.ndarray  # (T, 2) camera offset in pixels, subtracted from world positions
    ground: float  # world row of the ground line
    stool: np.ndarray  # (x, y) world pixels of the stool's seat top
    stool_half_width: float
    appearance: Appearance
    background: np.ndarray  # uint8 (H + 2 * margin, 2 * W, 3), the frame is cut from its middle
    margin: int
    noise_sigma: float
    noise_seed: int
    height: int
    width: int
    fps: float


def class_table(motion_only: bool = False) -> tuple[Action, ...]:
    """The actions of a set, in label order: the main set, or the motion-only set (``motion_only``)."""
    return MOTION_ONLY_ACTIONS if motion_only else ACTIONS


def _check_settings(size: int | tuple[int, int], num_frames: int, fps: float) -> tuple[int, int]:
    height, width = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if min(height, width) < 16:
        raise ValueError(f"clip size must be at least 16x16 pixels, got {height}x{width}")
    if num_frames < 2:
        raise ValueError(f"a clip needs at least 2 frames, got {num_frames}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return int(height), int(width)


def grounded_pose(joints: Joints, lift: np.ndarray, *, plant_contact: bool) -> Joints:
    """Move body-frame ``joints`` so the lowest point touches the ground (y = 0) less ``lift``.

    With ``plant_contact`` the horizontal position follows the body point on the ground from frame
    to frame (a planted foot or hand does not slide), so walking and running carry the body forward.
    """
    names = list(joints)
    points = np.stack([joints[name] for name in names], axis=1)  # (T, J, 2)
    lowest = points[..., 1].max(axis=1)
    shift_y = -lowest - lift
    shift_x = np.zeros(len(points))
    if plant_contact:
        contact = points[..., 1].argmax(axis=1)
        frames = np.arange(1, len(points))
        planted = contact[:-1]
        step = points[frames - 1, planted, 0] - points[frames, planted, 0]
        shift_x[1:] = np.cumsum(step)
    shift = np.stack([shift_x, shift_y], axis=-1)
    return {name: joints[name] + shift for name in names}


def stool_position(action: Action, grounded: Joints, body: Body, rng: np.random.Generator) -> np.ndarray:
    """Where the scene's stool seat is (x, y; body heights, grounded frame): under the seated pelvis for
    actions on the stool, beside the figure for the others (so every scene has one)."""
    seated = grounded_pose(forward_kinematics(seated_pose(), body, "side"), np.zeros(1), plant_contact=False)
    seat_y = seated["pelvis"][0, 1] + body.radius("thigh", "side")
    side, gap = (1.0 if rng.uniform() < 0.5 else -1.0), rng.uniform(0.45, 0.75)
    if action.on_stool:  # the feet stay planted, so the seat is a fixed step from them
        x = grounded["l_ankle"][:, 0].mean() + seated["pelvis"][0, 0] - seated["l_ankle"][0, 0]
    else:
        x = grounded["pelvis"][0, 0] + side * gap
    return np.array([x, seat_y])


def plan_clip(
    action: str,
    seed: Seed,
    *,
    size: int | tuple[int, int] = 64,
    num_frames: int = 16,
    fps: float = 15.0,
    backgrounds: BackgroundPool | None = None,
    real_background_fraction: float = 0.5,
    motion_only: bool = False,
) -> ClipPlan:
    """Draw a clip's random choices and compute its figure's joint positions in every frame.

    Args:
        action: one of :data:`ACTION_NAMES`, or of the motion-only set's names with ``motion_only``.
        seed: an int or a sequence of ints (e.g. ``(base_seed, split, index)``).
        size: frame size in pixels, an int for square frames or (height, width).
        num_frames: frames in the clip; ``fps`` sets how fast the motion plays.
        backgrounds: stills to cut backgrounds from, used for a ``real_background_fraction`` of the
            clips (procedural textures otherwise, and always when None).
    """
    table = class_table(motion_only)
    names = [item.name for item in table]
    if action not in names:
        raise ValueError(f"unknown action {action!r}; known actions: {', '.join(names)}")
    label = names.index(action)
    height, width = _check_settings(size, num_frames, fps)
    scene_rng, background_rng, look_rng, motion_rng, camera_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(5)
    )

    # Framing: how big the figure is, where its ground line and horizon are, which way it faces.
    scale = scene_rng.uniform(0.6, 0.78) * height
    ground = scene_rng.uniform(0.86, 0.96) * height
    horizon = ground - scene_rng.uniform(0.05, 0.35) * height
    x_fraction = scene_rng.uniform()
    facing = 1.0 if scene_rng.uniform() < 0.5 else -1.0

    margin = int(np.ceil(0.1 * max(height, width)))
    bg_height, bg_width = height + 2 * margin, 2 * width
    use_real = backgrounds is not None and background_rng.uniform() < real_background_fraction
    if use_real:
        background = backgrounds.sample(background_rng, bg_height, bg_width)
    else:
        background = procedural_background(background_rng, bg_height, bg_width, horizon + margin)
    look = sample_appearance(look_rng, float(background.mean()))

    times = np.arange(num_frames) / fps
    motion = action_motion(table[label], times, look.body, motion_rng)
    body_joints = forward_kinematics(motion.pose, look.body, motion.view)
    grounded = grounded_pose(body_joints, motion.lift, plant_contact=motion.plant_contact)
    stool = stool_position(table[label], grounded, look.body, scene_rng)

    # The camera partly follows the figure's travel, drifts slowly and shakes a little.
    travel = facing * grounded["pelvis"][:, 0] * scale
    travel -= travel.mean()
    follow = camera_rng.uniform(0.5, 1.0)
    drift = camera_rng.uniform(-0.04, 0.04) * width * times
    shake = np.zeros((num_frames, 2))
    for axis in range(2):
        for _ in range(2):
            amplitude, hz = camera_rng.uniform(0.0, 0.008) * width, camera_rng.uniform(0.5, 3.0)
            shake[:, axis] += amplitude * np.sin(2 * np.pi * hz * times + camera_rng.uniform(0, 2 * np.pi))
    camera = shake + np.stack([follow * travel + drift, np.zeros(num_frames)], axis=-1)

    # Place the figure so its on-screen extent (without drift and shake) fits the frame when it can.
    xs = np.stack([facing * joint[:, 0] * scale for joint in grounded.values()])
    on_screen = xs - follow * travel
    low, high = float(on_screen.min()), float(on_screen.max())
    half, pad = (high - low) / 2, 0.04 * width + 0.08 * scale  # joints are centres: leave room for the body's width
    lo_centre, hi_centre = half + pad, width - half - pad
    centre = lo_centre + x_fraction * (hi_centre - lo_centre) if lo_centre < hi_centre else width / 2
    offset = np.array([centre - (low + high) / 2, ground])
    to_world = np.array([facing * scale, scale])
    joints = {name: joint * to_world + offset for name, joint in grounded.items()}

    return ClipPlan(
        action=action,
        label=label,
        view=motion.view,
        facing=facing,
        scale=scale,
        joints=joints,
        camera=camera,
        ground=float(ground),
        stool=stool * to_world + offset,
        stool_half_width=0.12 * scale,
        appearance=look,
        background=np.round(background * 255).astype(np.uint8),
        margin=margin,
        noise_sigma=float(camera_rng.uniform(1.0, 4.0)),
        noise_seed=int(camera_rng.integers(2**31)),
        height=height,
        width=width,
        fps=float(fps),
    )


def render_clip(plan: ClipPlan) -> np.ndarray:
    """Render a planned clip to uint8 RGB frames (T, H, W, 3)."""
    num_frames = len(plan.camera)
    frames = np.empty((num_frames, plan.height, plan.width, 3), dtype=np.uint8)
    origin_x = (plan.background.shape[1] - plan.width) / 2
    for t in range(num_frames):
        cam_x, cam_y = plan.camera[t]
        to_background = np.array([[1.0, 0.0, origin_x + cam_x], [0.0, 1.0, plan.margin + cam_y]])
        frame = cv2.warpAffine(
            plan.background, to_background, (plan.width, plan.height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101,
        )  # fmt: skip
        joints = {name: joint[t] - plan.camera[t] for name, joint in plan.joints.items()}
        ground = plan.ground - cam_y
        draw_shadow(frame, np.array([joints["pelvis"][0], ground]), (0.2 * plan.scale, 0.03 * plan.scale))
        draw_stool(frame, plan.stool - plan.camera[t], plan.stool_half_width, ground, plan.appearance.stool)
        draw_figure(frame, joints, plan.appearance, view=plan.view, scale=plan.scale, facing=plan.facing)
        frames[t] = frame
    noise = np.random.default_rng(plan.noise_seed).standard_normal(frames.shape, dtype=np.float32)
    noisy = frames.astype(np.float32) + plan.noise_sigma * noise
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def generate_clip(
    action: str,
    seed: Seed,
    *,
    size: int | tuple[int, int] = 64,
    num_frames: int = 16,
    fps: float = 15.0,
    backgrounds: BackgroundPool | None = None,
    real_background_fraction: float = 0.5,
    motion_only: bool = False,
) -> np.ndarray:
    """A synthetic clip of ``action`` as uint8 RGB frames (T, H, W, 3); the same arguments give the same frames."""
    plan = plan_clip(
        action, seed, size=size, num_frames=num_frames, fps=fps,
        backgrounds=backgrounds, real_background_fraction=real_background_fraction, motion_only=motion_only,
    )  # fmt: skip
    return render_clip(plan)

