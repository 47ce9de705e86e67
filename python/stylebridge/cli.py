"""The ``stylebridge`` command: turns arguments into configs and calls the library.

Each command group lives in ``stylebridge.commands.<name>`` and registers itself on
the app; heavy imports (torch, onnxruntime) happen inside the commands so that
``stylebridge --help`` stays fast. Library errors print as one readable line and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from rich.console import Console

from stylebridge.errors import StyleBridgeError

# Modules under stylebridge.commands, each with a ``register(app)`` function.
COMMAND_MODULES = (
    "models",
    "check",
    "serve",
    "client",
    "sessions",
    "demo",
    "optimize",
    "report",
    "record",
    "train",
    "swap",
    "perf",
    "doctor",
    "store",
    "dashboard",
)

app = typer.Typer(
    name="stylebridge",
    help="Python <-> Unity bridge for real-time neural style transfer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"stylebridge.commands.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name == f"stylebridge.commands.{name}":
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except StyleBridgeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
