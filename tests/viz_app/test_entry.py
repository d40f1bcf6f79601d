"""The app's entry point (viz_app.main): a Streamlit st.App that imports the heavy modules in the background and
opens the browser as ``streamlit run`` does."""

import asyncio
import threading
from pathlib import Path

import pytest
import streamlit as st

from viz_app import main


def start(monkeypatch, **options) -> list[str]:
    """Run the app's start-up hook with Streamlit's ``options`` set; the addresses it opened in a browser."""
    opened = []
    monkeypatch.setattr(main.webbrowser, "open", opened.append)
    real = st.get_option
    monkeypatch.setattr(main.st, "get_option", lambda name: options[name] if name in options else real(name))

    async def enter():
        async with main.starting(main.app):
            pass

    asyncio.run(enter())
    return opened


def test_the_entry_serves_the_explorer_script_beside_it():
    assert main.app.script_path == Path(main.__file__).with_name("explorer.py")  # whatever the working directory


def test_starting_imports_torch_and_opencv_in_the_background(monkeypatch):
    imported = []
    monkeypatch.setattr(main.importlib, "import_module", lambda name: imported.append(name))
    assert start(monkeypatch, **{"server.headless": True}) == []
    for thread in threading.enumerate():
        if thread.name == "repflow-warm-up":
            thread.join(timeout=60)
    assert imported == ["torch", "cv2"]


@pytest.mark.parametrize(("address", "port", "base", "url"), [
    ("127.0.0.1", 8501, "", "http://127.0.0.1:8501/"),
    ("0.0.0.0", 8600, "repflow/", "http://localhost:8600/repflow/"),
    ("::1", 8501, "", "http://[::1]:8501/"),
])
def test_starting_opens_the_app_unless_headless(monkeypatch, address, port, base, url):
    options = {"server.address": address, "server.port": port, "server.baseUrlPath": base}
    assert start(monkeypatch, **options, **{"server.headless": False}) == [url]
    assert start(monkeypatch, **options, **{"server.headless": True}) == []
