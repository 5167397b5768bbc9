"""docs/usage.md documents every option of every command (a new option without a line there fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest

USAGE = Path(__file__).resolve().parents[1] / "docs" / "usage.md"


@pytest.mark.parametrize("command", ["extend", "eval", "predict", "diff"])
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
