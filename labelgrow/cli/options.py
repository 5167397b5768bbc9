"""The command line's shared option vocabulary: each option that several commands take is declared once here, with
one help text and its help panel (light imports only: ``--help`` must stay instant)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelgrow.configuration import Decoding

# The help panels every command sorts its options into.
DATA = "Data"
TRAINING = "Training"
DISTILLATION = "Distillation (the teacher)"
SCORING = "Scoring and decoding"
HARDWARE = "Hardware and batching"
OUTPUT = "Output and safety"


def _config_callback(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """``--config FILE``: its values become the defaults of every option; explicit options still win."""
    if value is None:
        return value
    from labelgrow.configuration import read_config_file
    from labelgrow.errors import LabelgrowError

    params = {p.name: p for p in ctx.command.params if p.name}
    try:
        config = read_config_file(value, set(params) - {"config"})
    except LabelgrowError as exc:
        raise typer.BadParameter(str(exc)) from None
    for key, item in config.items():
        if isinstance(item, list) and not params[key].multiple:
            config[key] = ",".join(map(str, item))
    ctx.default_map = {**(ctx.default_map or {}), **config}
    return value


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="YAML file of option values (e.g. recipes/demo.yaml); options given on the command line override it.",
        is_eager=True,
        callback=_config_callback,
        rich_help_panel=OUTPUT,
    ),
]

ParentOption = Annotated[
    list[str] | None,
    typer.Option(
        help="NEW=OLD[,OLD]: the old types a new type refines (e.g. FACILITY=LOC,ORG); retention is then also scored "
        "with such refinements counted as kept. Repeatable.",
        rich_help_panel=DATA,
    ),
]

DecodeOption = Annotated[
    Decoding,
    typer.Option(
        help="bio: the most probable valid BIO sequence (a span takes one type); argmax: each word's top label, "
        "as transformers.pipeline does.",
        rich_help_panel=SCORING,
    ),
]


BatchSizeOption = Annotated[int, typer.Option(help="Windows per batch (length-sorted).", rich_help_panel=HARDWARE)]
MaxLengthOption = Annotated[
    int | None,
    typer.Option(
        help="Sub-words per window (default: the model's maximum); longer sentences are windowed.",
        rich_help_panel=HARDWARE,
    ),
]
Bf16Option = Annotated[bool, typer.Option(help="bfloat16 (mixed) precision.", rich_help_panel=HARDWARE)]
Fp16Option = Annotated[bool, typer.Option(help="float16 (mixed) precision.", rich_help_panel=HARDWARE)]
CpuOption = Annotated[bool, typer.Option(help="Run on the CPU even if a GPU is available.", rich_help_panel=HARDWARE)]
TrustRemoteCodeOption = Annotated[
    bool, typer.Option(help="Allow model code from the hub (off: never run it).", rich_help_panel=OUTPUT)
]
AllowPickleOption = Annotated[
    bool, typer.Option(help="Allow loading pickle (.bin) weights (safetensors only).", rich_help_panel=OUTPUT)
]
LabelMapOption = Annotated[
    str | None,
    typer.Option(
        help="TSV 'source<TAB>target' mapping data tags or types (target O drops them).", rich_help_panel=DATA
    ),
]
LangOption = Annotated[
    str | None,
    typer.Option(
        help="Language of every sentence. Default (auto): from '# lang = xx', a record's lang field, the directory "
        "or the file name, else detected per sentence (fastText lid.176); und: never detected.",
        rich_help_panel=DATA,
    ),
]
DetectLanguagesOption = Annotated[
    str | None,
    typer.Option(
        metavar="CODE,CODE",
        help="The languages detection may choose among, e.g. en,zh (more accurate on short texts; default: any).",
        rich_help_panel=DATA,
    ),
]
DetectThresholdOption = Annotated[
    float,
    typer.Option(help="A sentence whose detected language is less likely than this stays und.", rich_help_panel=DATA),
]
