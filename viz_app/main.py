"""The app's entry point: ``streamlit run viz_app/main.py`` serves the script each session runs,
:mod:`viz_app.explorer` (the explorer, Dataset and Compare pages), as a Streamlit ``st.App``.

As the server starts (:func:`starting`), torch and OpenCV are imported in a background thread while the first
browser loads the page, so a fresh server's first page no longer waits about a second for them. Only these two
are imported early: they import nothing of the app's, so a page run importing the app's modules meanwhile waits
for them, never in a cycle.

Before that, the server's OpenMP threads (torch's) are told to sleep while they wait for work (``OMP_WAIT_POLICY``,
read once, when torch loads OpenMP), unless the user set the policy: the server shares the cores with the browser and
the background TV-L1 job, and OpenMP's threads by default spin while waiting, holding a core the thread they wait for
needs (with two cores busy, a forward pass of the default model took 3.6 s instead of 0.09 s; docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import webbrowser
from pathlib import Path

import streamlit as st

HEAVY_IMPORTS = ("torch", "cv2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP (see above)


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
