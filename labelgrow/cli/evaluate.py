"""``labelgrow eval``: per-language x label scores, forgetting and the change report (labelgrow.evaluation)."""

from __future__ import annotations

from typing import Annotated

import typer

from labelgrow.cli.app import app
from labelgrow.cli.options import (
    DATA,
    OUTPUT,
    SCORING,
    AllowPickleOption,
    BatchSizeOption,
    Bf16Option,
    ConfigOption,
    CpuOption,
    DecodeOption,
    DetectLanguagesOption,
    DetectThresholdOption,
    Fp16Option,
    LabelMapOption,
    LangOption,
    MaxLengthOption,
    ParentOption,
    TeacherUnsureOption,
    TrustRemoteCodeOption,
)
from labelgrow.configuration import UNSURE_BELOW, Decoding, EvalArguments, ScoreMode


@app.command("eval")
def eval_command(
    model: Annotated[
        str,
        typer.Option(help="The model to score (a labelgrow output, any HF token classifier).", rich_help_panel=DATA),
    ],
    data: Annotated[
        list[str],
        typer.Option(
            help="Gold data: files, directories (language from sub-directory or file name), span-JSON. Repeatable.",
            rich_help_panel=DATA,
        ),
    ],
    teacher: Annotated[
        str | None,
        typer.Option(
            help="Also score this model (the base) and report forgetting on the old labels.", rich_help_panel=DATA
        ),
    ] = None,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    parent: ParentOption = None,
    mode: Annotated[
        ScoreMode,
        typer.Option(help="conlleval (seqeval's default) or strict (IOB2) entity matching.", rich_help_panel=SCORING),
    ] = ScoreMode.CONLLEVAL,
    unknown_as_o: Annotated[
        bool, typer.Option(help="Score gold tags the model does not know as O.", rich_help_panel=SCORING)
    ] = False,
    teacher_unsure_below: TeacherUnsureOption = UNSURE_BELOW,
    decode: DecodeOption = Decoding.BIO,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    bf16: Bf16Option = False,
    fp16: Fp16Option = False,
    cpu: CpuOption = False,
    report: Annotated[
        str | None,
        typer.Option(help="Directory for report.json, report.md and report.png.", rich_help_panel=OUTPUT),
    ] = None,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Score a model per language x label (old vs new labels), with forgetting against a teacher."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.evaluation import run_eval
    from labelgrow.report import (
        LABEL_HEADER,
        change_table,
        example_lines,
        label_rows,
        language_table,
        near_tie_line,
        text_table,
    )

    result = run_eval(EvalArguments(**arguments))
    typer.echo(language_table(result.scores, result.teacher_scores, result.parent_scores))
    typer.echo("")
    typer.echo(text_table(LABEL_HEADER, label_rows(result.to_dict())))
    if result.changes is not None:
        typer.echo(f"\nwhat became of the old entities ({result.changes['reference']}):")
        typer.echo(change_table(result.changes))
        typer.echo("\n".join(filter(None, [near_tie_line(result.changes), *example_lines(result.changes)])))
    if report:
        typer.echo(f"\nreport: {report}/report.md, report.json, report.png")
