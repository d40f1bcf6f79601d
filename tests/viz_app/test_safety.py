"""The app is safe by default: TorchScript uploads off unless allowed on loopback, file operations in TorchScript
refused before they run, private upload and channel-browser folders that never follow links nor delete or serve
files they did not write, and the shipped Streamlit config (loopback, no usage statistics, viewer toolbar)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
import tomllib
import torch
from torch import nn

from tests.viz_app.apptest_helpers import run_app
from viz_app import channel_browser
from viz_app.own_model import load_torchscript, torchscript_refusal
from viz_app.sources import SourceError, cached_upload, store_upload, upload_folder

ROOT = Path(__file__).resolve().parents[2]


# --- TorchScript --------------------------------------------------------------------------------------------


class MapsAFile(nn.Module):
    """Creates (or maps) the file ``path`` when run: ``torch.from_file(..., shared=True)``."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def forward(self, x):
        mapped = torch.from_file(self.path, shared=True, size=16, dtype=torch.uint8)
        return x + mapped.sum()


class Wrapper(nn.Module):
    """The file operation one level down, in a submodule's method."""

    def __init__(self, path: str):
        super().__init__()
        self.inner = MapsAFile(path)

    def forward(self, x):
        return self.inner(x)


class WritesOnLoad(nn.Module):
    """Creates the file ``path`` while ``torch.jit.load`` restores it (``__setstate__`` runs at load time)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def forward(self, x):
        return x

    @torch.jit.export
    def __getstate__(self) -> List[str]:
        return [self.path]

    @torch.jit.export
    def __setstate__(self, state: List[str]) -> None:
        mapped = torch.from_file(state[0], shared=True, size=16, dtype=torch.uint8)
        self.path = state[0] + str(mapped.numel())
        self.training = False


def test_torchscript_is_off_unless_allowed_and_only_on_loopback():
    assert "REPFLOW_ALLOW_TORCHSCRIPT=1" in torchscript_refusal("127.0.0.1", {})
    assert torchscript_refusal("127.0.0.1", {"REPFLOW_ALLOW_TORCHSCRIPT": "1"}) is None
    assert torchscript_refusal("::1", {"REPFLOW_ALLOW_TORCHSCRIPT": "1"}) is None
    assert torchscript_refusal("localhost", {"REPFLOW_ALLOW_TORCHSCRIPT": "1"}) is None
    for address, shown in (("", "every interface"), ("0.0.0.0", "0.0.0.0"), ("192.168.1.5", "192.168.1.5")):
        refusal = torchscript_refusal(address, {"REPFLOW_ALLOW_TORCHSCRIPT": "1"})
        assert refusal and f"listens on {shown}" in refusal, (address, refusal)


def test_a_torchscript_file_that_writes_a_file_when_run_is_refused_and_no_file_appears(tmp_path):
    marker = tmp_path / "written_by_the_model.bin"
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(Wrapper(str(marker))), str(path))
    with pytest.raises(SourceError, match=r"upload\.pt was not run: its TorchScript code calls from_file"):
        load_torchscript(str(path), "upload.pt")
    assert not marker.exists()
    # The file is what the test says: loaded and run without the check, it writes the marker.
    torch.jit.load(str(path))(torch.zeros(1))
    assert marker.exists()


def test_a_torchscript_file_that_writes_while_loading_is_refused_before_it_loads(tmp_path):
    marker = tmp_path / "written_on_load.bin"
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(WritesOnLoad(str(marker))), str(path))
    with pytest.raises(SourceError, match="calls from_file"):
        load_torchscript(str(path), "upload.pt")
    assert not marker.exists()
    torch.jit.load(str(path))  # the control: loading alone writes it
    assert marker.exists()


def test_the_compiled_graphs_are_checked_too(tmp_path, monkeypatch):
    """Defence in depth: with the archive's code not read, the graphs of every submodule's methods still are."""
    from viz_app import own_model

    marker = tmp_path / "written_by_the_model.bin"
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(Wrapper(str(marker))), str(path))
    monkeypatch.setattr(own_model, "source_file_operations", lambda _: [])
    with pytest.raises(SourceError, match="calls aten::from_file"):
        load_torchscript(str(path), "upload.pt")
    assert not marker.exists()


def test_the_app_offers_no_torchscript_upload_by_default(app_env, monkeypatch):
    monkeypatch.delenv("REPFLOW_ALLOW_TORCHSCRIPT", raising=False)
    at = run_app()
    at.radio(key="model_source").set_value("own").run()
    at.radio(key="own_format").set_value("torchscript").run()
    assert not at.exception
    assert any("TorchScript uploads are off" in info.value for info in at.sidebar.info)
    assert not [u for u in at.get("file_uploader") if u.proto.label.startswith("Upload a TorchScript")]


# --- the upload cache and the channel browser's folder ----------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temp folder of the test's own, so the app's cache folders are made afresh."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return tmp_path / "tmp"


def test_the_upload_cache_is_a_private_folder_of_the_app(private_tmp):
    path = store_upload("clip.mp4", b"video bytes", kind="clips")
    for folder in (path.parent, path.parent.parent):
        info = os.lstat(folder)
        assert oct(info.st_mode & 0o777) == "0o700" and info.st_uid == os.getuid(), folder


def test_a_symlinked_upload_cache_is_refused_and_its_decoys_survive(private_tmp, tmp_path):
    decoys = tmp_path / "someone_elses_files"
    decoys.mkdir()
    for index in range(20):
        (decoys / f"{index:016x}.mp4").write_bytes(b"decoy %d" % index)  # names the cache itself would give
    (private_tmp / "repflow_viz").mkdir(mode=0o700)
    (private_tmp / "repflow_viz" / "clips").symlink_to(decoys)
    with pytest.raises(SourceError, match="clip.mp4 cannot be kept on the server: .* is not a plain folder"):
        store_upload("clip.mp4", b"new upload", kind="clips", max_files=2)
    assert len(list(decoys.iterdir())) == 20
    assert cached_upload("clips", "0000000000000000.mp4") is None, "a decoy with a cache name is not handed out"


def test_a_cache_folder_of_another_user_is_refused(private_tmp):
    if os.getuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    folder = private_tmp / "repflow_viz"
    folder.mkdir(mode=0o777)
    os.chown(folder, 12345, 12345)
    with pytest.raises(SourceError, match="belongs to another user"):
        store_upload("clip.mp4", b"new upload", kind="clips")


def test_a_cache_folder_left_open_is_made_private(private_tmp):
    folder = private_tmp / "repflow_viz"
    folder.mkdir()
    folder.chmod(0o777)
    store_upload("clip.mp4", b"new upload", kind="clips")
    assert oct(os.lstat(folder).st_mode & 0o777) == "0o700"


def test_pruning_removes_only_the_caches_own_regular_files(private_tmp, tmp_path):
    folder = upload_folder("clips")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep me")
    (folder / "aaaaaaaaaaaaaaaa.mp4").symlink_to(elsewhere / "precious.txt")  # a link with a cache name
    (folder / "notes.txt").write_text("not the cache's")
    (folder / "0123456789abcdef.mp4").mkdir()
    for index in range(4):
        store_upload("clip.mp4", b"clip %d" % index, kind="clips", max_files=2)
    left = sorted(p.name for p in folder.iterdir())
    assert "aaaaaaaaaaaaaaaa.mp4" in left and "notes.txt" in left and "0123456789abcdef.mp4" in left
    assert (elsewhere / "precious.txt").read_text() == "keep me"
    assert len([name for name in left if name.endswith(".mp4")]) == 2 + 2, left  # two uploads kept, besides those


def test_a_cached_file_is_reused_only_when_its_bytes_have_its_digest(private_tmp):
    path = store_upload("clip.mp4", b"the user's video", kind="clips")
    path.write_bytes(b"swapped")
    assert cached_upload("clips", path.name) is None, "a file whose bytes changed is not handed out"
    again = store_upload("clip.mp4", b"the user's video", kind="clips")
    assert again == path and path.read_bytes() == b"the user's video", "it is written again"


def test_the_channel_browser_serves_a_private_folder_with_its_own_files(private_tmp, monkeypatch):
    monkeypatch.setattr(channel_browser, "served_folder", channel_browser.served_folder.__wrapped__)
    folder = channel_browser.served_folder()
    assert folder.parent == private_tmp / "repflow_viz" and oct(os.lstat(folder.parent).st_mode & 0o777) == "0o700"
    planted = next(p for p in folder.iterdir() if p.suffix == ".js")
    planted.write_text("alert('planted')")
    assert channel_browser.served_folder() == folder
    assert "planted" not in planted.read_text(), "a changed file is replaced before the folder is served"


# --- the shipped Streamlit config ------------------------------------------------------------------------------


def test_the_shipped_config_listens_on_loopback_without_usage_statistics_or_developer_toolbar():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["fileWatcherType"] == "none", "no scan of every imported module after a first run"
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["runner"]["postScriptGC"] is False, "no full garbage collection after every change"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_readme_command_from_the_project_root_picks_the_config_up():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "viz_app/main.py", "--server.port", str(port),
         "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline, output = time.monotonic() + 60, ""
        while "URL:" not in output and time.monotonic() < deadline and server.poll() is None:
            output += server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in output, output
        with socket.socket() as sock:  # nothing answers on the machine's other addresses
            address = socket.gethostbyname(socket.gethostname())
            if not address.startswith("127."):
                assert sock.connect_ex((address, port)) != 0
    finally:
        server.terminate()
        server.wait(timeout=10)
