"""Draw a posed figure into an RGB frame with anti-aliased, sub-pixel OpenCV primitives.

Limbs are tapered capsules (a quadrilateral between two discs), the head a disc with a hair cap.
Coordinates are float pixels; OpenCV's fixed-point ``shift`` keeps 1/16-pixel precision so slow
motion stays smooth even at 64x64.
"""

from __future__ import annotations

import cv2
import numpy as np

from repflow.data.synthetic.appearance import Appearance

_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA


def _fixed(point: np.ndarray) -> tuple[int, int]:
    return int(round(point[0] * _ONE)), int(round(point[1] * _ONE))


def _colour(rgb: np.ndarray, shade: float = 1.0) -> tuple[int, int, int]:
    return tuple(int(round(c)) for c in np.clip(np.asarray(rgb) * shade * 255.0, 0, 255))


def _disc(image: np.ndarray, centre: np.ndarray, radius: float, colour: tuple[int, int, int]) -> None:
    cv2.circle(image, _fixed(centre), max(1, int(round(radius * _ONE))), colour, -1, _AA, _SHIFT)


def draw_capsule(
    image: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    r1: float,
    r2: float,
    colour: tuple[int, int, int],
    *,
    round_start: bool = True,
) -> None:
    """A limb from ``p`` to ``q`` (pixels), half-width ``r1`` at ``p`` tapering to ``r2`` at ``q``.

    ``round_start=False`` leaves the ``p`` end cut straight (a hem) instead of rounded.
    """
    axis = q - p
    length = float(np.hypot(*axis))
    if length > 1e-6:
        normal = np.array([-axis[1], axis[0]]) / length
        quad = np.array([p + r1 * normal, q + r2 * normal, q - r2 * normal, p - r1 * normal])
        cv2.fillConvexPoly(image, np.round(quad * _ONE).astype(np.int32), colour, _AA, _SHIFT)
    if round_start:
        _disc(image, p, r1, colour)
    _disc(image, q, r2, colour)


def draw_stripes(
    image: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    r1: float,
    r2: float,
    *,
    count: int,
    colour: tuple[int, int, int],
    width: int,
) -> None:
    """``count`` bands across the capsule ``p``-``q``, evenly spaced along it."""
    axis = q - p
    length = float(np.hypot(*axis))
    if count == 0 or length < 1e-6:
        return
    normal = np.array([-axis[1], axis[0]]) / length
    for k in range(1, count + 1):
        t = k / (count + 1)
        centre, radius = p + t * axis, (r1 + t * (r2 - r1)) * 0.9
        cv2.line(image, _fixed(centre - radius * normal), _fixed(centre + radius * normal), colour, width, _AA, _SHIFT)


def draw_shadow(image: np.ndarray, centre: np.ndarray, axes: tuple[float, float], *, strength: float = 0.35) -> None:
    """Darken an ellipse on the ground (a soft contact shadow) in place."""
    height, width = image.shape[:2]
    x0, x1 = int(max(centre[0] - axes[0] - 2, 0)), int(min(centre[0] + axes[0] + 3, width))
    y0, y1 = int(max(centre[1] - axes[1] - 2, 0)), int(min(centre[1] + axes[1] + 3, height))
    if x0 >= x1 or y0 >= y1:
        return
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    size = (max(1, int(round(axes[0] * _ONE))), max(1, int(round(axes[1] * _ONE))))
    cv2.ellipse(mask, _fixed(centre - (x0, y0)), size, 0, 0, 360, 255, -1, _AA, _SHIFT)
    region = image[y0:y1, x0:x1]
    region[:] = (region * (1.0 - strength / 255.0 * mask[..., None])).astype(np.uint8)


def draw_stool(image: np.ndarray, seat: np.ndarray, half_width: float, ground_y: float, colour: np.ndarray) -> None:
    """A stool whose seat top is centred at ``seat`` (pixels), standing on the line ``ground_y``."""
    thickness = max(1.0, 0.2 * half_width)
    left, right = seat + (-half_width, thickness), seat + (half_width, thickness)
    leg = 0.7 * half_width
    for foot_x in (seat[0] - leg, seat[0] + leg):
        draw_capsule(image, np.array([foot_x, seat[1] + thickness]), np.array([foot_x, ground_y]),
                     0.35 * thickness, 0.35 * thickness, _colour(colour, 0.7))  # fmt: skip
    draw_capsule(image, left, right, thickness, thickness, _colour(colour))


def draw_figure(
    image: np.ndarray, joints: dict[str, np.ndarray], look: Appearance, *, view: str, scale: float, facing: float
) -> None:
    """Draw one frame of a figure in place. ``joints`` hold (2,) pixel positions, ``scale`` is pixels per body height.

    In the side view the far (``r_``) limbs are drawn first and darker, the near ones over the torso.
    """
    body = look.body

    def radius(part: str) -> float:
        return body.radius(part, view) * scale

    stripe_colour = _colour(look.stripe)
    stripe_width = max(1, int(round(0.014 * scale)))

    def arm(side: str, shade: float) -> None:
        shoulder, elbow, hand = joints[f"{side}_shoulder"], joints[f"{side}_elbow"], joints[f"{side}_hand"]
        sleeve = _colour(look.shirt, shade)
        draw_capsule(image, shoulder, elbow, radius("upper_arm"), radius("forearm"), sleeve)
        draw_stripes(image, shoulder, elbow, radius("upper_arm"), radius("forearm"), count=max(0, look.stripes - 2),
                     colour=_colour(look.stripe, shade), width=stripe_width)  # fmt: skip
        forearm = sleeve if look.long_sleeves else _colour(look.skin, shade)
        draw_capsule(image, elbow, hand, radius("forearm"), radius("forearm") * 0.85, forearm)
        _disc(image, hand, body.hand_radius * scale, _colour(look.skin, shade))

    def leg(side: str, shade: float) -> None:
        hip, knee, ankle, toe = (joints[f"{side}_{name}"] for name in ("hip", "knee", "ankle", "toe"))
        trousers = _colour(look.trousers, shade)
        draw_capsule(image, hip, knee, radius("thigh"), radius("shin"), trousers)
        shin = trousers if look.long_trousers else _colour(look.skin, shade)
        draw_capsule(image, knee, ankle, radius("shin"), radius("shin") * 0.8, shin)
        draw_capsule(image, ankle, toe, radius("foot"), radius("foot") * 0.8, _colour(look.shoes, shade))

    def torso() -> None:
        pelvis, neck, head = joints["pelvis"], joints["neck"], joints["head"]
        top, bottom = radius("torso_top"), radius("torso_bottom")
        waist = pelvis + 0.3 * (neck - pelvis)
        draw_capsule(image, pelvis, waist, bottom, bottom, _colour(look.trousers))
        draw_capsule(image, waist, neck, bottom, top, _colour(look.shirt), round_start=False)
        draw_stripes(image, waist, neck, bottom, top, count=look.stripes, colour=stripe_colour, width=stripe_width)
        draw_capsule(image, neck, neck + 0.4 * (head - neck), radius("neck"), radius("neck"), _colour(look.skin))
        head_radius = body.head_radius * scale
        _disc(image, head, head_radius, _colour(look.skin))
        up = (head - neck) / max(float(np.hypot(*(head - neck))), 1e-6)
        forward = facing * np.array([-up[1], up[0]])
        cap = up if view == "front" else up - 0.7 * forward
        centre = np.degrees(np.arctan2(cap[1], cap[0]))
        half = 95 if view == "front" else 110
        axes = (max(1, int(round(head_radius * 1.05 * _ONE))),) * 2
        cv2.ellipse(image, _fixed(head), axes, 0, centre - half, centre + half, _colour(look.hair), -1, _AA, _SHIFT)

    if view == "side":
        arm("r", 0.72)
        leg("r", 0.72)
        leg("l", 1.0)
        torso()
        arm("l", 1.0)
    else:
        leg("l", 1.0)
        leg("r", 1.0)
        torso()
        arm("l", 1.0)
        arm("r", 1.0)
