"""Where the viewer's models and clips come from: the bundled folders, and files the user uploads.

No Streamlit here: these functions find, describe and check files, and raise ``SourceError`` with a
message meant for the user (naming the file, what was expected and what was found).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from repflow.checkpoint import TrainingClip, architecture_name, short_side_for
from repflow.inspect import FLOW_KIND_LABELS
from repflow.io import atomic_write, is_regular_file, private_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".gif")
MAX_UPLOAD_MB = 200
# The upload cache (per kind: models, clips) keeps the most recently uploaded files, within both limits.
UPLOAD_CACHE_FILES = 16
UPLOAD_CACHE_MB = 1024
MIN_FRAMES = 3  # the model needs T >= 3 (flow-of-flow removes two steps)
MAX_FRAMES = 64  # longer clips are cut to a window of at most this many frames
# The clip the app opens with: an action the bundled demo models were trained on, with large motion.
DEFAULT_CLIP = "synthetic_jumping_jacks.mp4"
# The model it opens with: the bundled flow-of-flow model trained on the main synthetic set (not a motion-only one).
DEFAULT_MODEL = "synthetic112_flow_of_flow.pt"
MAX_STRIDE = 8  # temporal subsampling of the window (models trained at stride s want clips read at stride s)
DEFAULTS = TrainingClip().with_defaults()  # the window of a model that records no training clip
MIN_SIZE, MAX_SIZE = 32, 448  # input sizes the app offers


class SourceError(ValueError):
    """A model or clip the viewer cannot use; the message says why, for the user."""


@dataclass(frozen=True)
class ModelFile:
    """A checkpoint on disk; ``mtime_ns`` and ``size`` make it a cache key that changes when the file does."""

    path: str
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: str | Path) -> "ModelFile":
        stat = Path(path).stat()
        return cls(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class ModelSource:
    """What to load and how, and the cache key of the loaded model.

    ``kind``: "checkpoint" (a repflow checkpoint), "torchscript" (a ``torch.jit.save`` file) or "state_dict"
    (a state dict for the repflow architecture ``architecture``: sorted ``ModelConfig`` field items).
    """

    file: ModelFile
    kind: str = "checkpoint"
    architecture: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class ClipWindow:
    """Which frames of a clip go through the model (``frames`` of them, every ``stride``-th from ``start``),
    at what square input size, and what share ``crop`` of the short side that centre crop covers."""

    start: int = 0
    frames: int = DEFAULTS.frames
    size: int = DEFAULTS.size
    stride: int = 1
    crop: float = 1.0

    def indices(self) -> list[int]:
        return [self.start + step * self.stride for step in range(self.frames)]

    @property
    def span(self) -> int:
        """How many consecutive clip frames the window covers."""
        return (self.frames - 1) * self.stride + 1

    @property
    def short_side(self) -> int:
        """The short side frames are resized to before the centre ``size`` crop."""
        return short_side_for(self.size, self.crop)


def models_dir() -> Path:
    """``$REPFLOW_MODELS_DIR`` or ``models/`` of the repository."""
    return Path(os.environ.get("REPFLOW_MODELS_DIR") or REPO_ROOT / "models")


def samples_dir() -> Path:
    """``$REPFLOW_SAMPLES_DIR`` or ``sample_videos/`` of the repository."""
    return Path(os.environ.get("REPFLOW_SAMPLES_DIR") or REPO_ROOT / "sample_videos")


def find_models(folder: Path) -> list[Path]:
    """The ``*.pt`` / ``*.pth`` files of ``folder``, sorted by name (none if the folder is missing)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".pt", ".pth"))


def find_clips(folder: Path) -> list[Path]:
    """The video files of ``folder`` (by suffix), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def default_clip_index(clips: list[Path]) -> int:
    """Which of ``clips`` the app opens with: ``DEFAULT_CLIP`` when it is there, else the first."""
    names = [clip.name for clip in clips]
    return names.index(DEFAULT_CLIP) if DEFAULT_CLIP in names else 0


def describe_config(config: dict) -> str:
    """A short label for a model config, e.g. "flow-of-flow · R(2+1)D-18 · width 8 · 10 classes" or
    "no flow layer · I3D (Inception-v1) · width 64 · 51 classes"."""
    flow = FLOW_KIND_LABELS.get(str(config.get("flow")), str(config.get("flow")))
    if config.get("arch") == "tvnet":
        flow = "TVNet flow layer"
    width, classes = config.get("width", "?"), config.get("num_classes", "?")
    return f"{flow} · {architecture_name(config)} · width {width} · {classes} classes"


def default_model_index(names: list[str], read_configs: Callable[[], list[dict | None]]) -> int:
    """The model to open first: ``DEFAULT_MODEL`` when it is among the files' ``names``, else (the files' configs
    read only then, by ``read_configs``) the first flow-of-flow one, else the first with any flow layer, else 0."""
    if DEFAULT_MODEL in names:
        return list(names).index(DEFAULT_MODEL)
    configs = read_configs()
    for wanted in ("fcf", "rep"):
        for index, config in enumerate(configs):
            if config and config.get("flow") == wanted:
                return index
    return 0


def window_defaults(clip: TrainingClip, min_frames: int = MIN_FRAMES) -> tuple[int, int, int, float, tuple[str, ...]]:
    """(frames, size, stride, crop fraction, notes) the app opens a model's clips with: as the model was trained
    (:meth:`TrainingClip.with_defaults`, the window ``repflow figure`` draws by default; at least ``min_frames``,
    the model's shortest clip), each value brought into the app's ranges, with a note for the user on every value
    the app cannot hold."""
    trained = clip.with_defaults(min_frames=min_frames)
    notes = []

    def within(what: str, value: int, low: int, high: int, unit: str = "") -> int:
        fitted = min(max(value, low), high)
        if fitted != value:
            notes.append(f"The model was trained with {what} {value}{unit}; the app takes {low}–{high}, so it uses "
                         f"{fitted}.")
        return fitted

    frames = within("clips of", trained.frames, MIN_FRAMES, MAX_FRAMES, " frames")
    size = within("input size", trained.size, MIN_SIZE, MAX_SIZE, " px")
    stride = within("frame stride", trained.stride, 1, MAX_STRIDE)
    return frames, size, stride, clip.crop_fraction, tuple(notes)


def class_names(payload: dict, num_classes: int) -> list[str]:
    """Class names stored in a checkpoint (``"class_names"`` or ``"classes"``), else "class 0", "class 1", ..."""
    for key in ("class_names", "classes"):
        names = payload.get(key)
        if isinstance(names, (list, tuple)) and len(names) == num_classes and all(isinstance(n, str) for n in names):
            return list(names)
    return [f"class {index}" for index in range(num_classes)]


MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~$:/@&=;%^\"'])")


def escape_markdown(text: str) -> str:
    """``text`` (a file name the user gave, or one from the page's address) as literal text in Streamlit's markdown:
    every markdown-active character backslash-escaped, and "www." broken, so it can be no link, image or
    formatting."""
    escaped = MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return re.sub(r"(?i)(www)\.", r"\1\\.", escaped)


def user_message(error: Exception, path: str, name: str) -> str:
    """``error``'s message with the file ``path`` named ``name``, as the user knows it (an upload is stored under an
    internal path that means nothing to them), and that name escaped for markdown."""
    message = str(error)
    for shown in {path, str(Path(path).resolve())}:
        message = message.replace(f"{shown}: ", "").replace(shown, name)
    return message.replace(name, escape_markdown(name))


def check_upload_size(name: str, size_bytes: int, *, limit_mb: int = MAX_UPLOAD_MB) -> None:
    """Reject empty files and files over ``limit_mb`` megabytes."""
    if size_bytes == 0:
        raise SourceError(f"{name}: the file is empty (0 bytes)")
    if size_bytes > limit_mb * 1024 * 1024:
        raise SourceError(f"{name}: {size_bytes / 2**20:.0f} MB is over the {limit_mb} MB upload limit")


UPLOAD_NAME = re.compile(r"[0-9a-f]{16}\.[a-z0-9]{1,5}")  # how store_upload names a cached upload


def store_upload(
    name: str, data: bytes, *, kind: str, max_files: int = UPLOAD_CACHE_FILES, max_mb: float = UPLOAD_CACHE_MB
) -> Path:
    """Save uploaded bytes in the private upload cache, named by their SHA-1 (same bytes, same file) and keeping
    the suffix, so the video readers and ``torch.load`` can open them by path. A file already there is reused only
    if its bytes have that digest. The folder is a bounded cache: the oldest files are removed beyond ``max_files``
    files or ``max_mb`` megabytes (never the one just stored)."""
    check_upload_size(name, len(data))
    digest = hashlib.sha1(data).hexdigest()[:16]
    try:
        folder = upload_folder(kind)
        path = folder / f"{digest}{Path(name).suffix.lower()}"
        if not holds_digest(path, digest):  # (a kept file's modification time stays: part of the model's cache key)
            atomic_write(path, data)
        prune_uploads(folder, keep=path, max_files=max_files, max_bytes=int(max_mb * 2**20))
    except OSError as error:  # a full disk, or a cache folder that is not the app's own
        raise SourceError(f"{name} cannot be kept on the server: {error}") from None
    return path


def upload_folder(kind: str) -> Path:
    """Where uploads of ``kind`` ("models" or "clips") are cached: a private folder (mode 0700, ours, not a link;
    :func:`repflow.io.private_dir`) in the temp folder, created on first use."""
    return private_dir(private_dir(Path(tempfile.gettempdir()) / "repflow_viz") / kind)


def holds_digest(path: Path, digest: str) -> bool:
    """Whether ``path`` is a regular file (not a link) whose SHA-1 starts with ``digest``."""
    return is_regular_file(path) and file_digest(path).startswith(digest)


def cached_upload(kind: str, file_name: str) -> Path | None:
    """The cached upload ``file_name`` (as ``store_upload`` names it: digest and suffix) if it is still there with
    those bytes; None for any other name, so a name from the page's address cannot reach other files."""
    if not UPLOAD_NAME.fullmatch(file_name or ""):
        return None
    try:
        path = upload_folder(kind) / file_name
        return path if holds_digest(path, file_name.split(".")[0]) else None
    except OSError:  # no cache folder of the app's own: nothing kept
        return None


def prune_uploads(folder: Path, *, keep: Path, max_files: int, max_bytes: int, pattern: re.Pattern = UPLOAD_NAME
                  ) -> list[Path]:
    """Remove the oldest files of ``folder`` (by modification time) until at most ``max_files`` of at most
    ``max_bytes`` in total are left, never ``keep``; returns the removed files. Only regular files whose names
    match ``pattern`` (the cache's own) count or are removed: links (never followed), folders, files being
    written (hidden names) and anything else are left alone."""
    files = []
    for path in folder.iterdir():
        try:
            info = os.lstat(path)
        except FileNotFoundError:  # removed by another session meanwhile
            continue
        if pattern.fullmatch(path.name) and stat.S_ISREG(info.st_mode):
            files.append((info.st_mtime_ns, info.st_size, path))
    files.sort(key=lambda item: (item[2] == keep, item[0]), reverse=True)  # ``keep`` first, then newest first
    removed, count, total = [], 0, 0
    for _, size, path in files:
        if path == keep or (count < max_files and total + size <= max_bytes):
            count, total = count + 1, total + size
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def file_digest(path: str | Path) -> str:
    """SHA-1 of a file's bytes (the cache key of a clip), read in chunks."""
    sha = hashlib.sha1()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def fit_window(window: ClipWindow, num_frames: int, name: str) -> ClipWindow:
    """Clamp ``window`` to a clip of ``num_frames`` frames; a clip shorter than MIN_FRAMES is refused."""
    if num_frames < MIN_FRAMES:
        raise SourceError(
            f"{name}: the video has {num_frames} frame{'s' if num_frames != 1 else ''}; "
            f"the model needs at least {MIN_FRAMES} (flow-of-flow compares three frames)"
        )
    # A clip too short for the stride gets the largest stride that still fits MIN_FRAMES frames.
    stride = max(1, min(window.stride, (num_frames - 1) // (MIN_FRAMES - 1)))
    frames = max(MIN_FRAMES, min(window.frames, (num_frames - 1) // stride + 1, MAX_FRAMES))
    fitted = replace(window, start=0, frames=frames, stride=stride)
    return replace(fitted, start=min(max(window.start, 0), num_frames - fitted.span))
