"""The command line's shared option vocabulary: each option that several commands take is declared once here, with
one help text and its help panel (light imports only: ``--help`` must stay instant)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelgrow.configuration import Decoding, TeacherPrecision

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

TeacherUnsureOption = Annotated[
    float,
    typer.Option(
        help="Count apart the teacher's entities on a word of which its own tag's probability is below this: a "
        "change there tips a near-tie of the teacher's (0: off).",
        rich_help_panel=SCORING,
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


# What every command that trains takes (extend, compress): labelgrow.configuration.TrainingOptions.
EpochsOption = Annotated[float, typer.Option(help="Training epochs.", rich_help_panel=TRAINING)]
MaxStepsOption = Annotated[
    int | None,
    typer.Option(help="Stop after this many optimizer steps (overrides --epochs).", rich_help_panel=TRAINING),
]
MinStepsOption = Annotated[
    int,
    typer.Option(
        help="Small data: raise --epochs until training takes at least this many optimizer steps (0: off; "
        "--max-steps wins).",
        rich_help_panel=TRAINING,
    ),
]
LearningRateOption = Annotated[
    float, typer.Option(help="Peak learning rate (linear decay, warm-up).", rich_help_panel=TRAINING)
]
HeadLearningRateOption = Annotated[
    float | None,
    typer.Option(
        help="Peak learning rate of the classifier (the new rows start far from their target).",
        rich_help_panel=TRAINING,
    ),
]
TrainBatchSizeOption = Annotated[int, typer.Option(help="Windows per device per step.", rich_help_panel=TRAINING)]
GradientAccumulationOption = Annotated[
    int, typer.Option(help="Steps to accumulate per update.", rich_help_panel=TRAINING)
]
WarmupRatioOption = Annotated[
    float, typer.Option(help="Fraction of steps for learning-rate warm-up, in [0, 1).", rich_help_panel=TRAINING)
]
WeightDecayOption = Annotated[float, typer.Option(help="AdamW weight decay.", rich_help_panel=TRAINING)]
FreezeEmbeddingsOption = Annotated[bool, typer.Option(help="Freeze the embeddings.", rich_help_panel=TRAINING)]
SeedOption = Annotated[int, typer.Option(help="Random seed.", rich_help_panel=TRAINING)]
EvalStepsOption = Annotated[
    int | None, typer.Option(help="Evaluate every N steps instead of every epoch.", rich_help_panel=TRAINING)
]
LoggingStepsOption = Annotated[int, typer.Option(help="Log the loss every N steps.", rich_help_panel=TRAINING)]
KdAlphaOption = Annotated[float, typer.Option(help="Weight of the distillation term.", rich_help_panel=DISTILLATION)]
KdTemperatureOption = Annotated[float, typer.Option(help="Distillation temperature.", rich_help_panel=DISTILLATION)]
TeacherPrecisionOption = Annotated[
    TeacherPrecision,
    typer.Option(
        help="auto: the training precision under --bf16/--fp16, else bf16 where the device runs it natively, "
        "else fp32.",
        rich_help_panel=DISTILLATION,
    ),
]
ShareFrozenLayersOption = Annotated[
    bool,
    typer.Option(
        help="The teacher reads the student's frozen embeddings/layers instead of computing and holding its own "
        "(checked exact at start; see docs/method.md).",
        rich_help_panel=DISTILLATION,
    ),
]
EvalBatchSizeOption = Annotated[int, typer.Option(help="Windows per device for validation.", rich_help_panel=HARDWARE)]
TrainBf16Option = Annotated[
    bool, typer.Option(help="bfloat16 mixed precision (teacher runs in bf16).", rich_help_panel=HARDWARE)
]
TrainFp16Option = Annotated[
    bool, typer.Option(help="float16 mixed precision (teacher runs in fp16).", rich_help_panel=HARDWARE)
]
OverwriteRunOption = Annotated[
    bool, typer.Option(help="Replace an existing labelgrow output directory.", rich_help_panel=OUTPUT)
]
ResumeOption = Annotated[
    bool, typer.Option(help="Continue an interrupted run from its last checkpoint.", rich_help_panel=OUTPUT)
]
SaveStepsOption = Annotated[
    int | None, typer.Option(help="Save a resumable checkpoint every N steps.", rich_help_panel=OUTPUT)
]
KeepCheckpointsOption = Annotated[
    bool, typer.Option(help="Keep output/checkpoints after training.", rich_help_panel=OUTPUT)
]
ReportToOption = Annotated[
    str,
    typer.Option(
        help="Trainer logging integrations, comma-separated (tensorboard, wandb, ...); none: off.",
        rich_help_panel=OUTPUT,
    ),
]
