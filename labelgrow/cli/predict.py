"""``labelgrow predict``: entities with character offsets, one JSON line per input (labelgrow.prediction)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelgrow.cli.app import app
from labelgrow.cli.options import (
    DATA,
    OUTPUT,
    AllowPickleOption,
    BatchSizeOption,
    Bf16Option,
    CpuOption,
    DecodeOption,
    Fp16Option,
    MaxLengthOption,
    TrustRemoteCodeOption,
)
from labelgrow.configuration import Decoding, InputFormat


@app.command("predict")
def predict_command(
    model: Annotated[
        str,
        typer.Option(help="A token-classification checkpoint (directory or hub id).", rich_help_panel=DATA),
    ],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to tag.")] = None,
    input: Annotated[
        str | None,
        typer.Option(help="File: one text per line, or CoNLL words with --format conll.", rich_help_panel=DATA),
    ] = None,
    format: Annotated[InputFormat, typer.Option(help="What --input holds.", rich_help_panel=DATA)] = InputFormat.TEXT,
    decode: DecodeOption = Decoding.BIO,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    bf16: Bf16Option = False,
    fp16: Fp16Option = False,
    cpu: CpuOption = False,
    output: Annotated[
        str | None, typer.Option(help="Write JSON lines here instead of to stdout.", rich_help_panel=OUTPUT)
    ] = None,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
) -> None:
    """Tag raw text (entities with character offsets) or CoNLL words (BIO tags); one JSON line per input."""
    arguments = {k: v for k, v in locals().items() if k != "output"}
    from labelgrow.prediction import PredictArguments, run_predict, write_jsonl

    rows = run_predict(PredictArguments(**arguments))
    text = write_jsonl(rows, Path(output) if output else None)
    if text is not None:
        typer.echo(text, nl=False)
