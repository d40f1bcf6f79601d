"""Writing files so that a crash never leaves half of one: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

TEMP_NAME = re.compile(r"\..+\.\d+\.[0-9a-f]{12}\.tmp(\.[^.]*)?")  # the temporary files atomic_path names


class WriteError(OSError):
    """Writing ``filename`` failed (full disk, no permission, read-only filesystem, ...): one line naming the file
    the user asked for (not the temporary one) and the cause."""

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix, so writers that go by it still work) for the ``with``
    block to write; renamed onto ``path`` when the block ends normally, removed when it raises (the previous
    file at ``path`` stays as it was). An ``OSError`` while writing becomes a :class:`WriteError` naming ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except BaseException as error:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # e.g. a read-only filesystem: there is nothing to remove, and the first error is the one
            pass
        if isinstance(error, OSError) and not isinstance(error, WriteError):
            raise WriteError(error.errno, error.strerror or str(error), str(path)) from error
        raise


def interrupted_writes(folder: str | Path) -> list[Path]:
    """The temporary files :func:`atomic_path` left in ``folder`` when its process was killed while writing."""
    return [path for path in Path(folder).iterdir() if TEMP_NAME.fullmatch(path.name) and path.is_file()]


def atomic_write(path: str | Path, data: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` (bytes, text as UTF-8, or a function writing to a binary file) to ``path`` atomically.

    The file is synced to disk before the rename, and is created with the umask's permissions.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        # os.open honours the umask (mkstemp would make the file readable by its owner only).
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as file:
            if callable(data):
                data(file)
            else:
                file.write(data.encode() if isinstance(data, str) else data)
            file.flush()
            os.fsync(file.fileno())
    return path


def check_output_file(path: str | Path, *, inputs: Iterable[str | Path] = (), flag: str = "--out") -> Path:
    """Refuse, before any work, an output file that is a folder, one of the command's ``inputs``, or in a folder
    that cannot be created or written (ValueError naming ``flag`` and the path)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{flag} {path} is a folder: give a file name")
    for given in inputs:
        if same_file(path, Path(given)):
            raise ValueError(f"{flag} {path} is one of the inputs: writing it would overwrite {given}")
    check_output_folder(path.parent, flag=flag)
    return path


def check_output_folder(folder: str | Path, *, flag: str = "--out-dir") -> Path:
    """Create ``folder`` and write a probe file in it, or raise ValueError naming ``flag``, the folder and why."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{flag} {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise ValueError(f"{flag} {folder} is not a writable folder ({error.strerror or error})") from None
    return folder


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file (after links; hard links too when both exist)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b) or a.resolve() == b.resolve()
    except OSError:
        return False


def private_dir(path: str | Path) -> Path:
    """The folder ``path``, created with mode 0700 if missing; refused (``PermissionError``) when it is a symbolic
    link, not a folder, or owned by another user, and made private (0700) when it is ours. Caches that serve or
    reuse files live in such folders, so nobody else can plant, swap or link files there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PermissionError(f"{path} is not a plain folder (a link or a file): refusing to use it")
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user: refusing to use it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def is_regular_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file itself (a symbolic link is not followed: it is not one)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
