"""The ``labelgrow`` Typer app and its global options; each command lives in its own module of this package."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

app = typer.Typer(
    name="labelgrow",
    help="Teach a multilingual NER model new entity types without forgetting the old ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # labelgrow sends nothing anywhere
    if quiet:  # no progress bars either: labelgrow's, the Trainer's and the Hub's read these
        os.environ["TQDM_DISABLE"] = "1"
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    logging.basicConfig(
        format="labelgrow: %(message)s", level=logging.WARNING if quiet else logging.INFO, stream=sys.stderr
    )
    logging.getLogger("labelgrow").setLevel(logging.WARNING if quiet else logging.INFO)
