"""The ``labelgrow`` command line: thin Typer commands over importable functions.

Heavy libraries (torch, transformers) are imported inside the commands so that ``--help`` is instant.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from labelgrow.configuration import KD_MODES, TEACHER_PRECISIONS, EvalArguments, ExtendArguments  # light: no torch
from labelgrow.options import (
    AllowPickleOption,
    BatchSizeOption,
    Bf16Option,
    ConfigOption,
    CpuOption,
    DecodeOption,
    Fp16Option,
    LabelMapOption,
    LangOption,
    MaxLengthOption,
    ParentOption,
    TrustRemoteCodeOption,
)

app = typer.Typer(
    name="labelgrow",
    help="Teach a multilingual NER model new entity types without forgetting the old ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _layers(value: str | int) -> str | int:
    """``--freeze-layers``: a number (from the command line or a recipe) or ``all``; ExtendArguments checks it."""
    return int(value) if str(value).isdigit() else value


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # labelgrow sends nothing anywhere
    if quiet:  # no progress bars either: labelgrow's, the Trainer's and the Hub's read these
        os.environ["TQDM_DISABLE"] = "1"
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    logging.basicConfig(
        format="labelgrow: %(message)s", level=logging.WARNING if quiet else logging.INFO, stream=sys.stderr
    )
    logging.getLogger("labelgrow").setLevel(logging.WARNING if quiet else logging.INFO)


@app.command("extend")
def extend_command(
    base: Annotated[str, typer.Option(help="Hub id or local directory of the NER model (or plain encoder) to grow.")],
    new_labels: Annotated[str, typer.Option(help="Comma-separated new entity types, e.g. FACILITY,PHONE.")],
    train: Annotated[
        list[str],
        typer.Option(
            help="Training data: CoNLL/BIO file, span-JSON lines, directory "
            "(lang from sub-directory) or saved dataset. Repeatable."
        ),
    ],
    output: Annotated[str, typer.Option(help="Directory for the grown checkpoint.")],
    validation: Annotated[
        list[str] | None,
        typer.Option(help="Validation data (repeatable); scored each epoch, selects the best checkpoint."),
    ] = None,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    parent: ParentOption = None,
    epochs: Annotated[float, typer.Option(help="Training epochs.")] = 3.0,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many optimizer steps (overrides --epochs).")
    ] = None,
    learning_rate: Annotated[float, typer.Option(help="Peak learning rate (linear decay, warm-up).")] = 5e-5,
    head_learning_rate: Annotated[
        float | None,
        typer.Option(help="Peak learning rate of the classifier (the new rows start far from their target)."),
    ] = 3e-3,
    batch_size: Annotated[int, typer.Option(help="Windows per device per step.")] = 16,
    gradient_accumulation_steps: Annotated[int, typer.Option(help="Steps to accumulate per update.")] = 1,
    warmup_ratio: Annotated[float, typer.Option(help="Fraction of steps for learning-rate warm-up.")] = 0.1,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay.")] = 0.01,
    freeze_layers: Annotated[
        str,
        typer.Option(
            parser=_layers,
            metavar="N|all",
            help="Freeze encoder layers 0..N-1 (all: the whole encoder).",
        ),
    ] = 2,
    freeze_embeddings: Annotated[bool, typer.Option(help="Freeze the embeddings.")] = True,
    freeze_old_rows: Annotated[
        bool,
        typer.Option(
            help="Baseline: keep the classifier's old rows fixed (with --freeze-layers = all layers, only the new "
            "rows learn)."
        ),
    ] = False,
    kd: Annotated[str, typer.Option(help=f"Loss: {', '.join(KD_MODES)} (see docs/method.md).")] = "o-aware",
    kd_alpha: Annotated[float, typer.Option(help="Weight of the distillation term.")] = 0.5,
    kd_temperature: Annotated[float, typer.Option(help="Distillation temperature.")] = 2.0,
    kd_target: Annotated[
        str,
        typer.Option(
            help="old-slice: KD on the student's old logits renormalised; unbiased: the new labels' probability "
            "counts as O, so a new label may not take an old label's probability (MiB; see docs/method.md)."
        ),
    ] = "old-slice",
    rehearsal: Annotated[
        list[str] | None,
        typer.Option(
            help="Text without the new types (one text per line, or CoNLL; tags ignored): trained with the "
            "teacher's distillation and 'not a new type' on every word. Repeatable."
        ),
    ] = None,
    pseudo_label_threshold: Annotated[
        float,
        typer.Option(
            help="o-aware: train gold-O words towards the teacher's old label where its probability is at least "
            "this (0: off)."
        ),
    ] = 0.0,
    max_length: MaxLengthOption = None,
    label_all_subwords: Annotated[bool, typer.Option(help="Label continuation sub-words too (B-X -> I-X).")] = False,
    teacher_cache: Annotated[
        bool,
        typer.Option(
            help="Compute the teacher's logits once (stored float16 in OUTPUT/teacher-cache) and train "
            "without the teacher in memory."
        ),
    ] = False,
    teacher_precision: Annotated[
        str,
        typer.Option(
            help=f"Teacher precision: {', '.join(TEACHER_PRECISIONS)} (auto: the training precision under "
            "--bf16/--fp16, else bf16 where the device runs it natively, else fp32)."
        ),
    ] = "auto",
    share_frozen_layers: Annotated[
        bool,
        typer.Option(
            help="The teacher reads the student's frozen embeddings/layers instead of computing and holding its own "
            "(checked exact at start; see docs/method.md)."
        ),
    ] = True,
    reset_head: Annotated[
        bool,
        typer.Option(
            help="Baseline only: start the classifier afresh for all labels (as ignore_mismatched_sizes "
            "does) instead of keeping the old rows."
        ),
    ] = False,
    eval_steps: Annotated[int | None, typer.Option(help="Evaluate every N steps instead of every epoch.")] = None,
    save_steps: Annotated[int | None, typer.Option(help="Save a resumable checkpoint every N steps.")] = None,
    logging_steps: Annotated[int, typer.Option(help="Log the loss every N steps.")] = 10,
    eval_batch_size: Annotated[int, typer.Option(help="Windows per device for validation.")] = 32,
    bf16: Annotated[bool, typer.Option(help="bfloat16 mixed precision (teacher runs in bf16).")] = False,
    fp16: Annotated[bool, typer.Option(help="float16 mixed precision (teacher runs in fp16).")] = False,
    cpu: CpuOption = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing labelgrow output directory.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run from its last checkpoint.")] = False,
    keep_checkpoints: Annotated[bool, typer.Option(help="Keep output/checkpoints after training.")] = False,
    report_to: Annotated[
        str,
        typer.Option(help="Trainer logging integrations, comma-separated (tensorboard, wandb, ...); none: off."),
    ] = "none",
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


@app.command("eval")
def eval_command(
    model: Annotated[str, typer.Option(help="The model to score (a labelgrow output, any HF token classifier).")],
    data: Annotated[
        list[str],
        typer.Option(
            help="Gold data: files, directories (language from sub-directory or file name), span-JSON. Repeatable."
        ),
    ],
    teacher: Annotated[
        str | None, typer.Option(help="Also score this model (the base) and report forgetting on the old labels.")
    ] = None,
    report: Annotated[str | None, typer.Option(help="Directory for report.json, report.md and report.png.")] = None,
    label_map: LabelMapOption = None,
    lang: LangOption = None,
    mode: Annotated[str, typer.Option(help="conlleval (default) or strict (IOB2) entity matching.")] = "conlleval",
    unknown_as_o: Annotated[bool, typer.Option(help="Score gold tags the model does not know as O.")] = False,
    parent: ParentOption = None,
    decode: DecodeOption = "bio",
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    bf16: Bf16Option = False,
    fp16: Fp16Option = False,
    cpu: CpuOption = False,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Score a model per language x label (old vs new labels), with forgetting against a teacher."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.evaluation import run_eval
    from labelgrow.report import LABEL_HEADER, change_table, example_lines, label_rows, language_table, text_table

    result = run_eval(EvalArguments(**arguments))
    typer.echo(language_table(result["scores"], result.get("teacher_scores"), result.get("parent_scores")))
    typer.echo("")
    typer.echo(text_table(LABEL_HEADER, label_rows(result)))
    if "changes" in result:
        typer.echo(f"\nwhat became of the old entities ({result['changes']['reference']}):")
        typer.echo(change_table(result["changes"]))
        typer.echo("\n".join(example_lines(result["changes"])))
    if report:
        typer.echo(f"\nreport: {report}/report.md, report.json, report.png")


@app.command("predict")
def predict_command(
    model: Annotated[str, typer.Option(help="A token-classification checkpoint (directory or hub id).")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to tag.")] = None,
    input: Annotated[
        str | None, typer.Option(help="File: one text per line, or CoNLL words with --format conll.")
    ] = None,
    format: Annotated[str, typer.Option(help="Input format of --input: text or conll.")] = "text",
    output: Annotated[str | None, typer.Option(help="Write JSON lines here instead of to stdout.")] = None,
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    cpu: CpuOption = False,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    decode: DecodeOption = "bio",
) -> None:
    """Tag raw text (entities with character offsets) or CoNLL words (BIO tags); one JSON line per input."""
    arguments = {k: v for k, v in locals().items() if k != "output"}
    from labelgrow.prediction import PredictArguments, run_predict, write_jsonl

    args = PredictArguments(**arguments)
    rows = run_predict(
        args.model,
        args.texts,
        args.input,
        args.format,
        args.batch_size,
        args.max_length,
        args.cpu,
        args.trust_remote_code,
        args.allow_pickle,
        args.decode,
    )
    text = write_jsonl(rows, Path(output) if output else None)
    if text is not None:
        typer.echo(text, nl=False)


@app.command("diff")
def diff_command(
    teacher: Annotated[str, typer.Option(help="The model before growing (the teacher).")],
    model: Annotated[str, typer.Option(help="The grown model.")],
    data: Annotated[
        list[str],
        typer.Option(help="Text to compare on: one text per line, or CoNLL words (tags ignored). Repeatable."),
    ],
    format: Annotated[
        str, typer.Option(help="auto (CoNLL when every line is a word, optionally with a BIO tag), text or conll.")
    ] = "auto",
    lang: LangOption = None,
    report: Annotated[str | None, typer.Option(help="Directory for diff.json and diff.md.")] = None,
    examples: Annotated[int, typer.Option(help="Examples of each change per language.")] = 3,
    decode: DecodeOption = "bio",
    batch_size: BatchSizeOption = 32,
    max_length: MaxLengthOption = None,
    bf16: Bf16Option = False,
    fp16: Fp16Option = False,
    cpu: CpuOption = False,
    trust_remote_code: TrustRemoteCodeOption = False,
    allow_pickle: AllowPickleOption = False,
    config: ConfigOption = None,
) -> None:
    """Without gold: what the grown model did with each of the teacher's old entities (kept, refined, lost...)."""
    arguments = {k: v for k, v in locals().items() if k != "config"}
    from labelgrow.diffing import DiffArguments, run_diff
    from labelgrow.report import change_table, example_lines

    result = run_diff(DiffArguments(**arguments))
    typer.echo(f"what became of the teacher's entities on {result['data']['sentences']} texts:")
    typer.echo(change_table(result["changes"]))
    typer.echo("\n".join(example_lines(result["changes"])))
    if report:
        typer.echo(f"\nreport: {report}/diff.md, diff.json")


def main() -> None:
    """Entry point: user errors become one line and exit code 2 (tracebacks only with --debug)."""
    from labelgrow.errors import LabelgrowError

    try:
        app()
    except LabelgrowError as exc:
        if "--debug" in sys.argv:
            raise
        typer.echo(f"labelgrow: error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
