"""How a synthetic figure looks: body build, skin, hair, clothes and their patterns.

Drawn from its own random stream, before and independently of the action, so the look of a clip
tells nothing about its class.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from repflow.data.synthetic.backgrounds import random_colour
from repflow.data.synthetic.skeleton import Body

# Skin tones from light to dark (RGB in [0, 1]); a clip picks a point between two neighbours.
_SKIN_TONES = np.array([
    [0.98, 0.86, 0.76], [0.93, 0.76, 0.62], [0.82, 0.62, 0.47], [0.64, 0.45, 0.32], [0.43, 0.29, 0.2], [0.3, 0.2, 0.14],
])  # fmt: skip


@dataclass(frozen=True)
class Appearance:
    """Colours are RGB (3,) float arrays in [0, 1]."""

    body: Body
    skin: np.ndarray
    hair: np.ndarray
    shirt: np.ndarray
    trousers: np.ndarray
    shoes: np.ndarray
    stripe: np.ndarray
    stripes: int  # stripes across shirt and sleeves; 0 = plain
    long_sleeves: bool
    long_trousers: bool
    stool: np.ndarray


def sample_appearance(rng: np.random.Generator, background_luma: float) -> Appearance:
    """A random figure whose clothes stand out against a background of mean luma ``background_luma``."""
    body = Body(
        torso=0.30 * rng.uniform(0.94, 1.06),
        head_radius=0.068 * rng.uniform(0.92, 1.08),
        upper_arm=0.17 * rng.uniform(0.95, 1.05),
        forearm=0.15 * rng.uniform(0.95, 1.05),
        thigh=0.245 * rng.uniform(0.95, 1.05),
        shin=0.235 * rng.uniform(0.95, 1.05),
        shoulder_offset=0.085 * rng.uniform(0.9, 1.1),
        build=rng.uniform(0.85, 1.3),
    )
    tone = rng.uniform(0, len(_SKIN_TONES) - 1)
    low = int(tone)
    skin = _SKIN_TONES[low] + (tone - low) * (_SKIN_TONES[min(low + 1, len(_SKIN_TONES) - 1)] - _SKIN_TONES[low])
    # Clothes are dark on light backgrounds and light on dark ones, so the figure always stands out.
    clothes_value = (0.08, 0.42) if background_luma > 0.5 else (0.6, 0.98)
    shirt = random_colour(rng, saturation=(0.2, 0.95), value=clothes_value)
    trousers = random_colour(rng, saturation=(0.1, 0.8), value=clothes_value)
    stripe_hsv = colorsys.rgb_to_hsv(*shirt)
    stripe = np.array(colorsys.hsv_to_rgb((stripe_hsv[0] + rng.uniform(0.3, 0.7)) % 1.0, stripe_hsv[1], stripe_hsv[2]))
    return Appearance(
        body=body,
        skin=skin,
        hair=random_colour(rng, saturation=(0.3, 0.8), value=(0.05, 0.45)),
        shirt=shirt,
        trousers=trousers,
        shoes=random_colour(rng, saturation=(0.0, 0.5), value=(0.05, 0.35)),
        stripe=stripe,
        stripes=int(rng.choice([0, 0, 3, 4, 5])),
        long_sleeves=bool(rng.uniform() < 0.6),
        long_trousers=bool(rng.uniform() < 0.75),
        stool=random_colour(rng, saturation=(0.1, 0.6), value=(0.15, 0.6)),
    )
