"""docs/usage.md documents every option of every command (a new option without a line there fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest

USAGE = Path(__file__).resolve().parents[1] / "docs" / "usage.md"


@pytest.mark.parametrize("command", ["extend", "eval", "predict", "diff", "annotate", "export", "compress"])
def test_usage_documents_every_option(command):
    import typer.main

    from labelgrow.cli import app

    click_command = typer.main.get_command(app).commands[command]
    text = USAGE.read_text(encoding="utf-8")
    section = text[text.index(f"## `labelgrow {command}`") :]
    section = section[: section.find("\n## ", 1)]
    missing = [
        opt
        for param in click_command.params
        for opt in param.opts[:1]
        if opt.startswith("--") and opt not in section and opt != "--config"
    ]
    assert not missing, f"docs/usage.md, section labelgrow {command}, does not mention {', '.join(missing)}"


API = Path(__file__).resolve().parents[1] / "docs" / "api.md"


@pytest.mark.parametrize(
    "name",
    [
        "ExtendArguments",
        "EvalArguments",
        "PredictArguments",
        "DiffArguments",
        "AnnotateArguments",
        "ExportArguments",
        "CompressArguments",
        "ExtendResult",
        "EvalResult",
        "DiffResult",
        "AnnotateResult",
        "ExportResult",
        "CompressResult",
    ],
)
def test_api_page_documents_every_field(name):
    """docs/api.md names every field of the argument and result classes (a new field without a word there fails)."""
    import dataclasses

    import labelgrow

    text = API.read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(getattr(labelgrow, name)) if f"`{f.name}`" not in text]
    assert not missing, f"docs/api.md does not mention {name}.{', '.join(missing)}"
    assert f"`{name}`" in text
