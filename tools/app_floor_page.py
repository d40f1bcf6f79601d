"""The smallest Streamlit page timed like the explorer: a "Channel" box and a "Time step" slider in the sidebar,
inside one ``st.fragment``, and one 224-pixel PNG panel (a data URI, as the explorer's) captioned like the
explorer's selected layer. ``python -m tools.app_benchmark --floor`` runs it beside the explorer, so the figures
show what a Streamlit round trip alone costs on the same machine under the same load.

Not part of the app: run by the benchmark with ``streamlit run tools/app_floor_page.py``.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

CHANNELS = 8


@st.cache_data
def panel(channel: int, step: int) -> str:
    """A random-coloured 224-pixel PNG as a data URI, one per (channel, step)."""
    image = np.random.default_rng(channel * 1000 + step).integers(0, 255, (28, 28, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.kron(image, np.ones((8, 8, 1), np.uint8))).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@st.fragment
def controls_and_panel() -> None:
    channel = int(st.sidebar.number_input(f"Channel (0–{CHANNELS - 1})", 0, CHANNELS - 1, key="channel"))
    step = int(st.sidebar.slider("Time step", 0, 6, key="step"))
    st.image(panel(channel, step), caption=f"\u25b6 layer · ch {channel} · t {step}: the floor page", width=224)


st.set_page_config(page_title="Streamlit floor", layout="wide")
controls_and_panel()
