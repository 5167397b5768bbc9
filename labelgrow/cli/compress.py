"""``labelgrow compress``: a student with fewer encoder layers, distilled from the grown model
(labelgrow.compression does the work)."""

from __future__ import annotations

from typing import Annotated

import typer

from labelgrow.cli.app import app
from labelgrow.cli.options import (
    DATA,
    OUTPUT,
    TRAINING,
    AllowPickleOption,
    ConfigOption,
    CpuOption,
    DecodeOption,
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
from labelgrow.configuration import Decoding, TeacherPrecision


@app.command("compress")
def compress_command(
    model: Annotated[
        str,
        typer.Option(
            help="The grown model to compress (a labelgrow output or any HF token classifier).", rich_help_panel=DATA
        ),
    ],
    train: Annotated[
        list[str] | None,
        typer.Option(
            help="Gold data (CoNLL, span JSON; any subset of the model's types annotated: gold O gets no CE, only "
            "the full model's distribution). Repeatable.",
            rich_help_panel=DATA,
        ),
    ] = None,
    raw: Annotated[
        list[str] | None,
        typer.Option(
            help="Unlabelled text (one per line, or CoNLL with tags ignored), learned by distillation alone. "
            "Repeatable.",
            rich_help_panel=DATA,
        ),
    ] = None,
    validation: Annotated[
        list[str] | None,
        typer.Option(help="Validation data; selects the best checkpoint. Repeatable.", rich_help_panel=DATA),
    ] = None,
    eval_data: Annotated[
        list[str] | None,
        typer.Option(
            help="Gold data on which the full model and the student are scored side by side (F1 per language x "
            "old/new labels, size, words/s) into OUTPUT/compress.json. Repeatable.",
            rich_help_panel=DATA,
        ),
    ] = None,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    layers: Annotated[
        int | None,
        typer.Option(help="Encoder layers the student keeps (default 6).", rich_help_panel=TRAINING),
    ] = None,
    select: Annotated[
        str,
        typer.Option(
            help="Which layers: every-other (evenly spread, the last kept), first, last, or indices such as "
            "0,2,4,6,8,11.",
            rich_help_panel=TRAINING,
        ),
    ] = "every-other",
    distill: Annotated[
        bool,
        typer.Option(
            help="Distil from the full model; --no-distill trains the small architecture on the gold alone (the "
            "baseline).",
            rich_help_panel=TRAINING,
        ),
    ] = True,
    hidden_kd: Annotated[
        float,
        typer.Option(
            help="Weight of hidden-state distillation: each kept layer's output pulled towards the output of the "
            "full model's layer it was copied from (1 - cosine, every word); 0 = off.",
            rich_help_panel=TRAINING,
        ),
    ] = 0.0,
    epochs: EpochsOption = 3.0,
    max_steps: MaxStepsOption = None,
    min_steps: MinStepsOption = 100,
    learning_rate: LearningRateOption = 1e-4,
    head_learning_rate: HeadLearningRateOption = None,
    batch_size: TrainBatchSizeOption = 16,
    gradient_accumulation_steps: GradientAccumulationOption = 1,
    warmup_ratio: WarmupRatioOption = 0.1,
    weight_decay: WeightDecayOption = 0.01,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    seed: SeedOption = 42,
    eval_steps: EvalStepsOption = None,
    logging_steps: LoggingStepsOption = 10,
    kd_alpha: KdAlphaOption = 0.5,
    kd_temperature: KdTemperatureOption = 2.0,
    teacher_precision: TeacherPrecisionOption = TeacherPrecision.AUTO,
    share_frozen_layers: ShareFrozenLayersOption = True,
    decode: DecodeOption = Decoding.BIO,
    max_length: MaxLengthOption = None,
    eval_batch_size: EvalBatchSizeOption = 32,
    bf16: TrainBf16Option = False,
    fp16: TrainFp16Option = False,
    cpu: CpuOption = False,
    output: Annotated[str, typer.Option(help="Directory for the small checkpoint.", rich_help_panel=OUTPUT)] = ...,  # type: ignore[assignment]  (required; its panel comes last)
    overwrite: OverwriteRunOption = False,
    resume: ResumeOption = False,
    save_steps: SaveStepsOption = None,
    keep_checkpoints: KeepCheckpointsOption = False,
    report_to: ReportToOption = "none",
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Compress a grown model: fewer encoder layers, distilled from it on all labels; compare both with --eval-data."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.compression import CompressArguments, comparison_table, compress

    for key in ("train", "raw", "validation", "eval_data"):
        arguments[key] = arguments[key] or []
    result = compress(CompressArguments(**arguments))
    typer.echo(f"wrote {result.output} (encoder layers {','.join(map(str, result.layers))})")
    if result.comparison is not None:
        typer.echo(comparison_table(result.comparison))
