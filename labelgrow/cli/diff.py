"""``labelgrow diff``: without gold, what the grown model did with the teacher's entities (labelgrow.diffing)."""

from __future__ import annotations

from typing import Annotated

import typer

from labelgrow.cli.app import app
from labelgrow.cli.options import (
    DATA,
    OUTPUT,
    AllowPickleOption,
    BatchSizeOption,
    Bf16Option,
    ConfigOption,
    CpuOption,
    DecodeOption,
    DetectLanguagesOption,
    DetectThresholdOption,
    Fp16Option,
    LangOption,
    MaxLengthOption,
    TeacherUnsureOption,
    TrustRemoteCodeOption,
)
from labelgrow.configuration import UNSURE_BELOW, Decoding, UnlabelledFormat


@app.command("diff")
def diff_command(
    teacher: Annotated[str, typer.Option(help="The model before growing (the teacher).", rich_help_panel=DATA)],
    model: Annotated[str, typer.Option(help="The grown model.", rich_help_panel=DATA)],
    data: Annotated[
        list[str],
        typer.Option(
            help="Text to compare on: one text per line, or CoNLL words (tags ignored). Repeatable.",
            rich_help_panel=DATA,
        ),
    ],
    format: Annotated[
        UnlabelledFormat,
        typer.Option(
            help="auto: CoNLL when every line is a word, optionally with a BIO tag; else text.", rich_help_panel=DATA
        ),
    ] = UnlabelledFormat.AUTO,  # type: ignore[attr-defined]
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    teacher_unsure_below: TeacherUnsureOption = UNSURE_BELOW,
    decode: DecodeOption = Decoding.BIO,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    bf16: Bf16Option = False,
    fp16: Fp16Option = False,
    cpu: CpuOption = False,
    report: Annotated[
        str | None, typer.Option(help="Directory for diff.json and diff.md.", rich_help_panel=OUTPUT)
    ] = None,
    examples: Annotated[int, typer.Option(help="Examples of each change per language.", rich_help_panel=OUTPUT)] = 3,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Without gold: what the grown model did with each of the teacher's old entities (kept, refined, lost...)."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.diffing import DiffArguments, run_diff
    from labelgrow.report import change_table, example_lines, near_tie_line

    result = run_diff(DiffArguments(**arguments))
    typer.echo(f"what became of the teacher's entities on {result.data['sentences']} texts:")
    typer.echo(change_table(result.changes))
    typer.echo("\n".join(filter(None, [near_tie_line(result.changes), *example_lines(result.changes)])))
    if report:
        typer.echo(f"\nreport: {report}/diff.md, diff.json")
