"""Real file-system faults for tests: a tiny tmpfs (a full disk) or a read-only one, mounted over a temp folder;
the test is skipped where mounting is not allowed (not root, or no mount namespace)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(folder: Path, *, size_kb: int = 64, read_only: bool = False) -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size_kb`` KiB (remounted read-only if ``read_only``), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
