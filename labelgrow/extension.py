"""``extend``: grow a token classifier with new labels, end to end (load, check data, train, write)."""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from labelgrow.configuration import ExtendArguments, TrainingOptions, call_arguments
from labelgrow.errors import LabelgrowError
from labelgrow.labels import LabelSet, check_known_tags, check_parents, entity_types, parse_parents

logger = logging.getLogger(__name__)
MAX_CHECKPOINTS = 4  # resume checkpoints (and validations) in a run of short epochs: checkpoint_every
SHORT_EPOCH = 20  # optimizer steps; longer epochs keep a checkpoint (and validation) each (the demo's: 23)


@dataclass
class ExtendResult:
    output: Path
    labels: list[str]
    metrics: dict[str, float]
    validation_report: dict | None


def extend(args: ExtendArguments | None = None, /, *, callbacks: list | None = None, **kwargs: Any) -> ExtendResult:
    """Grow ``args.base`` with ``args.new_labels`` and write an ordinary HF checkpoint to ``args.output``.

    Callable as ``extend(ExtendArguments(...))`` or ``extend(base=..., new_labels=..., train=..., output=...)``;
    ``callbacks`` (transformers ``TrainerCallback`` objects) are handed to the Trainer.
    Only the main process writes files; under ``accelerate launch`` every process runs this same function.
    """
    args = call_arguments(ExtendArguments, args, kwargs)
    return run_into_output(args, lambda state, output: _extend(args, state, output, callbacks))


def run_into_output(args, body):
    """Run a training command's ``body(state, output)`` (extend, compress) on every process: the main process
    prepares ``args.output`` first (refusing a non-empty directory unless ``--overwrite``/``--resume``), the others
    log warnings only, transformers' chatter is quieted, and an output directory this run created is removed
    again if it fails before labelgrow.json is written."""
    from accelerate import PartialState
    from transformers import set_seed

    from labelgrow.outputs import prepare_output, remove_if_unfinished
    from labelgrow.terminal import quiet_transformers

    # every random draw a command makes before the Trainer seeds (a head made afresh for a base without one,
    # --reset-head, adapt's new LM head) comes from the global generator: unseeded, one command and --seed trained
    # a different model each run
    set_seed(args.seed)
    state = PartialState(cpu=args.cpu)
    if not state.is_main_process:
        logging.getLogger("labelgrow").setLevel(logging.WARNING)
    output = Path(args.output)
    created = not output.exists()
    if state.is_main_process:
        prepare_output(output, args.overwrite, args.resume)
    state.wait_for_everyone()
    try:
        with quiet_transformers():
            return body(state, output)
    except BaseException:
        if created and state.is_main_process:
            remove_if_unfinished(output)
        raise


def _extend(args: ExtendArguments, state, output: Path, callbacks: list | None = None) -> ExtendResult:
    """The phases, in order: plan (no weights), build the models, train, write."""
    started = time.time()
    planned = plan(args)
    models = build_models(args, planned, state, output)
    trainer, train_output, metrics, report = train(args, planned, models, state, output, callbacks)
    loss = loss_record(args, models.loss_config)
    write(args, planned, models, loss, trainer, train_output, metrics, report, state, output, started)
    return ExtendResult(output, list(planned.labels.labels), metrics, report)


@dataclass
class Plan:
    """Everything decided before a weight loads: the labels, the tokenizer, the data (checked)."""

    config: Any
    labels: LabelSet
    tokenizer: Any
    parents: dict[str, list[str]]
    train: Any  # data.Corpus: the training sentences, rehearsal text included
    validation: Any | None
    rehearsal_sentences: int = 0  # the last this many training sentences are --rehearsal text
    domain: Any | None = None  # vocabulary.DomainWords: the --add-tokens words, already in the tokenizer


def plan(args: ExtendArguments) -> Plan:
    """Read the base's config and tokenizer and every data file, and check everything that can be wrong with the
    options or the data -- before the weights are loaded."""
    from labelgrow.labels import LabelMap, old_labels_from_config
    from labelgrow.modeling import load_config, load_tokenizer

    config = load_config(args.base, args.trust_remote_code)
    labels = LabelSet(tuple(old_labels_from_config(config)), tuple(args.new_labels))
    tokenizer = load_tokenizer(args.base, config, args.trust_remote_code)
    logger.info("labels: %s (old) + %s (new)", " ".join(labels.old), " ".join(labels.new))
    domain = None
    if args.add_tokens:  # before any data is tokenised: every window sees the added words
        from labelgrow.vocabulary import add_domain_words

        domain = add_domain_words(tokenizer, args.add_tokens)
    parents = parse_parents(args.parent)
    check_parents(parents, args.new_labels, labels.old_types)
    label_map = LabelMap.read(args.label_map) if args.label_map else None
    hint = "Map them with --label-map (target O drops a type) or add the type to --new-labels."
    train = checked_corpus(args, args.train, "--train", label_map, labels.labels, hint)
    _check_new_types_present(train.sentences, args.new_labels)
    validation = None
    if args.validation:
        validation = checked_corpus(args, args.validation, "--validation", label_map, labels.labels, hint)
        _warn_unseen_types(train.sentences, validation.sentences)
    _log_corpus("train", train)
    rehearsed = 0
    if args.rehearsal:
        rehearsal = append_text(train, args, args.rehearsal, "--rehearsal")
        _log_corpus("rehearsal (no new type: KD and 'not new' on every word)", rehearsal)
        rehearsed = len(rehearsal.sentences)
    elif labels.old_types and args.kd != "none":
        logger.info(
            "no --rehearsal text: a new type learns only from the training data, so on text unlike it an old entity "
            "that data never shows (organisations, for address data) may become the new type. Raw text of every "
            "language you serve, given with --rehearsal, is the measured remedy (docs/benchmarks.md)"
        )
    return Plan(config, labels, tokenizer, parents, train, validation, rehearsed, domain)


def checked_corpus(args, sources, option: str, label_map, labels, hint: str):
    """Annotated data given with ``option`` (--train, --validation, compress's --eval-data): read, mapped,
    languages assigned, every tag checked against ``labels``."""
    from labelgrow.data import load_corpus
    from labelgrow.languages import assign_corpus_languages

    corpus = assign_corpus_languages(load_corpus(sources, args.given_lang, label_map), args, option)
    what = {"--train": "the training data", "--validation": "the validation data"}.get(option, "the evaluation data")
    check_known_tags(corpus.sentences, labels, what, hint)
    return corpus


def append_text(corpus, args, sources, option: str):
    """Raw text given with ``option`` (extend's --rehearsal, compress's --raw) appended to ``corpus`` as all-O
    sentences, languages assigned; returns the text alone."""
    from labelgrow.languages import assign_corpus_languages

    text = assign_corpus_languages(unlabelled_corpus(sources, args.given_lang), args, option)
    corpus.sentences.extend(text.sentences)
    corpus.files.extend(text.files)
    corpus.detected.update(text.detected)
    return text


def unlabelled_corpus(sources, lang):
    """Raw text (one text per line, or CoNLL whose tags are dropped) as all-O sentences: ``--rehearsal`` (the
    teacher's distillation decides among O and the old labels, and no word may become a new type) and compress's
    ``--raw`` (distillation alone)."""
    from labelgrow.data import Corpus, read_unlabelled

    sentences = read_unlabelled(sources, "auto", lang)
    for s in sentences:
        s.tags = ["O"] * len(s.tokens)
    return Corpus(sentences, files=sorted({s.path for s in sentences}))


def _check_new_types_present(sentences, new_types: list[str]) -> None:
    seen = Counter(t[2:] for s in sentences for t in s.tags or [] if t.startswith("B-"))
    missing = [t for t in new_types if not seen[t]]
    if missing:
        raise LabelgrowError(
            f"--new-labels {','.join(missing)}: no training sentence has a B-{missing[0]} tag, so the label "
            "cannot be learned (check the tag names, or --label-map)"
        )


def _warn_unseen_types(train, validation) -> None:
    seen = set(entity_types(t for s in train for t in s.tags or []))
    unseen = sorted(set(entity_types(t for s in validation for t in s.tags or [])) - seen)
    if unseen:
        logger.warning("the validation data has type(s) never seen in training: %s", ", ".join(unseen))


def _log_corpus(name: str, corpus) -> None:
    langs = Counter(s.lang for s in corpus.sentences)
    logger.info(
        "%s: %d sentences from %d file(s); languages: %s",
        name,
        len(corpus.sentences),
        len(corpus.files),
        ", ".join(f"{k} {v}" for k, v in sorted(langs.items())),
    )


def steps_per_epoch(args: TrainingOptions, windows: int, processes: int = 1) -> int:
    """Optimizer steps in one pass over ``windows`` training windows on ``processes`` processes."""
    batches = math.ceil(windows / (args.batch_size * processes))
    return max(batches // args.gradient_accumulation_steps, 1)


def checkpoint_every(args: TrainingOptions, windows: int, processes: int = 1) -> int | None:
    """Optimizer steps between resume checkpoints (and validations) by default; None: at the end of each epoch.

    Each epoch, unless epochs are short (under ``SHORT_EPOCH`` steps) and a run would write more than
    ``MAX_CHECKPOINTS``: 50 sentences under ``--min-steps`` are 25 epochs of 4 steps, and each checkpoint holds the
    model and the optimizer's state (about 4.5 GB for XLM-R large). What that cost is measured in benchmarks.md
    ("What the checkpoints cost"). ``--save-steps``/``--eval-steps`` set the cadence explicitly."""
    if args.save_steps or args.eval_steps:
        return None
    per_epoch = steps_per_epoch(args, windows, processes)
    total = max_steps_for(args, windows, processes)[0] or math.ceil(args.epochs * per_epoch)
    if per_epoch >= SHORT_EPOCH or total <= MAX_CHECKPOINTS * per_epoch:
        return None
    return math.ceil(total / MAX_CHECKPOINTS)


def max_steps_for(args: TrainingOptions, windows: int, processes: int = 1) -> tuple[int | None, str | None]:
    """The ``max_steps`` to give the Trainer (None: train by epochs) and, where labelgrow chose it, why.

    ``--max-steps`` wins. Otherwise, where ``--epochs`` over ``windows`` training windows would take fewer than
    ``--min-steps`` optimizer steps, training takes ``--min-steps``: 50 annotated sentences for 3 epochs are 10
    steps of 16, too few for the new rows to move from their start (a copy of O, 4 below it)."""
    if args.max_steps:
        return args.max_steps, None
    per_epoch = steps_per_epoch(args, windows, processes)
    by_epochs = math.ceil(args.epochs * per_epoch)
    if by_epochs >= args.min_steps:
        return None, None
    return args.min_steps, (
        f"small data: {args.epochs:g} epoch(s) of {per_epoch} step(s) would be {by_epochs} optimizer step(s); "
        f"training {args.min_steps} steps ({args.min_steps / per_epoch:.1f} epochs) instead (--min-steps; 0: off)"
    )


def training_arguments(
    args: TrainingOptions,
    output: Path,
    has_validation: bool,
    max_steps: int | None = None,
    every: int | None = None,
):
    """The Trainer's arguments; checkpoints (and validations) every ``every`` steps (checkpoint_every), else each
    epoch or at ``--save-steps``/``--eval-steps``."""
    import torch
    from transformers import TrainingArguments

    if args.eval_steps or args.save_steps or every:
        strategy = {
            "eval_strategy": "steps" if has_validation else "no",
            "save_strategy": "steps",
            "eval_steps": args.eval_steps or args.save_steps or every,
            "save_steps": args.save_steps or args.eval_steps or every,
        }
    else:
        strategy = {"eval_strategy": "epoch" if has_validation else "no", "save_strategy": "epoch"}
    return TrainingArguments(
        output_dir=str(output / "checkpoints"),
        num_train_epochs=args.epochs,
        max_steps=max_steps or -1,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.eval_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        warmup_steps=args.warmup_ratio,
        weight_decay=args.weight_decay,
        logging_steps=args.logging_steps,
        load_best_model_at_end=has_validation,
        metric_for_best_model="f1" if has_validation else None,
        greater_is_better=True,
        save_total_limit=2,
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        bf16=args.bf16,
        fp16=args.fp16,
        use_cpu=args.cpu,
        seed=args.seed,
        data_seed=args.seed,
        report_to=args.report_to,
        dataloader_pin_memory=torch.cuda.is_available(),
        **strategy,
    )


@dataclass
class Models:
    """What training needs beside the data: the student (grown, frozen where asked), the loss, the teacher (None
    without KD or with --teacher-cache) and the encoded training windows."""

    base: Any  # modeling.LoadedBase
    student: Any
    frozen: Any  # modeling.FreezeSummary
    loss_config: Any  # losses.LossConfig
    teacher: Any | None
    features: list[dict]
    stats: Any  # features.EncodingStats
    max_length: int
    hidden_pairs: tuple[tuple[int, int], ...] = ()  # --hidden-kd: (student, teacher) indices into hidden_states


def build_models(args: ExtendArguments, planned: Plan, state, output: Path) -> Models:
    """Load the base, grow the student (modeling.expand_classifier), freeze, choose the loss, prepare the teacher
    (live, or its logits cached once with --teacher-cache)."""
    import gc

    from labelgrow.features import as_features, encode, max_input_length
    from labelgrow.losses import LossConfig, describe_loss
    from labelgrow.modeling import build_student, freeze, load_base

    labels, tokenizer = planned.labels, planned.tokenizer
    base = load_base(args.base, args.trust_remote_code, args.allow_pickle, config=planned.config, tokenizer=tokenizer)
    max_length = max_input_length(base.config, tokenizer, args.max_length)
    windows, stats = encode(planned.train.sentences, tokenizer, max_length, labels.label2id, args.label_all_subwords)
    stats.log("train")
    parents = planned.parents if args.new_rows_from == "parent" else None
    student = build_student(base, labels, args.trust_remote_code, args.allow_pickle, parents)
    if parents:
        logger.info(
            "new rows start from their parents' rows: %s", ", ".join(f"{k}={','.join(v)}" for k, v in parents.items())
        )
    if planned.domain is not None:
        from labelgrow.vocabulary import grow_embeddings

        for model in (student, base.teacher):  # the same rows: teacher and student agree at step 0
            if model is not None:
                grow_embeddings(model, planned.domain)
    if args.reset_head:
        from labelgrow.modeling import reset_classifier

        reset_classifier(student)
        logger.warning("--reset-head: the classifier starts afresh; the old rows are not kept (a baseline)")
    frozen = freeze(student, args.freeze_layers, args.freeze_embeddings)
    if planned.domain is not None and args.freeze_embeddings:
        from labelgrow.vocabulary import train_added_rows

        train_added_rows(student, frozen, planned.domain)
    logger.info("%s", frozen)
    if args.freeze_old_rows:
        from labelgrow.modeling import freeze_old_rows

        frozen.fixed_rows += freeze_old_rows(student, labels.num_old)
        logger.info("the classifier's %d old rows are fixed: only the new rows learn there", labels.num_old)
    mode = args.kd if base.teacher is not None else "none"
    if mode != args.kd:
        logger.warning("--kd %s needs a teacher; the base has no NER head, so training uses --kd none", args.kd)
    loss_config = LossConfig(
        mode,
        args.kd_alpha,
        args.kd_temperature,
        args.pseudo_label_threshold,
        labels.num_old,
        labels.outside_id,
        args.kd_target,
        labels.refinements(planned.parents) if args.rehearsal_parents else (),
        args.pseudo_label_scope,
        hidden_weight=args.hidden_kd if mode != "none" else 0.0,
        hidden_where_kd=True,
    )
    logger.info("loss: --kd %s: %s", mode, describe_loss(loss_config))
    features = as_features(windows)
    if loss_config.refinements or loss_config.pseudo_label_scope == "rehearsal":  # rehearsal text or annotated?
        first_rehearsal = len(planned.train.sentences) - planned.rehearsal_sentences
        for feature, window in zip(features, windows, strict=True):
            feature["rehearsal"] = window.sentence >= first_rehearsal
    teacher = base.teacher if loss_config.uses_teacher else None
    if teacher is None:
        base.teacher = None  # --kd none: the teacher was only the student's starting point
    elif args.teacher_cache:
        from labelgrow.inference import precision_dtype
        from labelgrow.teacher import teacher_dtype
        from labelgrow.teacher_cache import CACHE_DIR, load_or_compute

        dtype = teacher_dtype(args.teacher_precision, state.device, precision_dtype(args.bf16, args.fp16))
        cached = load_or_compute(
            output / CACHE_DIR, teacher, windows, tokenizer.pad_token_id, args.eval_batch_size, state, dtype
        )
        for feature, logits in zip(features, cached, strict=True):
            feature["teacher_logits"] = logits
        teacher = base.teacher = None  # train without the teacher in memory
    gc.collect()
    # --hidden-kd: the last layer's output of both (index -1 also holds for a teacher that shares the frozen trunk)
    pairs = ((-1, -1),) if loss_config.hidden_weight > 0 else ()
    return Models(base, student, frozen, loss_config, teacher, features, stats, max_length, pairs)


def train(args: ExtendArguments, planned: Plan, models: Models, state, output: Path, callbacks=None):
    """Train (resuming when asked) and evaluate the best checkpoint; returns the trainer, the Trainer's train
    output, the final validation metrics and report."""
    from labelgrow.features import collate
    from labelgrow.terminal import install
    from labelgrow.trainer import LabelgrowTrainer

    validation = planned.validation
    max_steps, why = max_steps_for(args, len(models.features), state.num_processes)
    if why:
        logger.info(why)
    every = checkpoint_every(args, len(models.features), state.num_processes)
    if every:
        logger.info(
            "short epochs: a checkpoint%s every %d steps, not each epoch", " and validation" * bool(validation), every
        )
    trainer = LabelgrowTrainer(
        model=models.student,
        args=training_arguments(args, output, validation is not None, max_steps, every),
        train_dataset=models.features,
        data_collator=partial(collate, pad_id=planned.tokenizer.pad_token_id),
        processing_class=planned.tokenizer,
        callbacks=callbacks,
        teacher=models.teacher,
        loss_config=models.loss_config,
        eval_dataset=validation.sentences if validation else None,  # Trainer checks it exists; evaluate() scores
        eval_sentences=validation.sentences if validation else (),
        old_types=planned.labels.old_types,
        new_types=list(planned.labels.new_types),
        max_length=models.max_length,
        head_learning_rate=args.head_learning_rate,
        frozen_modules=models.frozen.modules,
        fixed_rows=models.frozen.fixed_rows,
        hidden_pairs=models.hidden_pairs,
        frozen_layers=models.frozen.frozen_layers,
        share_frozen_layers=args.share_frozen_layers,
        teacher_precision=args.teacher_precision,
    )
    install(trainer, output / "train_log.jsonl" if state.is_main_process else None)
    try:
        train_output = trainer.train(resume_from_checkpoint=resume_checkpoint(args, output))
    finally:  # the teacher's hooks on the student's frozen layers go, whether training ended well or not
        if trainer.shared_trunk is not None:
            trainer.shared_trunk.close()
    metrics = trainer.evaluate() if validation is not None else {}
    return trainer, train_output, metrics, getattr(trainer, "last_eval_report", None)


def resume_checkpoint(args, output: Path) -> str | None:
    """With ``--resume``, the last checkpoint in OUTPUT/checkpoints (an error where there is none); else None."""
    if not args.resume:
        return None
    from transformers.trainer_utils import get_last_checkpoint

    found = get_last_checkpoint(str(output / "checkpoints"))
    if found is None:
        raise LabelgrowError(f"--resume: no checkpoint-* directory in {output / 'checkpoints'}")
    logger.info("resuming from %s", found)
    return found


def loss_record(args: ExtendArguments, loss) -> dict[str, Any]:
    """labelgrow.json's "loss": the mode, its settings and the sentence that says what it does."""
    from labelgrow.losses import describe_loss

    return {
        "mode": loss.mode,
        "target": loss.kd_target,
        "alpha": args.kd_alpha,
        "temperature": args.kd_temperature,
        "pseudo_label_threshold": args.pseudo_label_threshold,
        "pseudo_label_scope": args.pseudo_label_scope,
        "hidden_kd": args.hidden_kd,
        "description": describe_loss(loss),
    }


def write(
    args,
    planned: Plan,
    models: Models,
    loss: dict,
    trainer,
    train_output,
    metrics,
    report,
    state,
    output,
    started,
    kind: str = "extend",
    model=None,
    extra_files: dict[str, str] | None = None,
):
    """Save the model (every process calls it: FSDP/DeepSpeed gather), then on the main process labelgrow.json
    and the model card (outputs.RunRecord, with ``loss`` as its "loss"), published into ``output`` with
    labelgrow.json last. ``args`` is any TrainingOptions with ``base`` and ``to_dict()`` (extend, compress,
    adapt). ``model``: the token classifier to save where the trainer's model wraps more (adapt's LM head);
    ``extra_files``: more files (name -> text) published with the model, before labelgrow.json (adapt.json)."""
    staging = output / ".staging"
    if model is None:
        trainer.save_model(str(staging))
    elif state.is_main_process:
        model.save_pretrained(str(staging))
        planned.tokenizer.save_pretrained(str(staging))
    if state.is_main_process:
        from labelgrow.outputs import RunRecord, publish

        (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; everything is in labelgrow.json
        record = RunRecord(
            base=args.base,
            output=str(output),
            labels=planned.labels,
            parents=planned.parents,
            train=planned.train,
            validation=planned.validation,
            loss=loss,
            settings=args.to_dict(),
            frozen=models.frozen,
            stats=models.stats,
            training={
                "global_steps": train_output.global_step,
                "train_loss": train_output.training_loss,
                "best_checkpoint": trainer.state.best_model_checkpoint,
                "wall_seconds": round(time.time() - started, 1),
                "loss_curve": [[e["step"], e["loss"]] for e in trainer.state.log_history if "loss" in e],
                "evaluations": [
                    {"epoch": e.get("epoch"), "step": e["step"]}
                    | {k.removeprefix("eval_"): v for k, v in e.items() if k.startswith("eval_") and "f1" in k}
                    for e in trainer.state.log_history
                    if "eval_f1" in e
                ],
                "processes": state.num_processes,
                "device": str(trainer.args.device),
            },
            metrics=metrics,
            validation_report=report,
            kind=kind,
            added_tokens=planned.domain.record() if planned.domain is not None else None,
        )
        record.write(staging)
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        publish(staging, output)
        if not args.keep_checkpoints:
            shutil.rmtree(output / "checkpoints", ignore_errors=True)
            from labelgrow.teacher_cache import CACHE_DIR

            shutil.rmtree(output / CACHE_DIR, ignore_errors=True)
        logger.info("wrote %s", output)
    state.wait_for_everyone()
