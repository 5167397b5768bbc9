"""Entity-level scores (seqeval's entity extraction) per language x label, grouped into old and new labels.

Counts (true positives, false positives, false negatives) are kept per type so that any grouping -- a language,
the old labels, the new labels -- is an exact micro-average of the same counts, and shards from several processes
add up exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labelgrow.configuration import SCORE_MODES
from labelgrow.data import Sentence
from labelgrow.labels import OUTSIDE

ALL = "all"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


def extract_entities(tags: Sequence[str], mode: str = "conlleval") -> set[tuple[str, int, int]]:
    """``(type, start, end_inclusive)`` entities as seqeval reads them: conlleval-style by default (an ``I-X``
    after ``O`` starts an entity), or strict IOB2 (such an ``I-X`` is not an entity)."""
    if mode == "strict":
        from seqeval.scheme import IOB2, Entities

        return {(e.tag, e.start, e.end - 1) for e in Entities([list(tags)], IOB2).entities[0]}
    from seqeval.metrics.sequence_labeling import get_entities

    return set(get_entities(list(tags)))


def count_entities(gold: Sequence[str], predicted: Sequence[str], mode: str = "conlleval") -> dict[str, Counts]:
    """Per-type counts for one sentence."""
    gold_entities, predicted_entities = extract_entities(gold, mode), extract_entities(predicted, mode)
    counts: dict[str, Counts] = {}
    for entity in gold_entities | predicted_entities:
        c = counts.setdefault(entity[0], Counts())
        if entity in gold_entities and entity in predicted_entities:
            c.tp += 1
        elif entity in gold_entities:
            c.fn += 1
        else:
            c.fp += 1
    return counts


def prf(counts: Counts) -> dict[str, float]:
    """Precision, recall and F1 in percent, and support (gold entities)."""
    precision = 100.0 * counts.tp / (counts.tp + counts.fp) if counts.tp + counts.fp else 0.0
    recall = 100.0 * counts.tp / (counts.tp + counts.fn) if counts.tp + counts.fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": counts.tp + counts.fn}


def _sum(counts: dict[str, Counts], types: Iterable[str]) -> Counts:
    total = Counts()
    for t in types:
        if t in counts:
            total.add(counts[t])
    return total


def summarize(counts: dict[str, Counts], old_types: Sequence[str], new_types: Sequence[str], n: int) -> dict:
    """One block of the report: per-label scores, micro and macro F1, and the old/new label groups."""
    labels = {t: prf(c) for t, c in sorted(counts.items())}
    annotated = [t for t, c in counts.items() if c.tp + c.fn]
    return {
        "sentences": n,
        "labels": labels,
        "micro": prf(_sum(counts, counts)),
        # micro over the types the gold data annotates: data labelled only for the new type cannot tell whether
        # an old-type prediction is right, so those predictions are left out here (not in "micro")
        "annotated": prf(_sum(counts, annotated)),
        "macro_f1": sum(s["f1"] for s in labels.values()) / len(labels) if labels else 0.0,
        "old": prf(_sum(counts, old_types)),
        "new": prf(_sum(counts, new_types)),
    }


def language_counts(
    sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]], mode: str = "conlleval"
) -> dict[str, dict[str, Counts]]:
    """``{language: {type: Counts}}`` plus the ``"all"`` language over every sentence."""
    by_lang: dict[str, dict[str, Counts]] = {}
    for sentence, tags in zip(sentences, predicted, strict=True):
        for lang in (sentence.lang, ALL):
            target = by_lang.setdefault(lang, {})
            for type_, c in count_entities(sentence.tags or [OUTSIDE] * len(tags), tags, mode).items():
                target.setdefault(type_, Counts()).add(c)
    return by_lang


def score(
    sentences: Sequence[Sentence],
    predicted: Sequence[Sequence[str]],
    old_types: Sequence[str],
    new_types: Sequence[str],
    mode: str = "conlleval",
) -> dict:
    """``{"languages": {lang: block}, "overall": block}`` where a block is what ``summarize`` returns."""
    if mode not in SCORE_MODES:
        raise ValueError(f"--mode must be one of {', '.join(SCORE_MODES)}, not {mode!r}")
    counts = language_counts(sentences, predicted, mode)
    sizes: dict[str, int] = {}
    for s in sentences:
        sizes[s.lang] = sizes.get(s.lang, 0) + 1
    languages = {lang: summarize(counts.get(lang, {}), old_types, new_types, sizes[lang]) for lang in sorted(sizes)}
    return {"languages": languages, "overall": summarize(counts.get(ALL, {}), old_types, new_types, len(sentences))}


def training_metrics(report: dict) -> dict[str, float]:
    """The flat metrics logged during training: F1 over the annotated types (selects the best checkpoint), old,
    new and per-language F1."""
    overall = report["overall"]
    metrics = {"f1": overall["annotated"]["f1"], "old_f1": overall["old"]["f1"], "new_f1": overall["new"]["f1"]}
    for lang, block in report["languages"].items():
        metrics[f"f1_{lang}"] = block["annotated"]["f1"]
    return metrics


def forgetting(model_report: dict, teacher_report: dict, old_types: Sequence[str]) -> dict:
    """Teacher F1 minus model F1 on the old labels, per language (and "all"), per label and for the group.
    Positive numbers are points forgotten; only labels with gold support in that language are compared."""
    out = {}
    pairs = {
        **{k: (v, teacher_report["languages"].get(k)) for k, v in model_report["languages"].items()},
        ALL: (model_report["overall"], teacher_report["overall"]),
    }
    for lang, (mine, theirs) in pairs.items():
        if theirs is None:
            continue
        labels = {
            t: theirs["labels"][t]["f1"] - mine["labels"].get(t, {"f1": 0.0})["f1"]
            for t in old_types
            if t in theirs["labels"] and theirs["labels"][t]["support"]
        }
        old = theirs["old"]["f1"] - mine["old"]["f1"] if theirs["old"]["support"] else None
        out[lang] = {"old": old, "labels": labels}
    return out


def run_eval(args) -> dict:
    """``labelgrow eval``: score a model (and optionally its teacher) per language x label; write the report
    (report.json, report.md, report.png) on the main process when ``args.report`` is set."""
    import time

    from accelerate import PartialState

    from labelgrow.data import load_corpus
    from labelgrow.errors import LabelgrowError
    from labelgrow.inference import precision_dtype, predict_words
    from labelgrow.labels import OUTSIDE, LabelMap, check_known_tags, entity_types, split_tag
    from labelgrow.modeling import load_config, load_token_classifier, load_tokenizer

    state = PartialState(cpu=args.cpu)
    dtype = precision_dtype(args.bf16, args.fp16)
    config = load_config(args.model, args.trust_remote_code)
    tokenizer = load_tokenizer(args.model, config, args.trust_remote_code)
    model_labels = [config.id2label[i] for i in range(len(config.id2label))]
    label_map = LabelMap.read(args.label_map) if args.label_map else None
    corpus = load_corpus(args.data, args.lang, label_map)
    unknown_mapped = 0
    if args.unknown_as_o:
        known = set(model_labels)
        for s in corpus.sentences:
            fixed = [t if t in known else OUTSIDE for t in s.tags]
            unknown_mapped += sum(a != b for a, b in zip(fixed, s.tags, strict=True))
            s.tags = fixed
    else:
        check_known_tags(
            corpus.sentences,
            model_labels,
            "the evaluation data",
            "Map them with --label-map, or score them as O with --unknown-as-o.",
        )
    old_types, new_types = _old_and_new_types(args.model, model_labels, args.teacher, args.trust_remote_code)

    def predict(name: str, what: str) -> tuple[list[list[str]], float]:
        model = load_token_classifier(name, args.trust_remote_code, args.allow_pickle).to(state.device)
        start = time.perf_counter()
        found = predict_words(
            model,
            tokenizer,
            corpus.sentences,
            args.batch_size,
            args.max_length,
            state,
            dtype,
            progress=True,
            desc=what,
            decode=args.decode,
        )
        seconds = time.perf_counter() - start
        del model
        return [p.tags for p in found], seconds

    predicted, seconds = predict(args.model, "model")
    report = {
        "model": args.model,
        "teacher": args.teacher,
        "mode": args.mode,
        "decode": args.decode,
        "old_types": old_types,
        "new_types": new_types,
        "data": {
            "files": corpus.files,
            "sentences": len(corpus.sentences),
            "languages": corpus.languages(),
            "label_map_changes": sum(corpus.mapped.values()),
            "repaired_bio_tags": sum(corpus.repaired.values()),
            "unknown_tags_scored_as_o": unknown_mapped,
        },
        "scores": score(corpus.sentences, predicted, old_types, new_types, args.mode),
        "speed": {
            "seconds": round(seconds, 3),
            "processes": state.num_processes,
            "words_per_second": round(sum(len(s.tokens) for s in corpus.sentences) / max(seconds, 1e-9), 1),
        },
    }
    if args.teacher:
        teacher_config = load_config(args.teacher, args.trust_remote_code)
        teacher_labels = set(teacher_config.id2label.values())
        if not any(split_tag(t)[1] in old_types for t in teacher_labels):
            raise LabelgrowError(f"--teacher {args.teacher} shares no label with {args.model}")
        teacher_tags, _ = predict(args.teacher, "teacher")
        # The teacher cannot know the new types: its gold has them as O, and the comparison is on old labels.
        teacher_gold = [
            type(s)(s.tokens, [t if t in teacher_labels else OUTSIDE for t in s.tags], s.lang, s.path, s.line)
            for s in corpus.sentences
        ]
        teacher_old = [t for t in entity_types(teacher_labels) if t in old_types]
        report["teacher_scores"] = score(teacher_gold, teacher_tags, teacher_old, [], args.mode)
        report["forgetting"] = forgetting(report["scores"], report["teacher_scores"], teacher_old)
        report["teacher_note"] = (
            "The teacher is scored with gold tags of types it does not know mapped to O; "
            "forgetting = teacher F1 - model F1 on the old labels, in points."
        )
    if args.report and state.is_main_process:
        from labelgrow.report import write_report

        write_report(report, Path(args.report))
    state.wait_for_everyone()
    return report


def _old_and_new_types(model: str, model_labels: list[str], teacher: str | None, trust_remote_code: bool):
    """Old/new split: from the model's labelgrow.json, else from the teacher's labels, else every type is old."""
    import json

    from labelgrow.labels import entity_types
    from labelgrow.modeling import load_config

    types = entity_types(model_labels)
    run_file = Path(model) / "labelgrow.json"
    if run_file.is_file():
        run = json.loads(run_file.read_text(encoding="utf-8"))
        new = [t for t in run.get("new_types", []) if t in types]
        return [t for t in types if t not in new], new
    if teacher:
        known = set(entity_types(load_config(teacher, trust_remote_code).id2label.values()))
        return [t for t in types if t in known], [t for t in types if t not in known]
    return types, []
