"""``labelgrow compress``: a smaller, faster student built from a grown model and distilled from it.

The student is the model itself with fewer encoder layers (``modeling.select_layers``/``shrink_encoder``: the
embeddings, the chosen layers and the head copied exactly), trained with knowledge distillation from the full model
on **all** its labels plus cross-entropy on gold entities. Gold data that annotates only some types (the new-type
data ``extend`` was trained on) is safe: a gold-O word there may be an old entity, so it gets no CE, only the full
model's distribution (the o-aware loss of losses.py with every label "old"); ``--raw`` text gets KD alone.
``--no-distill`` trains the same small architecture on the gold alone (CE on every word), the baseline that answers
whether distillation is worth it. With ``--eval-data`` the full model and the student are scored side by side
(parameters, size on disk, words/s, F1 per language x old/new labels) into OUTPUT/compress.json.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.configuration import (
    Decoding,
    LanguageArguments,
    RuntimeArguments,
    TrainingOptions,
    _as_list,
    _check,
    call_arguments,
    check_label_map,
    choice,
    settings_dict,
)
from labelgrow.errors import LabelgrowError

logger = logging.getLogger(__name__)

DEFAULT_LAYERS = 6
COMPRESS_FILE = "compress.json"


@dataclass(kw_only=True)
class CompressArguments(TrainingOptions, RuntimeArguments, LanguageArguments):
    """Everything ``labelgrow compress`` needs. Training options are extend's, with a higher learning rate and no
    separate head rate: every layer of the student moved (its layer 3 now reads layer 1's output) while the head is
    already trained."""

    model: str
    output: str
    train: list[Any] = field(default_factory=list)  # gold data (any subset of the model's types annotated)
    raw: list[Any] = field(default_factory=list)  # unlabelled text (one per line, or CoNLL with tags dropped): KD only
    validation: list[Any] = field(default_factory=list)
    eval_data: list[Any] = field(default_factory=list)  # gold data: the full model and the student side by side
    label_map: str | None = None
    layers: int | None = None  # None: 6, or with --select indices, their number
    select: str = "every-other"
    distill: bool = True  # False: the same small architecture on the gold alone (the baseline)
    hidden_kd: float = 0.0  # weight of hidden-state distillation (each kept layer vs its original); 0 = off
    learning_rate: float = 1e-4
    head_learning_rate: float | None = None
    decode: str = "bio"  # for --eval-data

    def __post_init__(self) -> None:
        for name in ("train", "raw", "validation", "eval_data"):
            setattr(self, name, _as_list(getattr(self, name)))
        _check(bool(self.model), "--model is required: the grown model to compress")
        _check(bool(self.output), "--output is required: the directory to write the small model to")
        _check(
            bool(self.train or self.raw),
            "--train or --raw is required: the student learns from the full model on text (gold data, raw text, "
            "or both)",
        )
        _check(self.distill or bool(self.train), "--no-distill trains on gold alone: give --train")
        _check(self.distill or not self.raw, "--raw is text for distillation; --no-distill cannot use it")
        _check(self.hidden_kd >= 0, f"--hidden-kd must be >= 0, not {self.hidden_kd}")
        _check(self.distill or not self.hidden_kd, "--hidden-kd distils hidden states; --no-distill has no teacher")
        _check(self.layers is None or self.layers >= 1, f"--layers must be >= 1, not {self.layers}")
        if "," in self.select or self.select.strip().isdigit():
            count = len([x for x in self.select.split(",") if x.strip()])
            _check(
                self.layers in (None, count), f"--layers {self.layers} but --select {self.select} names {count} layers"
            )
            self.layers = count
        elif self.layers is None:
            self.layers = DEFAULT_LAYERS
        self.decode = choice(self.decode, Decoding, "--decode")
        self.check_training(bool(self.validation))
        self.check_runtime()
        self.check_languages()
        check_label_map(self.label_map)

    @property
    def base(self) -> str:
        """The model the student comes from (labelgrow.json's "base")."""
        return self.model

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe settings for labelgrow.json, as extend's."""
        return settings_dict(self, ("train", "raw", "validation", "eval_data"))


@dataclass
class CompressResult:
    output: Path
    layers: list[int]
    comparison: dict[str, Any] | None  # compress.json, when --eval-data was given


def loss_record(args: CompressArguments) -> dict[str, Any]:
    """labelgrow.json's "loss" for a compressed student."""
    if args.distill:
        description = (
            f"KD (T={args.kd_temperature}, alpha={args.kd_alpha}) from the full model on all labels on every word "
            "without a gold entity (gold O may be an unannotated entity; raw text is all such words), full CE "
            "towards gold entities"
        )
        if args.hidden_kd:
            description += (
                f", plus {args.hidden_kd} x hidden-state distillation (1 - cosine between each kept layer's output "
                "and the output of the full model's layer it was copied from, on every word)"
            )
    else:
        description = "CE on the gold of every word, no teacher (the small architecture trained directly)"
    return {
        "mode": "distill" if args.distill else "direct",
        "alpha": args.kd_alpha if args.distill else 0.0,
        "temperature": args.kd_temperature,
        "hidden_kd": args.hidden_kd,
        "description": description,
    }


def compress(args: CompressArguments | None = None, /, **kwargs: Any) -> CompressResult:
    """Build, train and write a student with fewer layers (``compress(model=..., output=..., train=[...])``);
    with ``eval_data``, score the full model and the student side by side."""
    from labelgrow.extension import run_into_output

    args = call_arguments(CompressArguments, args, kwargs)
    return run_into_output(args, lambda state, output: _compress(args, state, output))


def _plan(args: CompressArguments):
    """The labels (the model's own, old and new as its labelgrow.json says), tokenizer and data, checked."""
    from labelgrow.data import Corpus
    from labelgrow.extension import Plan, append_text, checked_corpus
    from labelgrow.labels import LabelMap, LabelSet, old_labels_from_config
    from labelgrow.modeling import load_config, load_tokenizer, select_layers
    from labelgrow.outputs import read_run_record

    config = load_config(args.model, args.trust_remote_code, "--model")
    labels = old_labels_from_config(config)
    if len(labels) < 2:
        raise LabelgrowError(f"--model {args.model} has no trained token-classification head to compress")
    if isinstance(getattr(config, "num_hidden_layers", None), int):  # --layers/--select checked before any weight
        select_layers(config.num_hidden_layers, args.layers, args.select)
    run = read_run_record(args.model)
    label_set = LabelSet(tuple(labels), ())
    if run.get("labels") == labels and run.get("new_types"):
        label_set = LabelSet(tuple(run["old_labels"]), tuple(run["new_types"]))
    tokenizer = load_tokenizer(args.model, config, args.trust_remote_code)
    label_map = LabelMap.read(args.label_map) if args.label_map else None
    hint = "Map them with --label-map (target O drops a type)."
    train = checked_corpus(args, args.train, "--train", label_map, label_set.labels, hint) if args.train else Corpus()
    raw = len(append_text(train, args, args.raw, "--raw").sentences) if args.raw else 0
    validation = None
    if args.validation:
        validation = checked_corpus(args, args.validation, "--validation", label_map, label_set.labels, hint)
    logger.info(
        "compress %s: %d gold sentence(s), %d raw; labels %s",
        args.model,
        len(train.sentences) - raw,
        raw,
        " ".join(label_set.labels),
    )
    return Plan(config, label_set, tokenizer, dict(run.get("parents") or {}), train, validation, raw)


def _build(args: CompressArguments, planned):
    """The full model (the teacher), the student with fewer layers, the loss and the encoded training windows."""
    from labelgrow.extension import Models
    from labelgrow.features import as_features, encode, max_input_length
    from labelgrow.losses import LossConfig
    from labelgrow.modeling import encoder_layers, freeze, load_base, select_layers, shrink_encoder

    base = load_base(args.model, args.trust_remote_code, args.allow_pickle, planned.config, planned.tokenizer)
    total = len(encoder_layers(base.teacher))
    keep = select_layers(total, args.layers, args.select)
    student = shrink_encoder(base.teacher, keep).train().requires_grad_(True)
    logger.info("student: encoder layers %s of %d (--select %s)", ",".join(map(str, keep)), total, args.select)
    frozen = freeze(student, 0, args.freeze_embeddings)
    logger.info("%s", frozen)
    labels = planned.labels
    max_length = max_input_length(base.config, planned.tokenizer, args.max_length)
    windows, stats = encode(planned.train.sentences, planned.tokenizer, max_length, labels.label2id)
    stats.log("train")
    # every label is "old" for this loss: on gold-O words the unbiased CE is then exactly 0 and KD on all labels
    # decides; gold entities get full CE. --no-distill: plain CE on all words.
    every = len(labels.labels)
    if args.distill:
        loss = LossConfig(
            "o-aware", args.kd_alpha, args.kd_temperature, 0.0, every, labels.outside_id, hidden_weight=args.hidden_kd
        )
        teacher = base.teacher
    else:
        loss = LossConfig("none", num_old=every, outside_id=labels.outside_id)
        teacher = base.teacher = None
    # hidden_states[0] is the embeddings' output (copied, the same in both); student layer i is the full model's
    # layer keep[i]
    pairs = tuple((i + 1, k + 1) for i, k in enumerate(keep)) if args.hidden_kd else ()
    return Models(base, student, frozen, loss, teacher, as_features(windows), stats, max_length, pairs), keep


def _compress(args: CompressArguments, state, output: Path) -> CompressResult:
    from labelgrow.extension import train, write

    started = time.time()
    planned = _plan(args)
    models, keep = _build(args, planned)
    trainer, train_output, metrics, report = train(args, planned, models, state, output)
    loss = loss_record(args)
    write(args, planned, models, loss, trainer, train_output, metrics, report, state, output, started, "compress")
    comparison = None
    if args.eval_data and state.is_main_process:
        comparison = compare(args, planned, output, keep)
    return CompressResult(output, keep, comparison)


def directory_megabytes(path: str | Path) -> float | None:
    """The size of a checkpoint's weight files (safetensors or pickles), or None for a hub id."""
    path = Path(path)
    if not path.is_dir():
        return None
    weights = [f for f in path.iterdir() if f.suffix in (".safetensors", ".bin") and f.name != "training_args.bin"]
    return round(sum(f.stat().st_size for f in weights) / 2**20, 1)


def compare(args: CompressArguments, planned, output: Path, keep: list[int]) -> dict[str, Any]:
    """The full model and the student on ``--eval-data``, measured one after the other in this process:
    parameters, megabytes on disk, words/s and F1 per language x old/new labels, and the student's drop."""
    from labelgrow.evaluation import measure_models
    from labelgrow.extension import checked_corpus
    from labelgrow.labels import LabelMap
    from labelgrow.metrics import f1_drops
    from labelgrow.modeling import load_token_classifier

    label_map = LabelMap.read(args.label_map) if args.label_map else None
    hint = "Map them with --label-map."
    corpus = checked_corpus(args, args.eval_data, "--eval-data", label_map, planned.labels.labels, hint)
    models = {
        "full": load_token_classifier(args.model, args.trust_remote_code, args.allow_pickle).eval(),
        "student": load_token_classifier(str(output), args.trust_remote_code, args.allow_pickle).eval(),
    }
    labels = planned.labels
    measured = measure_models(
        models,
        planned.tokenizer,
        corpus.sentences,
        labels.old_types,
        list(labels.new_types),
        args.eval_batch_size,
        args.max_length,
        args.decode,
    )
    for name, model in models.items():
        measured[name]["parameters"] = sum(p.numel() for p in model.parameters())
        measured[name]["megabytes"] = directory_megabytes(args.model if name == "full" else output)
        measured[name]["layers"] = model.config.num_hidden_layers
    measured["student"]["drop"] = f1_drops(measured["full"]["f1"], measured["student"]["f1"])
    measured["student"]["speedup"] = round(
        measured["student"]["words_per_second"] / max(measured["full"]["words_per_second"], 1e-9), 2
    )
    comparison = {
        "model": args.model,
        "student": str(output),
        "kept_layers": keep,
        "distill": args.distill,
        "decode": args.decode,
        "data": {"files": corpus.files, "sentences": len(corpus.sentences), "languages": corpus.languages()},
        "old_types": labels.old_types,
        "new_types": list(labels.new_types),
        "models": measured,
    }
    (output / COMPRESS_FILE).write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return comparison


def comparison_table(comparison: dict[str, Any]) -> str:
    """One row per model and language: old and new F1, the student's drop, layers, parameters, MB, words/s."""
    from labelgrow.report import side_by_side_table

    return side_by_side_table(
        comparison["models"],
        "full",
        [
            ("layers", lambda m: str(m["layers"])),
            ("params", lambda m: f"{m['parameters'] / 1e6:.1f}M"),
        ],
    )
