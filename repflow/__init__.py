"""repflow: representation flow for action recognition (Piergiovanni & Ryoo, CVPR 2019)."""

__version__ = "0.1.0"
