"""User-facing errors: one clear line, no traceback (the CLI prints tracebacks only with ``--debug``)."""

from __future__ import annotations

from pathlib import Path


class LabelgrowError(Exception):
    """A problem with the user's input, options or files that they can fix."""


class DataError(LabelgrowError):
    """A problem at a known place in a data file; the message starts with ``path:line:``."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path, self.line = str(path), line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (library errors are often long), or its type name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
