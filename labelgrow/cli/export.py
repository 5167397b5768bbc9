"""``labelgrow export``: ONNX and int8 files of a grown model, checked against it on gold data (labelgrow.exporting)."""

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
    ConfigOption,
    DecodeOption,
    DetectLanguagesOption,
    DetectThresholdOption,
    LabelMapOption,
    LangOption,
    MaxLengthOption,
    TrustRemoteCodeOption,
)
from labelgrow.configuration import Decoding


@app.command("export")
def export_command(
    model: Annotated[
        str,
        typer.Option(help="The model to export (a labelgrow output or any HF token classifier).", rich_help_panel=DATA),
    ],
    data: Annotated[
        list[str],
        typer.Option(
            help="Gold data (CoNLL, span JSON) the export is checked on, per language, against the PyTorch model. "
            "Repeatable.",
            rich_help_panel=DATA,
        ),
    ],
    output: Annotated[
        str, typer.Option(help="Directory for model.onnx, model_int8.onnx, export.json.", rich_help_panel=OUTPUT)
    ],
    quantize: Annotated[
        bool, typer.Option(help="Also write a dynamically quantised int8 model (onnxruntime).", rich_help_panel=OUTPUT)
    ] = True,
    tolerance: Annotated[
        float,
        typer.Option(
            help="F1 points an export may lose against the PyTorch model in any language, old or new labels; more "
            "fails the export (exit 2).",
            rich_help_panel=SCORING,
        ),
    ] = 1.0,
    opset: Annotated[int, typer.Option(help="ONNX opset.", rich_help_panel=OUTPUT)] = 17,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    decode: DecodeOption = Decoding.BIO,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an earlier export in --output.", rich_help_panel=OUTPUT)
    ] = False,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Export a model to ONNX (and int8), and check each file's F1 per language against the PyTorch model."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.exporting import ExportArguments, check_passed, export_table, run_export

    result = run_export(ExportArguments(**arguments, cpu=True))
    typer.echo(export_table(result))
    check_passed(result)
    typer.echo(f"\nexport check passed (tolerance {tolerance:g} F1 points): {output}/export.json")
