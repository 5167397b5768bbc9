"""Entity-level scores (seqeval's entity extraction) per language x label, grouped into old and new labels.

Counts (true positives, false positives, false negatives) are kept per type so that any grouping -- a language,
the old labels, the new labels -- is an exact micro-average of the same counts, and shards from several processes
add up exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from labelgrow.data import Sentence
from labelgrow.labels import OUTSIDE

SCORE_MODES = ("conlleval", "strict")
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
    return {
        "sentences": n,
        "labels": labels,
        "micro": prf(_sum(counts, counts)),
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
    """The flat metrics logged during training: overall, old, new and per-language micro F1."""
    overall = report["overall"]
    metrics = {"f1": overall["micro"]["f1"], "old_f1": overall["old"]["f1"], "new_f1": overall["new"]["f1"]}
    for lang, block in report["languages"].items():
        metrics[f"f1_{lang}"] = block["micro"]["f1"]
    return metrics
