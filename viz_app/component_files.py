"""The files of the app's custom components (the channel browser, the main row): each component's page, scripts
and data served from one private folder per component, since Streamlit serves a component's files from one folder
and refuses links out of it.

:func:`served_folder` copies the component's sources into the app's private temp folder
(:func:`repflow.io.private_dir`) once per version and checks them against their sources before the folder is
served; :func:`publish` writes a data file (a layer's flows, a clip's TV-L1) into it once, atomically, keeping only
the newest ones; :func:`pack` / :func:`unpack` are the data files' layout, :func:`quantise` packs flows as int16.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from repflow.io import atomic_write, is_regular_file, private_dir
from viz_app.sources import prune_uploads

FLOWPAINT = Path(__file__).resolve().parent / "frontend_common" / "flowpaint.js"  # both components draw with it
DATA_FOLDER = "data"
DATA_NAME = re.compile(r"[0-9a-f]{16}\.bin")  # the names publish gives data files
KEPT_DATA_FILES = 32
INT16_MAX = 32767
_published: set[Path] = set()  # the data files this process wrote (one left by an earlier process is not trusted)
_lock = threading.Lock()


def served_folder(name: str, sources: list[Path]) -> Path:
    """A private folder holding exactly the files ``sources`` (by name), made once per version of their contents
    (a folder whose files differ from the sources is made again); ``name`` names the component."""
    contents = {path.name: path.read_bytes() for path in sources}
    digest = hashlib.sha256(b"".join(key.encode() + data for key, data in contents.items())).hexdigest()[:16]
    parent = private_dir(Path(tempfile.gettempdir()) / "repflow_viz")
    target = parent / f"{name}-{digest}"
    if target.is_dir() and not target.is_symlink() and not holds_exactly(target, contents):
        shutil.rmtree(target)
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=parent))
        for key, data in contents.items():
            (staging / key).write_bytes(data)
        try:
            staging.rename(target)
        except OSError:  # another server process made it first
            shutil.rmtree(staging, ignore_errors=True)
    if not holds_exactly(target, contents):
        raise PermissionError(f"{target} does not hold the {name} component's files: refusing to serve it")
    return target


def holds_exactly(folder: Path, contents: dict[str, bytes]) -> bool:
    """Whether ``folder`` (not a link) holds regular files (not links) with exactly ``contents`` (name -> bytes),
    besides the ``data`` folder :func:`publish` writes."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    names = {path.name for path in folder.iterdir()} - {DATA_FOLDER}
    if names != set(contents):
        return False
    for name, data in contents.items():
        path = folder / name
        if not is_regular_file(path) or path.read_bytes() != data:
            return False
    return True


def quantise(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flows (C, ...) as int16 codes for a data file, with one step per channel (C,) such that ``codes[c] * step[c]``
    is within half a step of ``flows[c]``."""
    peak = np.abs(flows.reshape(len(flows), -1)).max(axis=1).astype(np.float64)
    step = np.where(peak > 0, peak / INT16_MAX, 1.0)
    shape = (-1,) + (1,) * (flows.ndim - 1)
    return np.round(flows / step.reshape(shape)).astype("<i2"), step


def pack(header: dict, blob: bytes) -> bytes:
    """One data file: a 4-byte little-endian length, that many bytes of JSON ``header`` (padded with spaces so the
    blob starts at a multiple of 8 bytes), then ``blob``."""
    text = json.dumps(header).encode()
    text += b" " * (-(4 + len(text)) % 8)
    return len(text).to_bytes(4, "little") + text + blob


def unpack(payload: bytes) -> tuple[dict, bytes]:
    """The inverse of :func:`pack` (what the pages' scripts read)."""
    length = int.from_bytes(payload[:4], "little")
    return json.loads(payload[4 : 4 + length]), payload[4 + length :]


def published(folder: Path, digest: str) -> bool:
    """Whether this process has written ``<digest>.bin`` into ``folder``'s data folder and it is still there."""
    path = folder / DATA_FOLDER / f"{digest}.bin"
    with _lock:
        return path in _published and is_regular_file(path)


def publish(folder: Path, digest: str, payload: bytes) -> str:
    """Write ``payload`` once as ``<digest>.bin`` into ``folder``'s data folder (atomically; only the newest
    KEPT_DATA_FILES are kept) and return its path relative to the component's page."""
    data = private_dir(folder / DATA_FOLDER)
    path = data / f"{digest}.bin"
    with _lock:
        if path in _published and is_regular_file(path):
            path.touch()  # in use: among the newest
        else:
            atomic_write(path, payload)
            _published.add(path)
            removed = prune_uploads(data, keep=path, max_files=KEPT_DATA_FILES, max_bytes=2**62, pattern=DATA_NAME)
            _published.difference_update(removed)
    return f"{DATA_FOLDER}/{path.name}"
