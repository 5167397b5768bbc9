"""The ``labelgrow`` command line: thin Typer commands (one module each) over importable functions.

Heavy libraries (torch, transformers) are imported inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import sys

import typer

from labelgrow.cli import adapt, annotate, compress, diff, evaluate, export, extend, predict  # noqa: F401  (each registers its command)
from labelgrow.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user errors become one line and exit code 2 (tracebacks only with --debug)."""
    from labelgrow.errors import LabelgrowError

    try:
        app()
    except LabelgrowError as exc:
        if "--debug" in sys.argv:
            raise
        typer.echo(f"labelgrow: error: {exc}", err=True)
        raise SystemExit(2) from None
