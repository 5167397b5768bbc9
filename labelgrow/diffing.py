"""``labelgrow diff``: what a grown model does differently from its teacher on text without gold.

A user's regression test on their own production text: every old-type entity the teacher finds is followed into
the grown model (kept, refined into a new type, lost, confused with another old type, boundary changed; see
metrics.change_report), per language x label, with examples that name the file and line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.configuration import (
    UNSURE_BELOW,
    InferenceArguments,
    LanguageArguments,
    UnlabelledFormat,
    _as_list,
    _check,
    call_arguments,
    check_unsure_below,
    choice,
)
from labelgrow.data import read_unlabelled
from labelgrow.errors import LabelgrowError
from labelgrow.labels import entity_types
from labelgrow.languages import assign_languages
from labelgrow.metrics import change_report


@dataclass(kw_only=True)
class DiffArguments(InferenceArguments, LanguageArguments):
    """Everything ``labelgrow diff`` needs."""

    teacher: str
    model: str
    data: list[Any] = field(default_factory=list)
    format: str = "auto"
    report: str | None = None
    examples: int = 3
    teacher_unsure_below: float = UNSURE_BELOW

    def __post_init__(self) -> None:
        self.data = _as_list(self.data)
        _check(bool(self.data), "--data is required: give at least one text or CoNLL file (or a directory)")
        self.format = choice(self.format, UnlabelledFormat, "--format")
        _check(self.examples >= 0, f"--examples must be >= 0, not {self.examples}")
        check_unsure_below(self.teacher_unsure_below)
        self.check_inference()
        self.check_languages()


@dataclass
class DiffResult:
    """What ``labelgrow diff`` found; ``to_dict()`` is diff.json. ``changes`` is metrics.change_report's."""

    model: str
    teacher: str
    decode: str
    old_types: list[str]
    new_types: list[str]
    data: dict[str, Any]
    changes: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_diff(args: DiffArguments) -> DiffResult:
    """Tag the data with the teacher and the grown model and report what became of each of the teacher's old-type
    entities; write diff.json and diff.md on the main process when ``args.report`` is set."""
    from accelerate import PartialState

    from labelgrow.evaluation import inference_settings, model_labels, predict_corpus

    teacher_types = entity_types(model_labels(args.teacher, args.trust_remote_code, "--teacher"))
    model_types = entity_types(model_labels(args.model, args.trust_remote_code))
    old = [t for t in teacher_types if t in model_types]
    if not old:
        raise LabelgrowError(
            f"--teacher {args.teacher} (types {', '.join(teacher_types) or '-'}) shares no entity type with "
            f"--model {args.model} (types {', '.join(model_types) or '-'})"
        )
    new = [t for t in model_types if t not in teacher_types]
    sentences = read_unlabelled(args.data, args.format, args.given_lang)
    detected = assign_languages(sentences, args, "--data") or {}
    state = PartialState(cpu=args.cpu)
    run_kwargs = inference_settings(args, state)
    model = predict_corpus(args.model, sentences, desc="model", **run_kwargs)
    teacher = predict_corpus(args.teacher, sentences, desc="teacher", option="--teacher", **run_kwargs)
    result = DiffResult(
        model=args.model,
        teacher=args.teacher,
        decode=args.decode,
        old_types=old,
        new_types=new,
        data={
            "files": sorted({s.path for s in sentences}),
            "sentences": len(sentences),
            "languages": sorted({s.lang for s in sentences}),
            "languages_detected": detected,
        },
        changes=change_report(
            sentences,
            teacher.tags,
            model.tags,
            old,
            new,
            False,
            examples=args.examples,
            teacher_scores=teacher.scores,
            unsure_below=args.teacher_unsure_below,
        ),
    )
    if args.report and state.is_main_process:
        from labelgrow.report import diff_markdown

        report = result.to_dict()
        directory = Path(args.report)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "diff.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (directory / "diff.md").write_text(diff_markdown(report), encoding="utf-8")
    state.wait_for_everyone()
    return result


def diff(args: DiffArguments | None = None, /, **kwargs: Any) -> DiffResult:
    """The Python face of ``labelgrow diff``: ``diff(teacher=..., model=..., data=[...])``."""
    return run_diff(call_arguments(DiffArguments, args, kwargs))
