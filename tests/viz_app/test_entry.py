"""The app's entry point (viz_app.main): a Streamlit st.App that imports the heavy modules in the background and
opens the browser as ``streamlit run`` does, its OpenMP threads sleeping while they wait."""

import asyncio
import os
import subprocess
import sys
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


def openmp_spin_count(code: str, **environment: str) -> str:
    """GOMP_SPINCOUNT as torch's OpenMP (GNU libgomp in Linux wheels) reads it in a fresh interpreter running
    ``code``: how long its threads spin before sleeping."""
    env = {name: value for name, value in os.environ.items() if name != "OMP_WAIT_POLICY"}
    env.update(OMP_DISPLAY_ENV="VERBOSE", **environment)
    shown = subprocess.run([sys.executable, "-c", code + "; import torch; torch.ones(4).sum()"], env=env,
                           capture_output=True, text=True, check=True, cwd=Path(main.__file__).parents[1]).stderr
    return next(line.split("=")[1].strip(" '") for line in shown.splitlines() if "GOMP_SPINCOUNT" in line)


def test_the_servers_openmp_threads_sleep_while_they_wait():
    assert openmp_spin_count("pass") != "0"  # without the entry point, torch's threads spin
    assert openmp_spin_count("import viz_app.main") == "0"
    assert openmp_spin_count("import viz_app.main", OMP_WAIT_POLICY="ACTIVE") != "0"  # the user's choice is kept
