"""The formats annotation tools read and write: Label Studio (JSON tasks with predictions, and its JSON export) and
doccano (JSONL with ``"label": [[start, end, TYPE], ...]``).

Offsets are Unicode code points (Python string indices), end exclusive: what both tools export (Label Studio stores
code points since its fix of emoji offsets, label-studio#1559). Torch-free; labelgrow.data reads an export through
``read_label_studio`` and doccano lines through ``doccano_spans``, and ``labelgrow annotate`` writes tasks with
``label_studio_task``, ``doccano_line`` and ``label_config``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelgrow.errors import DataError

Span = tuple[str, int, int]  # (type, start, end exclusive), code points
FROM_NAME, TO_NAME = "label", "text"  # the names label_config gives its <Labels> and <Text> tags


@dataclass
class AnnotatedText:
    """One annotated text from a tool's export: where it was (``item``: 1-based position), its spans."""

    text: str
    spans: list[Span]
    lang: str | None
    item: int


def checked_span(text: str, type_: Any, start: Any, end: Any, where: Path, item: int, surface: Any = None) -> Span:
    """A span from an export, checked: a string type, integer offsets inside the text, and (when the tool gave
    it) the span's text equal to the text at those offsets."""
    if not isinstance(type_, str) or not type_:
        raise DataError(where, item, f"span [{start}, {end}): label {type_!r} is not a non-empty string")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        raise DataError(where, item, f"{type_} span [{start!r}, {end!r}): offsets must be integers")
    if not 0 <= start < end <= len(text):
        raise DataError(
            where, item, f"{type_} span [{start}, {end}) is out of range for a text of {len(text)} characters"
        )
    if surface is not None and text[start:end] != surface:
        raise DataError(
            where,
            item,
            f"{type_} span [{start}, {end}) is {text[start:end]!r} in the text, not {surface!r} as the export says "
            "(offsets must be Unicode code points)",
        )
    return (type_, start, end)


def doccano_spans(record: Mapping[str, Any], text: str, where: Path, item: int) -> list[Span]:
    """The spans of one doccano JSONL line: ``"label"`` (or ``"entities"``, doccano's other export) as
    ``[[start, end, TYPE], ...]`` or ``[{"start_offset", "end_offset", "label"}, ...]``."""
    raw = record.get("label", record.get("entities"))
    spans = []
    for entry in raw or []:
        if isinstance(entry, Mapping):
            start, end, type_ = entry.get("start_offset"), entry.get("end_offset"), entry.get("label")
        elif isinstance(entry, list | tuple) and len(entry) == 3:
            start, end, type_ = entry
        else:
            raise DataError(where, item, f"label entry {entry!r} is not [start, end, TYPE]")
        spans.append(checked_span(text, type_, start, end, where, item))
    return spans


def is_doccano(record: Mapping[str, Any]) -> bool:
    """A doccano line has its spans as a list; labelgrow's span-JSON (CLUENER) maps types to entities."""
    return isinstance(record.get("label", record.get("entities")), list)


def task_text(task: Mapping[str, Any], where: Path, item: int) -> str:
    """The text of a Label Studio task: ``data.text``, else the only string in ``data``."""
    data = task.get("data")
    if not isinstance(data, Mapping):
        raise DataError(where, item, 'a Label Studio task needs a "data" object with the text')
    if isinstance(data.get(TO_NAME), str):
        return data[TO_NAME]
    strings = [k for k, v in data.items() if isinstance(v, str) and k != "lang"]
    if len(strings) != 1:
        raise DataError(where, item, f'cannot tell which of data fields {strings} is the text: name it "text"')
    return data[strings[0]]


def read_label_studio(path: Path, tasks: Any) -> tuple[list[AnnotatedText], int]:
    """The annotated texts of a Label Studio JSON export (a list of tasks), and how many tasks had no annotation
    to use (skipped: a text nobody annotated is not all-O). Each task's last annotation that was not cancelled is
    used; ``data.lang`` gives its language."""
    if not isinstance(tasks, list):
        raise DataError(path, None, "a Label Studio export is a JSON list of tasks")
    found, unannotated = [], 0
    for item, task in enumerate(tasks, 1):
        if not isinstance(task, Mapping):
            raise DataError(path, item, "task is not a JSON object")
        annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if not annotations:
            unannotated += 1
            continue
        text = task_text(task, path, item)
        spans = []
        for result in annotations[-1].get("result") or []:
            if result.get("type") not in ("labels", None):
                continue  # relations, choices, text areas: not spans
            value = result.get("value") or {}
            labels = value.get("labels") or []
            if len(labels) != 1:
                raise DataError(path, item, f"span {value.get('text')!r} has {len(labels)} labels, expected one")
            spans.append(
                checked_span(text, labels[0], value.get("start"), value.get("end"), path, item, value.get("text"))
            )
        lang = task["data"].get("lang")
        found.append(AnnotatedText(text, spans, lang if isinstance(lang, str) else None, item))
    return found, unannotated


def looks_like_label_studio(raw: str) -> bool:
    """A JSON list (Label Studio's export); labelgrow's and doccano's formats are one object per line."""
    return raw.lstrip().startswith("[")


def load_label_studio(path: Path, raw: str) -> tuple[list[AnnotatedText], int]:
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    return read_label_studio(path, tasks)


# --- writing tasks for the tools -------------------------------------------------------------------------------


def label_studio_task(
    text: str, entities: Sequence[Mapping[str, Any]], lang: str | None, model_version: str, meta: Mapping | None = None
) -> dict[str, Any]:
    """A Label Studio task with the model's entities as a prediction (pre-annotation the annotator corrects)."""
    results = [
        {
            "id": f"lg{i}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "value": {"start": e["start"], "end": e["end"], "text": text[e["start"] : e["end"]], "labels": [e["type"]]},
            "score": e["score"],
        }
        for i, e in enumerate(entities)
    ]
    scores = [e["score"] for e in entities]
    data: dict[str, Any] = {TO_NAME: text}
    if lang:
        data["lang"] = lang
    if meta:
        data["labelgrow"] = dict(meta)
    return {
        "data": data,
        "predictions": [
            {"model_version": model_version, "score": round(min(scores), 4) if scores else 1.0, "result": results}
        ],
    }


def doccano_line(text: str, entities: Sequence[Mapping[str, Any]], lang: str | None, meta: Mapping | None = None):
    """A doccano sequence-labelling import line: ``{"text", "label": [[start, end, TYPE]]}``."""
    line: dict[str, Any] = {"text": text, "label": [[e["start"], e["end"], e["type"]] for e in entities]}
    if lang:
        line["lang"] = lang
    if meta:
        line["labelgrow"] = dict(meta)
    return line


def label_config(types: Iterable[str]) -> str:
    """The Label Studio labelling interface for these entity types (the names the tasks' predictions use)."""
    labels = "\n".join(f'    <Label value="{t}"/>' for t in types)
    return (
        f'<View>\n  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}\n  </Labels>\n'
        f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>\n</View>\n'
    )
