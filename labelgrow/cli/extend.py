"""``labelgrow extend``: grow a token classifier with new labels (labelgrow.extension.extend does the work)."""

from __future__ import annotations

from typing import Annotated

import typer

from labelgrow.cli.app import app
from labelgrow.cli.options import (
    DATA,
    DISTILLATION,
    OUTPUT,
    TRAINING,
    AllowPickleOption,
    ConfigOption,
    CpuOption,
    DetectLanguagesOption,
    DetectThresholdOption,
    EpochsOption,
    EvalBatchSizeOption,
    EvalStepsOption,
    FreezeEmbeddingsOption,
    GradientAccumulationOption,
    HeadLearningRateOption,
    KdAlphaOption,
    KdTemperatureOption,
    KeepCheckpointsOption,
    LabelMapOption,
    LangOption,
    LearningRateOption,
    LoggingStepsOption,
    MaxLengthOption,
    MaxStepsOption,
    MinStepsOption,
    OverwriteRunOption,
    ParentOption,
    ReportToOption,
    ResumeOption,
    SaveStepsOption,
    SeedOption,
    ShareFrozenLayersOption,
    TeacherPrecisionOption,
    TrainBatchSizeOption,
    TrainBf16Option,
    TrainFp16Option,
    TrustRemoteCodeOption,
    WarmupRatioOption,
    WeightDecayOption,
)
from labelgrow.configuration import (  # light: no torch
    ExtendArguments,
    KdMode,
    KdTarget,
    NewRowsFrom,
    PseudoLabelScope,
    TeacherPrecision,
)


def _layers(value: str | int) -> str | int:
    """``--freeze-layers``: a number (from the command line or a recipe), a fraction or ``all``; ExtendArguments
    checks it."""
    return int(value) if str(value).isdigit() else value


@app.command("extend")
def extend_command(
    base: Annotated[
        str,
        typer.Option(
            help="Hub id or local directory of the NER model (or plain encoder) to grow.", rich_help_panel=DATA
        ),
    ],
    new_labels: Annotated[
        str, typer.Option(help="Comma-separated new entity types, e.g. FACILITY,PHONE.", rich_help_panel=DATA)
    ],
    train: Annotated[
        list[str],
        typer.Option(
            help="Training data: CoNLL/BIO file, span-JSON lines, directory "
            "(lang from sub-directory) or saved dataset. Repeatable.",
            rich_help_panel=DATA,
        ),
    ],
    validation: Annotated[
        list[str] | None,
        typer.Option(
            help="Validation data (repeatable); scored each epoch, selects the best checkpoint.",
            rich_help_panel=DATA,
        ),
    ] = None,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    parent: ParentOption = None,
    rehearsal: Annotated[
        list[str] | None,
        typer.Option(
            help="Text without the new types (one text per line, or CoNLL; tags ignored): trained with the "
            "teacher's distillation and 'not a new type' on every word. Repeatable.",
            rich_help_panel=DATA,
        ),
    ] = None,
    rehearsal_parents: Annotated[
        bool,
        typer.Option(
            help="On --rehearsal words the teacher tags with a --parent type (ORG for FACILITY=LOC,ORG), allow the "
            "new type too instead of 'not a new type': rehearsal text is not annotated for it.",
            rich_help_panel=DATA,
        ),
    ] = False,
    label_all_subwords: Annotated[
        bool, typer.Option(help="Label continuation sub-words too (B-X -> I-X).", rich_help_panel=DATA)
    ] = False,
    add_tokens: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Domain words, one per line (e.g. courier company names): each becomes one token whose embedding "
            "row starts as the mean of its old sub-words and trains even with frozen embeddings.",
            rich_help_panel=DATA,
        ),
    ] = None,
    epochs: EpochsOption = 3.0,
    max_steps: MaxStepsOption = None,
    min_steps: MinStepsOption = 100,
    learning_rate: LearningRateOption = 5e-5,
    head_learning_rate: HeadLearningRateOption = 3e-3,
    batch_size: TrainBatchSizeOption = 16,
    gradient_accumulation_steps: GradientAccumulationOption = 1,
    warmup_ratio: WarmupRatioOption = 0.1,
    weight_decay: WeightDecayOption = 0.01,
    freeze_layers: Annotated[
        str,
        typer.Option(
            parser=_layers,
            metavar="N|a/b|all",
            help="Freeze encoder layers 0..N-1 (a/b: that fraction of the encoder's layers, rounded, e.g. 1/3 is 4 "
            "of 12 and 8 of 24; all: the whole encoder).",
            rich_help_panel=TRAINING,
        ),
    ] = 2,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    freeze_old_rows: Annotated[
        bool,
        typer.Option(
            help="Baseline: keep the classifier's old rows fixed (with --freeze-layers = all layers, only the new "
            "rows learn).",
            rich_help_panel=TRAINING,
        ),
    ] = False,
    new_rows_from: Annotated[
        NewRowsFrom,
        typer.Option(
            help="Where the new classifier rows start: o (a copy of O's row, 4 below it) or parent (the mean of "
            "the --parent types' rows, 4 below: for a type carved out of an old one). Step 0 is the teacher's "
            "either way.",
            rich_help_panel=TRAINING,
        ),
    ] = NewRowsFrom.OUTSIDE,
    reset_head: Annotated[
        bool,
        typer.Option(
            help="Baseline only: start the classifier afresh for all labels (as ignore_mismatched_sizes "
            "does) instead of keeping the old rows.",
            rich_help_panel=TRAINING,
        ),
    ] = False,
    seed: SeedOption = 42,
    eval_steps: EvalStepsOption = None,
    logging_steps: LoggingStepsOption = 10,
    kd: Annotated[
        KdMode, typer.Option(help="The loss (see docs/method.md).", rich_help_panel=DISTILLATION)
    ] = KdMode.O_AWARE,
    kd_alpha: KdAlphaOption = 0.5,
    kd_temperature: KdTemperatureOption = 2.0,
    kd_target: Annotated[
        KdTarget,
        typer.Option(
            help="old-slice: KD on the student's old logits renormalised; unbiased: the new labels' probability "
            "counts as O, so a new label may not take an old label's probability (MiB; see docs/method.md).",
            rich_help_panel=DISTILLATION,
        ),
    ] = KdTarget.OLD_SLICE,
    pseudo_label_threshold: Annotated[
        float,
        typer.Option(
            help="o-aware: train gold-O words towards the teacher's old label where its probability is at least "
            "this (0: off).",
            rich_help_panel=DISTILLATION,
        ),
    ] = 0.0,
    pseudo_label_scope: Annotated[
        PseudoLabelScope,
        typer.Option(
            help="Where pseudo-labels apply: all gold-O words, or only --rehearsal text (annotated O keeps 'not a "
            "new type'; with --rehearsal-parents the child type is allowed too).",
            rich_help_panel=DISTILLATION,
        ),
    ] = PseudoLabelScope.ALL,
    hidden_kd: Annotated[
        float,
        typer.Option(
            help="Weight of a feature leash: the student's last encoder layer pulled towards the teacher's (1 - "
            "cosine) on the words KD covers (gold O), not on the new types' words; 0 = off. Needs the live "
            "teacher (not --teacher-cache).",
            rich_help_panel=DISTILLATION,
        ),
    ] = 0.0,
    teacher_cache: Annotated[
        bool,
        typer.Option(
            help="Compute the teacher's logits once (stored float16 in OUTPUT/teacher-cache) and train "
            "without the teacher in memory.",
            rich_help_panel=DISTILLATION,
        ),
    ] = False,
    teacher_precision: TeacherPrecisionOption = TeacherPrecision.AUTO,
    share_frozen_layers: ShareFrozenLayersOption = True,
    max_length: MaxLengthOption = None,
    eval_batch_size: EvalBatchSizeOption = 32,
    bf16: TrainBf16Option = False,
    fp16: TrainFp16Option = False,
    cpu: CpuOption = False,
    output: Annotated[str, typer.Option(help="Directory for the grown checkpoint.", rich_help_panel=OUTPUT)] = ...,  # type: ignore[assignment]  (required; declared here so that its panel comes last)
    overwrite: OverwriteRunOption = False,
    resume: ResumeOption = False,
    save_steps: SaveStepsOption = None,
    keep_checkpoints: KeepCheckpointsOption = False,
    report_to: ReportToOption = "none",
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Grow a token classifier with new labels: append B-X/I-X rows, keep the old ones, train with KD."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.extension import extend
    from labelgrow.report import language_table

    arguments["validation"] = validation or []
    arguments["rehearsal"] = rehearsal or []
    result = extend(ExtendArguments(**arguments))
    if result.validation_report is not None:
        typer.echo(f"\nvalidation, entity-level F1 (best checkpoint) -> {result.output}")
        typer.echo(language_table(result.validation_report))
    else:
        typer.echo(f"wrote {result.output}")
