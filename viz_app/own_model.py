""""Your own model": a TorchScript file, or a state dict plus a repflow architecture.

No Streamlit here: these functions load a model the user brings and raise ``SourceError`` / ``CheckpointError``
with a message meant for the user (naming the file, what was expected and what was found). State dicts are read
and fitted by :func:`repflow.checkpoint.fit_state_dict` (``torch.load(weights_only=True)``).

A TorchScript file is not pickle, but it is code that runs on the server, so it is off unless the person starting
the app opts in (``REPFLOW_ALLOW_TORCHSCRIPT=1``) and never offered while the app listens beyond loopback
(:func:`torchscript_refusal`); and a file whose code reads, writes or maps files (``torch.from_file``,
``torch.save``, ...) is refused before it is loaded, and again by its compiled graphs after
(:func:`file_operations`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import zipfile
from collections.abc import Mapping

import torch
from torch import nn

from repflow.checkpoint import fit_state_dict
from viz_app.sources import ModelSource, SourceError


def load_own_model(source: ModelSource, name: str, *, address: str) -> nn.Module:
    """The model ``source`` describes, in eval mode; ``name`` is the file name shown in errors, ``address`` where
    the server listens (TorchScript only on loopback, and only when allowed: :func:`torchscript_refusal`)."""
    if source.kind == "torchscript":
        refusal = torchscript_refusal(address)
        if refusal:
            raise SourceError(refusal)
        return load_torchscript(source.file.path, name)
    if source.kind == "state_dict":
        return fit_state_dict(source.file.path, dict(source.architecture), name=name)
    raise ValueError(f"not an own-model kind: {source.kind!r}")


ALLOW_TORCHSCRIPT = "REPFLOW_ALLOW_TORCHSCRIPT"  # the opt-in: "1" lets the app load uploaded TorchScript
# TorchScript operations that read, write or map files: a TorchScript file calling one is refused.
FILE_OPERATIONS = frozenset(
    {"from_file", "save", "load", "_save_for_mobile", "_load_for_mobile", "_save_parameters", "_load_parameters"}
)
OPERATION_CALL = re.compile(r"\b(?:torch|ops\.\w+)\.(\w+)\s*\(")


def torchscript_refusal(address: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Why the app does not load TorchScript uploads, or None when it may: the person starting the app opted in
    (``REPFLOW_ALLOW_TORCHSCRIPT=1``) and the server listens on loopback only (``address``: Streamlit's
    ``server.address``; empty means every interface)."""
    if environ.get(ALLOW_TORCHSCRIPT) != "1":
        return (f"TorchScript uploads are off: a TorchScript file is code that runs on the server. Whoever starts "
                f"the app can allow them with `{ALLOW_TORCHSCRIPT}=1` (on a server listening on 127.0.0.1 only).")
    if not is_loopback(address):
        return (f"TorchScript uploads are off because the app listens on {address or 'every interface'}, not only "
                "on this machine (127.0.0.1): anyone who can reach it could run code on the server.")
    return None


def is_loopback(address: str) -> bool:
    """Whether a server listening on ``address`` is reachable from this machine only."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip()).is_loopback
    except ValueError:
        return False


def file_operations(module: torch.jit.ScriptModule) -> list[str]:
    """The file operations (``aten::from_file``, ``aten::save``, ...) called anywhere in ``module``'s
    compiled code: every method of it and of its submodules, with the functions they call inlined."""
    found = set()
    for _, submodule in module.named_modules():
        for method_name in submodule._c._method_names():
            graph = submodule._c._get_method(method_name).graph.copy()
            torch._C._jit_pass_inline(graph)
            found.update(kind for kind in graph_kinds(graph.nodes()) if kind.split("::")[-1] in FILE_OPERATIONS)
    return sorted(found)


def graph_kinds(nodes) -> set[str]:
    """The kinds of ``nodes`` and of every node in their blocks (loops, branches)."""
    kinds = set()
    for node in nodes:
        kinds.add(node.kind())
        for block in node.blocks():
            kinds |= graph_kinds(block.nodes())
    return kinds


def source_file_operations(path: str) -> list[str]:
    """The file operations the code stored in a TorchScript archive calls (``torch.from_file(``,
    ``ops.aten.save(``, ...), read before anything in it runs (loading runs a module's ``__setstate__``)."""
    found = set()
    with zipfile.ZipFile(path) as archive:
        for entry in archive.namelist():
            if "/code/" in entry and entry.endswith(".py"):
                text = archive.read(entry).decode("utf-8", errors="replace")
                found.update(op for op in OPERATION_CALL.findall(text) if op in FILE_OPERATIONS)
    return sorted(found)


def refuse_file_operations(operations: list[str], name: str) -> None:
    if operations:
        raise SourceError(
            f"{name} was not run: its TorchScript code calls {', '.join(operations)}, which reads or writes files "
            "on the server. A model for the viewer needs no file operations."
        )


def load_torchscript(path: str, name: str) -> nn.Module:
    """``torch.jit.load`` on the CPU, after checking its code calls no file operation (before loading
    and, in the compiled graphs, after); its cryptic errors for other files turned into one clear message."""
    try:
        refuse_file_operations(source_file_operations(path), name)
        module = torch.jit.load(path, map_location="cpu")
    except SourceError:
        raise
    except Exception as error:  # torch.jit.load raises RuntimeError with miniz internals for any other file
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SourceError(
            f"{name} is not a TorchScript file (one written by torch.jit.save of a scripted or traced model). "
            f"A state dict needs the format 'state dict + architecture'. torch.jit.load said: {first_line[:200]}"
        ) from error
    refuse_file_operations(file_operations(module), name)
    return module.eval()
