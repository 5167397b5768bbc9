"""``labelgrow annotate``: pre-annotated tasks for Label Studio / doccano, most useful first (labelgrow.annotating)."""

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
    LangOption,
    MaxLengthOption,
    TrustRemoteCodeOption,
)
from labelgrow.configuration import AnnotationFormat, Decoding, Selection


@app.command("annotate")
def annotate_command(
    model: Annotated[
        str,
        typer.Option(
            help="The model whose entities pre-annotate the text (with --teacher: its new types only).",
            rich_help_panel=DATA,
        ),
    ],
    input: Annotated[
        list[str],
        typer.Option(
            help='Raw text: one text per line, JSON lines with a "text" (and "lang") field, or CoNLL words. '
            "Repeatable.",
            rich_help_panel=DATA,
        ),
    ],
    teacher: Annotated[
        str | None,
        typer.Option(help="The model before growing: the old entities come from it.", rich_help_panel=DATA),
    ] = None,
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    select: Annotated[
        Selection,
        typer.Option(
            help="Put first the texts where the model is least sure (uncertain) or where it changes the teacher's "
            "entities most (disagree; needs --teacher); none keeps the input order.",
            rich_help_panel=SCORING,
        ),
    ] = Selection.NONE,
    top: Annotated[
        int | None, typer.Option(help="Write only the first N texts of that order.", rich_help_panel=SCORING)
    ] = None,
    decode: DecodeOption = Decoding.BIO,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    bf16: Bf16Option = False,
    fp16: Fp16Option = False,
    cpu: CpuOption = False,
    output: Annotated[
        str,
        typer.Option(help="Directory for the tasks (and label_config.xml for Label Studio).", rich_help_panel=OUTPUT),
    ] = ...,  # type: ignore[assignment]  (required; declared here so that its panel comes last)
    format: Annotated[
        AnnotationFormat,
        typer.Option(
            help="label-studio: JSON tasks with predictions; doccano: JSONL; conll; spans: labelgrow's span-JSON.",
            rich_help_panel=OUTPUT,
        ),
    ] = AnnotationFormat.LABEL_STUDIO,
    overwrite: Annotated[
        bool, typer.Option(help="Replace the tasks in a non-empty --output.", rich_help_panel=OUTPUT)
    ] = False,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Pre-annotate raw text for an annotation tool (old entities included), the most useful texts first."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.annotating import AnnotateArguments, run_annotate

    result = run_annotate(AnnotateArguments(**arguments))
    found = ", ".join(f"{t} {n}" for t, n in sorted(result.entities.items())) or "none"
    typer.echo(f"{result.written} of {result.texts} texts ({result.selected_by}), entities: {found}")
    for path in result.files:
        typer.echo(f"  {path}")
