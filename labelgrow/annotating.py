"""``labelgrow annotate``: pre-annotate raw text for an annotation tool, and choose what to annotate first.

Every sentence a person annotates for a new type must carry the old entities too, or the background shift starts in
the training set. So the tasks come pre-annotated: the old entities as the teacher sees them and the new ones as the
grown model sees them (or all from ``--model`` alone), for Label Studio, doccano, CoNLL or labelgrow's span-JSON.
The annotated export goes straight back into ``extend --train`` (labelgrow/data.py reads both tools' exports).

Selection (``--select``), most useful first, ``--top N`` of them:
- ``uncertain``: the texts whose least sure word is least sure (the lowest probability any word's chosen tag has);
- ``disagree``: the texts where the grown model changes most of the teacher's entities (an entity not kept, see
  metrics.classify_change, or an old-type entity the teacher did not find), ties by uncertainty.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelgrow.configuration import (
    AnnotationFormat,
    InferenceArguments,
    LanguageArguments,
    Selection,
    _as_list,
    _check,
    call_arguments,
    choice,
)
from labelgrow.data import Sentence, read_unlabelled, tokenize_with_offsets
from labelgrow.errors import LabelgrowError
from labelgrow.exchange import doccano_line, label_config, label_studio_task
from labelgrow.labels import entity_types
from labelgrow.languages import assign_languages
from labelgrow.metrics import classify_change, extract_entities
from labelgrow.prediction import entities

logger = logging.getLogger(__name__)

TASK_FILES = {
    "label-studio": "tasks.json",
    "doccano": "tasks.jsonl",
    "conll": "tasks.conll",
    "spans": "tasks.spans.jsonl",
}


@dataclass(kw_only=True)
class AnnotateArguments(InferenceArguments, LanguageArguments):
    """Everything ``labelgrow annotate`` needs."""

    model: str
    input: list[Any]
    output: str
    teacher: str | None = None
    format: str = "label-studio"
    select: str = "none"
    top: int | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        self.input = _as_list(self.input)
        _check(bool(self.input), '--input is required: one text per line, or JSON lines with a "text" field')
        _check(bool(self.output), "--output is required: the directory to write the tasks to")
        self.format = choice(self.format, AnnotationFormat, "--format")
        self.select = choice(self.select, Selection, "--select")
        _check(
            not (self.select == Selection.DISAGREE and not self.teacher),
            "--select disagree compares the grown model with its teacher: give --teacher",
        )
        _check(self.top is None or self.top >= 1, f"--top must be >= 1, not {self.top}")
        self.check_inference()
        self.check_languages()
        out = Path(self.output)
        if out.exists() and any(out.iterdir()) and not self.overwrite:
            raise LabelgrowError(f"--output {out} exists and is not empty (use --overwrite to replace its tasks)")


@dataclass
class AnnotateResult:
    """Where the tasks went and what they hold."""

    output: Path
    files: list[Path]
    texts: int
    written: int
    entities: dict[str, int]
    selected_by: str


def with_text(sentence: Sentence) -> Sentence:
    """A CoNLL sentence has words but no raw text: join them with spaces (offsets follow)."""
    if sentence.text is not None:
        return sentence
    text = " ".join(sentence.tokens)
    tokens, offsets = tokenize_with_offsets(text)
    return Sentence(tokens, None, sentence.lang, sentence.path, sentence.line, text, offsets)


def least_sure(scores: Sequence[float]) -> float:
    """The lowest probability of any word's chosen tag (words without sub-words, score 0, left out)."""
    return min((s for s in scores if s > 0), default=1.0)


def disagreement(teacher_tags: Sequence[str], model_tags: Sequence[str], old: set[str], new: set[str]) -> int:
    """How many of the teacher's old-type entities the model does not keep, plus the model's old-type entities
    that overlap none of the teacher's."""
    teacher = [e for e in extract_entities(teacher_tags) if e[0] in old]
    model = extract_entities(model_tags)
    changed = sum(classify_change(e, model, new)[0] != "kept" for e in teacher)
    added = sum(1 for m in model if m[0] in old and not any(m[1] <= t[2] and t[1] <= m[2] for t in teacher))
    return changed + added


def merge(teacher: list[dict[str, Any]], model: list[dict[str, Any]], new: set[str]) -> list[dict[str, Any]]:
    """The teacher's old-type entities and the model's new-type ones; where they overlap the new type wins (the
    grown model was trained to refine there)."""
    fresh = [e for e in model if e["type"] in new]

    def overlaps(a: dict[str, Any]) -> bool:
        return any(a["start"] < b["end"] and b["start"] < a["end"] for b in fresh)

    kept = [e for e in teacher if e["type"] not in new and not overlaps(e)]
    return sorted(kept + fresh, key=lambda e: e["start"])


def run_annotate(args: AnnotateArguments) -> AnnotateResult:
    """Pre-annotate ``args.input`` with the model (and the teacher), order and cut by ``args.select``/``top``,
    and write the tasks in ``args.format`` to ``args.output``."""
    from labelgrow.evaluation import model_labels
    from labelgrow.prediction import predict_sentences

    model_types = entity_types(model_labels(args.model, args.trust_remote_code))
    teacher_types = (
        entity_types(model_labels(args.teacher, args.trust_remote_code, "--teacher")) if args.teacher else []
    )
    new = {t for t in model_types if t not in teacher_types} if args.teacher else set()
    sentences = [with_text(s) for s in read_unlabelled(args.input, "auto", args.given_lang)]
    assign_languages(sentences, args, "--input")
    model = predict_sentences(args.model, sentences, args)
    teacher = predict_sentences(args.teacher, sentences, args, "--teacher", "teacher") if args.teacher else None

    rows = []
    for i, (sentence, found) in enumerate(zip(sentences, model, strict=True)):
        spans = entities(sentence, found.tags, found.scores)
        score: dict[str, Any] = {"least_sure": round(least_sure(found.scores), 4)}
        if teacher is not None:
            spans = merge(entities(sentence, teacher[i].tags, teacher[i].scores), spans, new)
            score["disagreement"] = disagreement(teacher[i].tags, found.tags, set(teacher_types), new)
        rows.append((sentence, spans, score))
    if args.select == Selection.UNCERTAIN:
        rows.sort(key=lambda r: r[2]["least_sure"])
    elif args.select == Selection.DISAGREE:
        rows.sort(key=lambda r: (-r[2]["disagreement"], r[2]["least_sure"]))
    chosen = rows[: args.top] if args.top else rows

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    types = sorted(set(model_types) | set(teacher_types), key=lambda t: [*teacher_types, *model_types].index(t))
    path = out / TASK_FILES[args.format]
    version = Path(args.model).name or args.model
    lines = []
    for rank, (sentence, spans, score) in enumerate(chosen, 1):
        meta = {"source": f"{sentence.path}:{sentence.line}", "selected_by": args.select, "rank": rank, **score}
        lang = sentence.lang if sentence.lang != "und" else None
        if args.format == AnnotationFormat.LABEL_STUDIO:
            lines.append(label_studio_task(sentence.text or "", spans, lang, version, meta))
        elif args.format == AnnotationFormat.DOCCANO:
            lines.append(doccano_line(sentence.text or "", spans, lang, meta))
        elif args.format == AnnotationFormat.SPANS:
            lines.append(span_json_line(sentence.text or "", spans, lang))
        else:
            lines.append(conll_block(sentence, spans))
    if args.format == AnnotationFormat.LABEL_STUDIO:
        path.write_text(json.dumps(lines, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (out / "label_config.xml").write_text(label_config(types), encoding="utf-8")
    elif args.format == AnnotationFormat.CONLL:
        path.write_text("\n".join(lines), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    counts: dict[str, int] = {}
    for _, spans, _ in chosen:
        for e in spans:
            counts[e["type"]] = counts.get(e["type"], 0) + 1
    files = sorted(out.iterdir())
    logger.info("wrote %d of %d texts to %s (%s)", len(chosen), len(rows), path, args.select)
    return AnnotateResult(out, files, len(rows), len(chosen), counts, args.select)


def span_json_line(text: str, spans: Sequence[dict[str, Any]], lang: str | None) -> dict[str, Any]:
    """labelgrow's span-JSON (CLUENER): ``{TYPE: {entity text: [[start, end_inclusive], ...]}}``."""
    label: dict[str, dict[str, list[list[int]]]] = {}
    for e in spans:
        label.setdefault(e["type"], {}).setdefault(text[e["start"] : e["end"]], []).append([e["start"], e["end"] - 1])
    line: dict[str, Any] = {"text": text, "label": label}
    if lang:
        line["lang"] = lang
    return line


def conll_block(sentence: Sentence, spans: Sequence[dict[str, Any]]) -> str:
    """``# lang = xx`` and one ``word TAG`` line per word (a span's words from its offsets)."""
    tags = ["O"] * len(sentence.tokens)
    for e in spans:
        inside = [i for i, (s, t) in enumerate(sentence.offsets or []) if s < e["end"] and t > e["start"]]
        for k, i in enumerate(inside):
            tags[i] = f"{'B' if k == 0 else 'I'}-{e['type']}"
    head = f"# lang = {sentence.lang}\n" if sentence.lang != "und" else ""
    return head + "".join(f"{w} {t}\n" for w, t in zip(sentence.tokens, tags, strict=True))


def annotate(args: AnnotateArguments | None = None, /, **kwargs: Any) -> AnnotateResult:
    """The Python face of ``labelgrow annotate``: ``annotate(model=..., input=[...], output=...)``."""
    return run_annotate(call_arguments(AnnotateArguments, args, kwargs))
