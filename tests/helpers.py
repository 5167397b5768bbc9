"""Helpers the end-to-end tests share: running the command line in-process, and extend's common arguments."""

from __future__ import annotations

import sys

from labelgrow.cli import main


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["labelgrow", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def extend_args(base, data_dir, output, *extra, new_labels="FACILITY") -> list[str]:
    return [
        "extend",
        "--base",
        str(base),
        "--new-labels",
        new_labels,
        "--train",
        str(data_dir),
        "--output",
        str(output),
        "--epochs",
        "1",
        "--min-steps",  # the tests count epochs on a few sentences; --min-steps has tests of its own
        "0",
        "--batch-size",
        "4",
        "--learning-rate",
        "1e-3",
        *extra,
    ]
