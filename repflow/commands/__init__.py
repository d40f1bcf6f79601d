"""One module per `repflow` sub-command, each with configure(parser) and run(args); a group of sub-commands
(``repflow bench``) has configure only and registers its own sub-commands with `add_subcommands`."""

from __future__ import annotations

import argparse
import importlib


def add_subcommands(parser: argparse.ArgumentParser, registry: dict[str, tuple[str, str]], *, dest: str) -> None:
    """Add one sub-parser per ``registry`` entry (name -> (module, help)); a module's ``run`` is stored as
    ``args._run``."""
    sub = parser.add_subparsers(dest=dest, required=True, metavar=dest.upper())
    for name, (module_name, help_text) in registry.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(command_parser)
        if hasattr(module, "run"):
            command_parser.set_defaults(_run=module.run)
