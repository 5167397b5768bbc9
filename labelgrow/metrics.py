"""Entity-level metrics, free of torch: seqeval-style scores per language x label, old vs new labels, forgetting
against a teacher, and the change report that says what happened to each old entity.

Counts (true positives, false positives, false negatives) are kept per type so that any grouping -- a language,
the old labels, the new labels -- is an exact micro-average of the same counts, and shards from several processes
add up exactly. Everything here takes tags (lists of strings), never models: the commands (evaluation.py,
diffing.py), the trainer and the benchmarks all score through these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelgrow.configuration import SCORE_MODES, UNSURE_BELOW
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
    """The flat metrics logged during training: F1 over the annotated types (selects the best checkpoint), old
    and new F1 where the validation data has such entities, and per-language F1."""
    overall = report["overall"]
    metrics = {"f1": overall["annotated"]["f1"]}
    for group in ("old", "new"):  # a group without gold in the validation data has no F1 (not 0.0)
        if overall[group]["support"]:
            metrics[f"{group}_f1"] = overall[group]["f1"]
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


# --- what became of each old entity ---------------------------------------------------------------------------

Entity = tuple[str, int, int]  # (type, first word, last word), as extract_entities returns
CHANGES = ("kept", "refined", "lost", "confused", "boundary")
NOT_REFINEMENT = ("lost", "confused", "boundary")  # the changes that are forgetting whatever the new types mean


def _overlap(a: Entity, b: Entity) -> int:
    return max(0, min(a[2], b[2]) - max(a[1], b[1]) + 1)


def classify_change(reference: Entity, model: Iterable[Entity], new_types: Iterable[str]) -> tuple[str, Entity | None]:
    """What the grown model did with one old-type ``reference`` entity (the teacher's), and the model's entity
    it became: *kept* (same span, same type), *refined* (the most-overlapping model entity has a new type),
    *confused* (another old type), *boundary* (same type, other span), *lost* (no overlapping entity: O)."""
    model = list(model)
    if reference in model:
        return "kept", reference
    overlapping = [m for m in model if _overlap(m, reference)]
    if not overlapping:
        return "lost", None
    best = max(overlapping, key=lambda m: (_overlap(m, reference), -abs(m[1] - reference[1])))
    if best[0] in set(new_types):
        return "refined", best
    return ("boundary" if best[0] == reference[0] else "confused"), best


def _words(tokens: Sequence[str], entity: Entity | None) -> str:
    return "" if entity is None else " ".join(tokens[entity[1] : entity[2] + 1])


def change_report(
    sentences: Sequence[Sentence],
    teacher_tags: Sequence[Sequence[str]],
    model_tags: Sequence[Sequence[str]],
    old_types: Sequence[str],
    new_types: Sequence[str],
    use_gold: bool,
    examples: int = 3,
    mode: str = "conlleval",
    teacher_scores: Sequence[Sequence[float]] | None = None,
    unsure_below: float = UNSURE_BELOW,
) -> dict:
    """Per language x old type, how many of the teacher's entities the grown model kept, refined into a new type,
    lost, confused with another old type or re-bounded, with up to ``examples`` examples of each change per language.

    With ``use_gold`` only the teacher's *correct* entities are followed (a change to a teacher error is not
    forgetting), and ``gained`` counts gold entities the teacher missed that the model finds. Without gold (a user's
    own raw text) every old-type entity the teacher predicts is followed, and ``added`` counts the model's old-type
    entities that overlap none of the teacher's.

    Given ``teacher_scores`` (the teacher's probability of each tag it chose), an entity on some word of which that
    probability is below ``unsure_below`` is also counted under ``teacher_unsure`` (none at 0: off): a change there
    flips a near-tie of the teacher's, which a student may tip either way, rather than knowledge the teacher was sure
    of. The examples show that probability."""
    old, new = set(old_types), set(new_types)
    extra = "gained" if use_gold else "added"
    counts: dict[str, dict[str, dict[str, int]]] = {}
    found: dict[str, list[dict]] = {c: [] for c in (*CHANGES[1:], extra)}
    shown: dict[tuple[str, str], int] = {}

    unsure: dict[str, dict[str, dict[str, int]]] = {}

    def bump(lang: str, type_: str, change: str, table: dict = counts) -> None:
        for key in (lang, ALL):
            row = table.setdefault(key, {}).setdefault(type_, dict.fromkeys((*CHANGES, extra), 0))
            row[change] += 1

    def remember(
        sentence: Sentence, change: str, teacher: Entity | None, became: Entity | None, sure: float | None = None
    ) -> None:
        if shown.get((sentence.lang, change), 0) >= examples:
            return
        shown[(sentence.lang, change)] = shown.get((sentence.lang, change), 0) + 1
        found[change].append(
            {
                "lang": sentence.lang,
                "source": f"{sentence.path}:{sentence.line}",
                "text": " ".join(sentence.tokens),
                "entity": _words(sentence.tokens, teacher or became),
                "teacher": teacher[0] if teacher else "O",
                "model": became[0] if became else "O",
                "model_entity": _words(sentence.tokens, became),
                **({"teacher_probability": round(sure, 3)} if sure is not None else {}),
            }
        )

    scores = teacher_scores if teacher_scores is not None else [None] * len(sentences)
    for sentence, t_tags, m_tags, t_scores in zip(sentences, teacher_tags, model_tags, scores, strict=True):
        teacher = {e for e in extract_entities(t_tags, mode) if e[0] in old}
        model = extract_entities(m_tags, mode)
        if use_gold:
            gold = {e for e in extract_entities(sentence.tags or [], mode) if e[0] in old}
            for entity in sorted(gold - teacher, key=lambda e: e[1]):
                if entity in model:
                    bump(sentence.lang, entity[0], extra)
                    remember(sentence, extra, None, entity)
            teacher &= gold
        else:
            for entity in sorted(model, key=lambda e: e[1]):
                if entity[0] in old and not any(_overlap(entity, t) for t in teacher):
                    bump(sentence.lang, entity[0], extra)
                    remember(sentence, extra, None, entity)
        for entity in sorted(teacher, key=lambda e: e[1]):
            change, became = classify_change(entity, model, new)
            bump(sentence.lang, entity[0], change)
            sure = None if t_scores is None else min(t_scores[entity[1] : entity[2] + 1])
            if sure is not None and sure < unsure_below:
                bump(sentence.lang, entity[0], change, unsure)
            if change != "kept":
                remember(sentence, change, entity, became, sure)
    overall = counts.pop(ALL, {})
    report = {
        "reference": "the teacher's correct entities (gold)" if use_gold else "the teacher's entities (no gold)",
        "changes": [*CHANGES, extra],
        "languages": {lang: counts[lang] for lang in sorted(counts)},
        "overall": overall,
        "examples": found,
    }
    if teacher_scores is not None and unsure_below > 0:
        unsure_overall = unsure.pop(ALL, {})
        report["teacher_unsure"] = {
            "below": unsure_below,
            "languages": {lang: unsure[lang] for lang in sorted(unsure)},
            "overall": unsure_overall,
        }
    return report


def change_totals(block: Mapping[str, Mapping[str, int]], changes: Sequence[str]) -> dict[str, int]:
    """The counts of one language (or overall) summed over the old types; every change in ``changes`` (a change
    report's "changes") has a count, 0 where no entity was followed."""
    totals = dict.fromkeys(changes, 0)
    for row in block.values():
        for change, n in row.items():
            totals[change] += n
    return totals


def not_kept(counts: Mapping[str, int]) -> int:
    """The entities of one change-report row (or of ``change_totals``) the model lost, confused or re-bounded: the
    changes that are not refinement."""
    return sum(counts.get(change, 0) for change in NOT_REFINEMENT)


def refine_to_parents(
    gold: Sequence[str], predicted: Sequence[str], parents: Mapping[str, Sequence[str]], mode: str = "conlleval"
) -> list[str]:
    """``predicted`` with every new-type entity that matches a gold entity of one of its parent types exactly
    (``parents``: new type -> old types it refines) relabelled to the gold's type: a refinement scored as kept."""
    out = list(predicted)
    if not parents:
        return out
    gold_types = {(s, e): t for t, s, e in extract_entities(gold, mode)}
    for type_, start, end in extract_entities(predicted, mode):
        target = gold_types.get((start, end))
        if target is not None and target in parents.get(type_, ()):
            out[start : end + 1] = [f"B-{target}", *[f"I-{target}"] * (end - start)]
    return out


F1_GROUPS = ("old", "new")


def f1_table(scores: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """``{language: {"old": F1, "new": F1}}`` from ``score`` (None where the gold has no entity of that group):
    the compact view ``export`` and ``compress`` compare models by."""
    return {
        lang: {g: (block[g]["f1"] if block.get(g) and block[g].get("support") else None) for g in F1_GROUPS}
        for lang, block in scores["languages"].items()
    }


def f1_drops(reference: dict, other: dict) -> dict[str, dict[str, float]]:
    """The reference's F1 minus the other model's, per language and group where the gold has entities."""
    return {
        lang: {g: reference[lang][g] - other[lang][g] for g in F1_GROUPS if reference[lang][g] is not None}
        for lang in reference
    }
