"""Colour tables the viewer draws with, kept here so that drawing needs no matplotlib import (about 0.3 s, paid by
a cold start of the app): matplotlib's colormaps sampled at 256 levels exactly as :func:`repflow.flowviz.magnitude_lut`
samples them (``colormaps[name](np.linspace(0, 1, 256))``, rounded to uint8). ``tests/test_flowviz.py`` keeps every
table equal to matplotlib's.
"""

from __future__ import annotations

import numpy as np

# "magma_r" at 256 levels, RGB uint8, row after row, as hexadecimal.
_MAGMA_R = (
    "fcfdbffcfbbdfcf9bbfcf7b9fcf6b8fcf4b6fcf2b4fcf0b2fceeb0fcecaefdebacfde9aafde7a9fde5a7fde3a5fde2a3fde0a1fddea0fddc"
    "9efdda9cfed89afed799fed597fed395fed194fecf92fecd90fecc8ffeca8dfec88cfec68afec488fec287fec185febf84febd82febb81fe"
    "b97ffeb77efeb67cfeb47bfeb27afeb078feae77feac76feaa74fea973fea772fea571fea36ffea16efe9f6dfe9d6cfd9b6bfd9a6afd9869"
    "fd9668fd9467fd9266fc9065fc8e64fc8c63fc8a62fc8961fb8761fb8560fb835ffa815ffa7f5efa7d5ef97b5df9795df9785df8765cf874"
    "5cf7725cf7705cf66e5cf66c5cf56b5cf4695cf4675cf3655cf2645cf2625df1605df05f5eef5d5eee5b5eed5a5fec5860eb5760ea5661e9"
    "5462e85362e75263e55064e44f64e34e65e24d66e04c67df4a68de4968dc4869db476ad9466bd8456cd6456cd5446dd3436ed2426fd0416f"
    "cf4070cd4071cc3f71ca3e72c83e73c73d73c53c74c43c75c23b75c03a76bf3a77bd3977bc3978ba3878b83779b73779b5367ab3367ab235"
    "7bb0357bae347bad347cab337caa337da8327da6317da5317ea3307ea1307ea02f7f9e2f7f9c2e7f9b2e7f992d80982d80962c80942c8093"
    "2b80912b81902a818e2a818c29818b29818928818827818627818426818326818125818025827e24827c23827b2382792282782281762181"
    "752181732081721f81701f816e1e816d1d816b1d816a1c81681c81671b80651a80641a806219806018805f187f5d177f5c167f5a167e5915"
    "7e57157e56147d54137d52137c51127c4f127b4e117b4c117a4a1079491078471078451077440f76420f75400f743f0f723d0f713b0f7039"
    "0f6e38106c36106b3410693310673111652f11632d11612c115f2a115c29115a27125825125524125322115021114e20114b1e11491d1147"
    "1c10441a104219103f180f3d160f3b150e38140e36130d34120d31110c2f100b2d0e0b2b0d0a290c09260b09240a082209072008071e0706"
    "1c06051a06051805041604041403031203030f02020d02020b020109010108010106010005000004"
)
TABLES = {"magma_r": _MAGMA_R}


def colour_table(name: str) -> np.ndarray | None:
    """The (256, 3) uint8 table of colormap ``name``, or None for one not kept here."""
    text = TABLES.get(name)
    return None if text is None else np.frombuffer(bytes.fromhex(text), np.uint8).reshape(256, 3).copy()
