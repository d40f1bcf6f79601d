"""The core needs only the core: every `repflow` sub-command runs with the app's packages absent (issue 12)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from repflow.data.toy import write_toy_dataset

ROOT = Path(__file__).resolve().parents[1]
IMPORT_NAMES = {"flow-vis": "flow_vis"}  # distribution -> module, where they differ


def requirement_names(toml_list: str) -> list[str]:
    """Distribution names in a TOML list of requirement strings (comments ignored)."""
    return [re.split(r"[<>=\[ ]", item)[0].lower() for item in re.findall(r'"([^"]+)"', re.sub(r"#.*", "", toml_list))]


def app_only_modules() -> list[str]:
    """The modules of the packages that only pyproject's ``app`` extra installs (read without tomllib, which
    Python 3.10 lacks)."""
    text = (ROOT / "pyproject.toml").read_text()
    core = set(requirement_names(re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M).group(1)))
    extra = requirement_names(re.search(r"^app = \[(.*?)\]", text, re.S | re.M).group(1))
    return [IMPORT_NAMES.get(name, name) for name in extra if name not in core]


def repflow_without_app(*args: str) -> subprocess.CompletedProcess:
    """``repflow ARGS`` in a fresh interpreter where importing any app-only module fails."""
    code = ("import sys\n"
            f"for name in {app_only_modules()!r}:\n"
            "    sys.modules[name] = None  # 'import name' now raises ModuleNotFoundError\n"
            "from repflow.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_app_extra_is_what_is_blocked():
    # pillow is a core dependency: matplotlib (core) needs it to write any PNG
    assert set(app_only_modules()) == {"streamlit", "plotly", "flow_vis", "uvloop"}


@pytest.mark.parametrize("command", ["", "train", "eval", "synth", "figure", "bench", "bench layer", "bench models",
                                     "bench probe"])
def test_every_help_works_without_the_app_packages(command):
    result = repflow_without_app(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: repflow" in result.stdout and "Traceback" not in result.stderr


def test_train_and_eval_run_without_the_app_packages(tmp_path):
    write_toy_dataset(tmp_path / "videos", num_classes=2, videos_per_class=2, num_frames=8, height=32, width=40)
    tiny = ["--width", "8", "--num-frames", "4", "--short-side", "32", "--crop-size", "32", "--workers", "0",
            "--no-progress", "--epochs", "1", "--batch-size", "2", "--n-iter", "2"]
    trained = repflow_without_app("train", "--train-data", str(tmp_path / "videos"), "--val-data",
                                  str(tmp_path / "videos"), "--flow", "rep", *tiny, "--out-dir", str(tmp_path / "run"))
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "run" / "model.pt").is_file()
    evaluated = repflow_without_app("eval", "--checkpoint", str(tmp_path / "run" / "model.pt"), "--clips", "1",
                                    "--crops", "1", "--workers", "0", "--no-progress")
    assert evaluated.returncode == 0, evaluated.stderr
    assert (tmp_path / "run" / "eval" / "summary.json").is_file()


def test_drawing_without_the_app_packages_says_what_to_install(tmp_path):
    result = repflow_without_app("figure", "--model", str(ROOT / "models" / "synthetic112_flow_of_flow.pt"), "--clip",
                                 str(ROOT / "sample_videos" / "synthetic_jumping_jacks.mp4"), "--out",
                                 str(tmp_path / "fig.png"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pip install 'repflow[app]'" in result.stderr and not (tmp_path / "fig.png").exists()
