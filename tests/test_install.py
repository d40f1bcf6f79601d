"""The installed package wins wherever the user stands: the README's layer snippet runs from the folder that holds
the clone, where ``git clone`` left a folder named ``repflow`` (with the checkpoint folder ``models/``) that Python
would otherwise take as a namespace package shadowing ``repflow.models``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_snippet() -> str:
    """The Python block of the README's "The layer in your own code" section."""
    readme = (ROOT / "README.md").read_text()
    return re.search(r"## The layer in your own code\n+```python\n(.*?)```", readme, re.S).group(1)


def test_the_readme_snippet_runs_from_the_clones_parent_folder(tmp_path):
    (tmp_path / "repflow" / "models").mkdir(parents=True)  # what the clone's parent looks like
    (tmp_path / "repflow" / "models" / "README.md").write_text("checkpoints\n")
    script = tmp_path / "try_the_layer.py"
    script.write_text(readme_snippet())
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, env={**env, "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "torch.Size([1, 32, 7, 2, 14, 14])" in done.stdout, done.stdout
