"""Synthetic action clips: articulated figures performing 11 actions on textured or real backgrounds.

``generate_clip(action, seed)`` renders one clip as uint8 frames; ``write_dataset`` writes a whole
train/test set of mp4 files with list files (``repflow synth`` on the command line).
"""

from repflow.data.synthetic.actions import ACTION_NAMES, ACTIONS
from repflow.data.synthetic.backgrounds import BackgroundPool
from repflow.data.synthetic.generator import ClipPlan, generate_clip, plan_clip, render_clip

__all__ = ["ACTIONS", "ACTION_NAMES", "BackgroundPool", "ClipPlan", "generate_clip", "plan_clip", "render_clip"]
