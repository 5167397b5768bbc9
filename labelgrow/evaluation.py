"""``labelgrow eval``: score a model on gold data per language x label, against its teacher when given.

The scoring itself lives in labelgrow/metrics.py (torch-free); this module loads models, runs them and assembles
the report. ``predict_corpus`` is the one way a command runs a model on a corpus (``eval`` and ``diff``); the
benchmarks call ``inference.word_log_probs`` themselves, to decode both ways from one pass.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.configuration import UNSURE_BELOW, EvalArguments, InferenceArguments, call_arguments
from labelgrow.data import Corpus, Sentence
from labelgrow.errors import LabelgrowError
from labelgrow.labels import OUTSIDE, check_parents, entity_types, parse_parents
from labelgrow.metrics import change_report, forgetting, refine_to_parents, score
from labelgrow.outputs import read_run_record


@dataclass
class ModelTags:
    """A model's tags for every sentence of a corpus, the probability of each, and how long the forward passes
    took."""

    tags: list[list[str]]
    seconds: float
    scores: list[list[float]] = field(default_factory=list)


def predict_corpus(
    name: str,
    sentences: Sequence[Sentence],
    state=None,
    batch_size: int = 32,
    max_length: int | None = None,
    dtype=None,
    decode: str = "bio",
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    desc: str = "predicting",
    tokenizer=None,
    option: str = "--model",
) -> ModelTags:
    """Load ``name`` (hub id or directory), tag every sentence (all processes share the work under
    ``accelerate``), free the model. The tokenizer is the model's own unless one is given."""
    from labelgrow.inference import predict_words
    from labelgrow.modeling import load_config, load_token_classifier, load_tokenizer

    config = load_config(name, trust_remote_code, option)
    if tokenizer is None:
        tokenizer = load_tokenizer(name, config, trust_remote_code)
    model = load_token_classifier(name, trust_remote_code, allow_pickle)
    if state is not None:
        model = model.to(state.device)
    start = time.perf_counter()
    found = predict_words(
        model, tokenizer, sentences, batch_size, max_length, state, dtype, progress=True, desc=desc, decode=decode
    )
    seconds = time.perf_counter() - start
    del model
    return ModelTags([p.tags for p in found], seconds, [p.scores for p in found])


def measure_models(
    models: Mapping[str, Any],
    tokenizer,
    sentences: Sequence[Sentence],
    old_types: Sequence[str],
    new_types: Sequence[str],
    batch_size: int = 32,
    max_length: int | None = None,
    decode: str = "bio",
) -> dict[str, dict[str, Any]]:
    """Run each model (PyTorch, or anything with its interface: exporting.OnnxTokenClassifier) on the same
    sentences, windows and decoding, one after the other in this process: ``{name: {"seconds", "words_per_second",
    "f1": metrics.f1_table}}``. Speeds measured side by side, so their ratio means something on a noisy machine."""
    from labelgrow.inference import word_log_probs
    from labelgrow.metrics import f1_table

    words = sum(len(s.tokens) for s in sentences)
    measured: dict[str, dict[str, Any]] = {}
    for name, model in models.items():
        started = time.perf_counter()
        log_probs = word_log_probs(model, tokenizer, sentences, batch_size, max_length, progress=True, desc=name)
        seconds = time.perf_counter() - started
        tags = [p.tags for p in log_probs.decode(decode)]
        measured[name] = {
            "seconds": round(seconds, 3),
            "words_per_second": round(words / max(seconds, 1e-9), 1),
            "f1": f1_table(score(sentences, tags, old_types, new_types)),
        }
    return measured


def inference_settings(args: InferenceArguments, state) -> dict[str, Any]:
    """``predict_corpus`` keyword arguments from a command's shared inference options."""
    from labelgrow.inference import precision_dtype

    return {
        "state": state,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "dtype": precision_dtype(args.bf16, args.fp16),
        "decode": args.decode,
        "trust_remote_code": args.trust_remote_code,
        "allow_pickle": args.allow_pickle,
    }


def model_labels(name: str, trust_remote_code: bool = False, option: str = "--model") -> list[str]:
    """The label names of a checkpoint in id order (only its config is read)."""
    from labelgrow.modeling import load_config

    config = load_config(name, trust_remote_code, option)
    return [config.id2label[i] for i in range(len(config.id2label))]


def old_and_new_types(
    model_types: Sequence[str], run: Mapping[str, Any], teacher_types: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Old/new split by entity type: the types the teacher knows are old; without a teacher, the model's
    labelgrow.json says which types it added; else every type is old."""
    if teacher_types is not None:
        new = [t for t in model_types if t not in set(teacher_types)]
    elif "new_types" in run:
        new = [t for t in run["new_types"] if t in model_types]
    else:
        new = []
    return [t for t in model_types if t not in new], new


def resolve_parents(given: Any, run: Mapping[str, Any], new_types: Sequence[str], old_types: Sequence[str]):
    """``--parent`` as given, else as recorded at extend time in labelgrow.json; checked against the labels."""
    parents = parse_parents(given) if given else dict(run.get("parents") or {})
    check_parents(parents, new_types, old_types)
    return parents


def teacher_gold(sentences: Sequence[Sentence], teacher_labels: set[str]) -> list[Sentence]:
    """The gold as the teacher can know it: tags of types it does not have become O."""
    return [
        Sentence(s.tokens, [t if t in teacher_labels else OUTSIDE for t in s.tags or []], s.lang, s.path, s.line)
        for s in sentences
    ]


def map_unknown_to_outside(corpus: Corpus, known: set[str]) -> int:
    """Gold tags the model does not know become O (``--unknown-as-o``); returns how many changed."""
    changed = 0
    for s in corpus.sentences:
        fixed = [t if t in known else OUTSIDE for t in s.tags]
        changed += sum(a != b for a, b in zip(fixed, s.tags, strict=True))
        s.tags = fixed
    return changed


@dataclass
class EvalResult:
    """What ``labelgrow eval`` found; ``to_dict()`` is report.json (the keys docs/usage.md lists).

    ``scores`` (and ``teacher_scores``, ``parent_scores``) hold per-language x label seqeval counts and F1; with a
    teacher, ``forgetting`` is teacher F1 - model F1 on the old labels and ``changes`` says what became of every
    old entity (metrics.change_report); with ``--parent``, ``parent_forgetting`` counts refinements as kept."""

    model: str
    teacher: str | None
    mode: str
    decode: str
    old_types: list[str]
    new_types: list[str]
    parents: dict[str, list[str]]
    data: dict[str, Any]
    scores: dict[str, Any]
    speed: dict[str, Any]
    teacher_scores: dict[str, Any] | None = None
    forgetting: dict[str, Any] | None = None
    changes: dict[str, Any] | None = None
    teacher_note: str | None = None
    parent_scores: dict[str, Any] | None = None
    parent_forgetting: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what report.py renders): the fields that were computed."""
        return {k: v for k, v in asdict(self).items() if v is not None or k == "teacher"}


def run_eval(args: EvalArguments) -> EvalResult:
    """``labelgrow eval``: score a model (and optionally its teacher) per language x label; with a teacher, say
    what became of every old entity (metrics.change_report) and the forgetting, plain and with new types counted
    as their ``--parent`` types. Writes report.json/md/png on the main process when ``args.report`` is set."""
    from accelerate import PartialState

    from labelgrow.data import load_corpus
    from labelgrow.labels import LabelMap, check_known_tags
    from labelgrow.languages import assign_corpus_languages

    # Everything that can be checked is checked before any model runs.
    labels = model_labels(args.model, args.trust_remote_code)
    run = read_run_record(args.model)
    label_map = LabelMap.read(args.label_map) if args.label_map else None
    corpus = assign_corpus_languages(load_corpus(args.data, args.given_lang, label_map), args, "--data")
    unknown_mapped = 0
    if args.unknown_as_o:
        unknown_mapped = map_unknown_to_outside(corpus, set(labels))
    else:
        check_known_tags(
            corpus.sentences,
            labels,
            "the evaluation data",
            "Map them with --label-map, or score them as O with --unknown-as-o.",
        )
    teacher_labels = model_labels(args.teacher, args.trust_remote_code, "--teacher") if args.teacher else None
    teacher_types = entity_types(teacher_labels) if teacher_labels else None
    old_types, new_types = old_and_new_types(entity_types(labels), run, teacher_types)
    if teacher_types is not None and not set(teacher_types) & set(old_types):
        raise LabelgrowError(
            f"--teacher {args.teacher} (types {', '.join(teacher_types) or '-'}) shares no old entity type with "
            f"--model {args.model} (old types {', '.join(old_types) or '-'}; new {', '.join(new_types) or '-'})"
        )
    parents = resolve_parents(args.parent, run, new_types, old_types)

    state = PartialState(cpu=args.cpu)
    run_kwargs = inference_settings(args, state)
    predicted = predict_corpus(args.model, corpus.sentences, desc="model", **run_kwargs)
    result = EvalResult(
        model=args.model,
        teacher=args.teacher,
        mode=args.mode,
        decode=args.decode,
        old_types=old_types,
        new_types=new_types,
        parents=parents,
        data={
            "files": corpus.files,
            "sentences": len(corpus.sentences),
            "languages": corpus.languages(),
            "languages_detected": dict(corpus.detected),
            "label_map_changes": sum(corpus.mapped.values()),
            "repaired_bio_tags": sum(corpus.repaired.values()),
            "unknown_tags_scored_as_o": unknown_mapped,
        },
        scores=score(corpus.sentences, predicted.tags, old_types, new_types, args.mode),
        speed={
            "seconds": round(predicted.seconds, 3),
            "processes": state.num_processes,
            "words_per_second": round(sum(len(s.tokens) for s in corpus.sentences) / max(predicted.seconds, 1e-9), 1),
        },
    )
    if args.teacher and teacher_labels is not None:
        teacher = predict_corpus(args.teacher, corpus.sentences, desc="teacher", option="--teacher", **run_kwargs)
        compare_with_teacher(
            corpus.sentences,
            predicted.tags,
            teacher.tags,
            teacher_labels,
            result,
            teacher.scores,
            args.teacher_unsure_below,
        )
    if args.report and state.is_main_process:
        from labelgrow.report import write_report

        write_report(result.to_dict(), Path(args.report))
    state.wait_for_everyone()
    return result


def compare_with_teacher(
    sentences: Sequence[Sentence],
    model_tags: Sequence[Sequence[str]],
    teacher_tags: Sequence[Sequence[str]],
    teacher_labels: Sequence[str],
    result: EvalResult,
    teacher_probabilities: Sequence[Sequence[float]] | None = None,
    unsure_below: float = UNSURE_BELOW,
) -> None:
    """Fill in the teacher's scores, forgetting (plain, and with each refinement into a ``--parent`` type counted as
    kept) and the change report of a model's ``result`` on gold ``sentences`` (with the teacher's near-ties counted
    apart given ``teacher_probabilities``, the probability of each of its tags)."""
    mode, old_types, new_types, parents = result.mode, result.old_types, result.new_types, result.parents
    gold_for_teacher = teacher_gold(sentences, set(teacher_labels))
    teacher_old = [t for t in entity_types(teacher_labels) if t in old_types]
    result.teacher_scores = score(gold_for_teacher, teacher_tags, teacher_old, [], mode)
    result.forgetting = forgetting(result.scores, result.teacher_scores, teacher_old)
    result.changes = change_report(
        sentences,
        teacher_tags,
        model_tags,
        teacher_old,
        new_types,
        True,
        mode=mode,
        teacher_scores=teacher_probabilities or None,
        unsure_below=unsure_below,
    )
    result.teacher_note = (
        "The teacher is scored with gold tags of types it does not know mapped to O; "
        "forgetting = teacher F1 - model F1 on the old labels, in points."
    )
    if parents:
        refined = [
            refine_to_parents(s.tags or [], t, parents, mode) for s, t in zip(sentences, model_tags, strict=True)
        ]
        result.parent_scores = score(sentences, refined, old_types, new_types, mode)
        result.parent_forgetting = forgetting(result.parent_scores, result.teacher_scores, teacher_old)


def evaluate(args: EvalArguments | None = None, /, **kwargs: Any) -> EvalResult:
    """The Python face of ``labelgrow eval``: ``evaluate(model=..., data=[...], teacher=...)`` or
    ``evaluate(EvalArguments(...))``."""
    return run_eval(call_arguments(EvalArguments, args, kwargs))
