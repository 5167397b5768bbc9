"""``labelgrow adapt``: masked-LM training of a token classifier's encoder on in-domain text, its tags kept by
distillation and re-checked (labelgrow.adaptation does the work)."""

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
    DecodeOption,
    DetectLanguagesOption,
    DetectThresholdOption,
    EpochsOption,
    EvalBatchSizeOption,
    FreezeEmbeddingsOption,
    GradientAccumulationOption,
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
    TeacherPrecisionOption,
    TrainBatchSizeOption,
    TrainBf16Option,
    TrainFp16Option,
    TrustRemoteCodeOption,
    WarmupRatioOption,
    WeightDecayOption,
)
from labelgrow.configuration import Decoding, TeacherPrecision


@app.command("adapt")
def adapt_command(
    model: Annotated[
        str,
        typer.Option(
            help="The token classifier to adapt (the teacher you will extend: a labelgrow output or any HF NER "
            "checkpoint).",
            rich_help_panel=DATA,
        ),
    ],
    raw: Annotated[
        list[str],
        typer.Option(
            help="In-domain text: one text per line, or CoNLL words (tags ignored). Repeatable.", rich_help_panel=DATA
        ),
    ],
    eval_data: Annotated[
        list[str] | None,
        typer.Option(
            help="Gold data on which the original and the adapted model are scored side by side. Repeatable.",
            rich_help_panel=DATA,
        ),
    ] = None,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    detect_languages: DetectLanguagesOption = None,
    detect_threshold: DetectThresholdOption = 0.5,
    check_sentences: Annotated[
        int,
        typer.Option(
            help="Raw sentences held out of training, on which every entity of the original is followed into the "
            "adapted model (at most a fifth of --raw; 0: no re-check).",
            rich_help_panel=DATA,
        ),
    ] = 500,
    mlm_probability: Annotated[
        float,
        typer.Option(help="Share of words masked (every sub-word of a word together).", rich_help_panel=TRAINING),
    ] = 0.15,
    mlm_head: Annotated[
        str | None,
        typer.Option(
            help="A masked-LM checkpoint of the same vocabulary to start the LM head from (e.g. xlm-roberta-large "
            "for an XLM-R large NER model); default: a new head, warmed up alone first.",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    head_warmup_steps: Annotated[
        int,
        typer.Option(help="Steps that train the LM head alone before the encoder moves.", rich_help_panel=TRAINING),
    ] = 100,
    freeze_layers: Annotated[
        int, typer.Option(help="Encoder layers 0..N-1 kept frozen.", rich_help_panel=TRAINING)
    ] = 0,
    epochs: EpochsOption = 1.0,
    max_steps: MaxStepsOption = None,
    min_steps: MinStepsOption = 300,
    learning_rate: LearningRateOption = 5e-5,
    head_learning_rate: Annotated[
        float | None,
        typer.Option(help="Peak learning rate of the new LM head (None: --learning-rate).", rich_help_panel=TRAINING),
    ] = 1e-3,
    batch_size: TrainBatchSizeOption = 16,
    gradient_accumulation_steps: GradientAccumulationOption = 1,
    warmup_ratio: WarmupRatioOption = 0.1,
    weight_decay: WeightDecayOption = 0.01,
    freeze_embeddings: FreezeEmbeddingsOption = True,
    seed: SeedOption = 42,
    logging_steps: LoggingStepsOption = 10,
    ner_kd: Annotated[
        float,
        typer.Option(
            help="Weight of distillation from the original model's tag distribution at every position (keeps the "
            "NER head valid); 0: masked-LM alone.",
            rich_help_panel=DISTILLATION,
        ),
    ] = 1.0,
    kd_temperature: KdTemperatureOption = 2.0,
    teacher_precision: TeacherPrecisionOption = TeacherPrecision.AUTO,
    decode: DecodeOption = Decoding.BIO,
    max_length: MaxLengthOption = None,
    eval_batch_size: EvalBatchSizeOption = 32,
    bf16: TrainBf16Option = False,
    fp16: TrainFp16Option = False,
    cpu: CpuOption = False,
    output: Annotated[str, typer.Option(help="Directory for the adapted checkpoint.", rich_help_panel=OUTPUT)] = ...,  # type: ignore[assignment]  (required; its panel comes last)
    overwrite: OverwriteRunOption = False,
    resume: ResumeOption = False,
    save_steps: SaveStepsOption = None,
    keep_checkpoints: KeepCheckpointsOption = False,
    report_to: ReportToOption = "none",
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Adapt a NER model's encoder to your text (masked-LM), keeping its tags; then extend the adapted model."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.adaptation import AdaptArguments, adapt, check_lines

    arguments["eval_data"] = arguments["eval_data"] or []
    result = adapt(AdaptArguments(**arguments))
    typer.echo(f"wrote {result.output} (the re-check: {result.output}/adapt.json)")
    for line in check_lines(result.check):
        typer.echo(line)
