"""The app's entry point: ``streamlit run viz_app/main.py`` serves the script each session runs,
:mod:`viz_app.explorer` (the explorer, Dataset and Compare pages), as a Streamlit ``st.App``.

As the server starts (:func:`starting`), torch and OpenCV are imported in a background thread while the first
browser loads the page, so a fresh server's first page no longer waits about a second for them. Only these two
are imported early: they import nothing of the app's, so a page run importing the app's modules meanwhile waits
for them, never in a cycle.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import webbrowser
from pathlib import Path

import streamlit as st

HEAVY_IMPORTS = ("torch", "cv2")


@contextlib.asynccontextmanager
async def starting(_app):
    """The server's start: import HEAVY_IMPORTS in the background and, unless the server is headless, open the
    app in the browser (what ``streamlit run`` does for a plain script)."""
    threading.Thread(target=lambda: [importlib.import_module(name) for name in HEAVY_IMPORTS],
                     name="repflow-warm-up", daemon=True).start()
    if not st.get_option("server.headless"):
        webbrowser.open(app_url())
    yield


def app_url() -> str:
    """The address the app is served at, as this machine's browser reaches it."""
    host = st.get_option("server.address") or ""
    if host in ("", "0.0.0.0", "::"):  # every interface: the address users are given (default "localhost")
        host = st.get_option("browser.serverAddress")
    if ":" in host:
        host = f"[{host}]"
    base = st.get_option("server.baseUrlPath").strip("/")
    return f"http://{host}:{st.get_option('server.port')}/{base + '/' if base else ''}"


app = st.App(Path(__file__).with_name("explorer.py"), lifespan=starting)
