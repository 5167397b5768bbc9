"""What a run leaves behind: the output directory's safety rules, labelgrow.json and the model card."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from labelgrow.errors import LabelgrowError
from labelgrow.report import LABEL_HEADER, label_rows, language_header, language_rows, markdown_table

CHECKPOINTS = "checkpoints"
RUN_FILE = "labelgrow.json"
# the settings the model card names (those a run has: compress has no freeze_layers, extend no layers)
SETTINGS_IN_CARD = ("epochs", "max_steps", "learning_rate", "batch_size", "freeze_layers", "layers", "select", "seed")


def prepare_output(output: Path, overwrite: bool, resume: bool) -> None:
    """Refuse to overwrite a non-empty directory unless asked; with ``overwrite`` only a labelgrow output is
    deleted (never an arbitrary directory); check the directory is writable before any work starts."""
    if output.exists() and not output.is_dir():
        raise LabelgrowError(f"--output {output}: exists and is not a directory")
    non_empty = output.is_dir() and any(output.iterdir())
    if resume:
        if not (output / CHECKPOINTS).is_dir():
            raise LabelgrowError(f"--resume: {output / CHECKPOINTS} does not exist, so there is nothing to resume")
    elif non_empty and not overwrite:
        raise LabelgrowError(
            f"--output {output} is not empty; pass --overwrite to replace it or --resume to continue its run"
        )
    elif non_empty:
        if not ((output / RUN_FILE).exists() or (output / CHECKPOINTS).exists()):
            raise LabelgrowError(
                f"--overwrite: {output} does not look like a labelgrow output (no {RUN_FILE} or {CHECKPOINTS}/); "
                "refusing to delete it"
            )
        shutil.rmtree(output)
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / ".labelgrow-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise LabelgrowError(f"--output {output}: not writable ({exc.strerror})") from None


def remove_if_unfinished(output: Path) -> None:
    """After a failed run that created ``output``: remove it unless it holds a checkpoint to ``--resume`` from."""
    checkpoints = output / CHECKPOINTS
    if output.is_dir() and not (checkpoints.is_dir() and any(checkpoints.glob("checkpoint-*"))):
        shutil.rmtree(output, ignore_errors=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(files: list[str], sentences_by_file: dict[str, int]) -> list[dict[str, Any]]:
    """Path, SHA-256 and sentence count of each data file (datasets are named without a hash)."""
    out = []
    for name in files:
        path = Path(name)
        entry: dict[str, Any] = {"path": name, "sentences": sentences_by_file.get(name, 0)}
        if path.is_file():
            entry["sha256"] = sha256(path)
        out.append(entry)
    return out


def versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {}
    for package in ("labelgrow", "torch", "transformers", "accelerate", "datasets", "seqeval"):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            found[package] = "not installed"
    return found


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


TEMPLATE = Path(__file__).parent / "templates" / "model_card.md"


def model_card(run: dict[str, Any]) -> str:
    """A Hugging Face model card (README.md) for the grown checkpoint, rendered from templates/model_card.md with
    ``huggingface_hub.ModelCard.from_template``: front matter (languages, base model, ``model-index`` with old- and
    new-label F1 of the final validation), the validation table of every evaluation, per-language x label scores
    and the history of rounds."""
    from huggingface_hub import ModelCard, ModelCardData

    settings = run["settings"]
    languages = sorted({lang for lang in (run.get("languages") or []) if lang != "und"})
    name = Path(run["output"]).name
    card_data = ModelCardData(
        language=languages or None,
        library_name="transformers",
        pipeline_tag="token-classification",
        tags=["token-classification", "ner", "labelgrow"],
        base_model=None if Path(run["base"]).exists() else run["base"],
        model_name=name,
        eval_results=model_index(run) or None,
    )
    report = run.get("validation_report")
    history = run.get("history") or []
    card = ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        model_name=name,
        base=run["base"],
        old_types=", ".join(run["old_types"]) or "none",
        new_types=", ".join(run["new_types"]),
        labels=" ".join(run["labels"]),
        loss_mode=run["loss"]["mode"],
        loss_description=run["loss"]["description"],
        frozen=run["parameters"]["summary"],
        settings=", ".join(
            f"{k.replace('_', ' ')} {settings[k]}" for k in SETTINGS_IN_CARD if settings.get(k) is not None
        ),
        train_files=", ".join(f["path"] for f in run["data"]["train"]),
        evaluations=evaluation_table(run["training"].get("evaluations") or [], run["languages"]),
        language_table=markdown_table(language_header(False), language_rows(report)) if report else "",
        label_table=markdown_table(
            LABEL_HEADER[:-1], [row[:-1] for row in label_rows({"scores": report, "new_types": run["new_types"]})]
        )
        if report
        else "",
        history=markdown_table(HISTORY_HEADER, [history_row(i, h) for i, h in enumerate(history, 1)])
        if len(history) > 1
        else "",
        output=run["output"],
    )
    return str(card).rstrip("\n") + "\n"


def cell(value: Any) -> str:
    """An F1 for a markdown table: one decimal, "-" where there is none."""
    return "-" if value is None else f"{value:.1f}"


HISTORY_HEADER = ["round", "base", "labels added", "training data (sha256)", "validation F1 old / new", "created"]


def history_row(number: int, round_: dict[str, Any]) -> list[str]:
    """One round of the label history: what it grew from, what it added, on which files (each with the start of its
    hash, so a reader can tell which data a round saw) and its final validation F1 where it had validation data."""
    files = ", ".join(
        f"`{'/'.join(Path(f['path']).parts[-2:])}` {f.get('sha256', '')[:12]}".rstrip() for f in round_.get("train", [])
    )
    metrics = round_.get("metrics") or {}
    scores = f"{cell(metrics.get('eval_old_f1'))} / {cell(metrics.get('eval_new_f1'))}" if "eval_f1" in metrics else "-"
    added = ", ".join(round_["new_types"]) or f"({round_.get('kind', '-')})"
    return [str(number), f"`{round_['base']}`", added, files or "-", scores, round_["created"]]


def evaluation_table(evaluations: list[dict[str, Any]], languages: list[str]) -> str:
    """One row per validation during training: epoch, step, F1 over the annotated types, old, new, per language."""
    if not evaluations:
        return ""
    langs = [lang for lang in languages if any(f"f1_{lang}" in e for e in evaluations)]

    rows = [
        [
            f"{e.get('epoch', 0):g}",
            str(e.get("step", "")),
            cell(e.get("f1")),
            cell(e.get("old_f1")),
            cell(e.get("new_f1")),
        ]
        + [cell(e.get(f"f1_{lang}")) for lang in langs]
        for e in evaluations
    ]
    return markdown_table(["epoch", "step", "F1", "old", "new", *langs], rows)


def model_index(run: dict[str, Any]) -> list[Any]:
    """``model-index`` results (the Hub shows them as the model's results): old- and new-label F1 of the final
    validation, when there was one."""
    from huggingface_hub import EvalResult

    report = run.get("validation_report")
    if not report:
        return []
    files = [Path(f["path"]).name for f in run["data"].get("validation") or []]
    results = []
    for group, name in (("old", "old labels"), ("new", "new labels")):
        if report["overall"][group]["support"]:
            types = ", ".join(run["old_types"] if group == "old" else run["new_types"])
            results.append(
                EvalResult(
                    task_type="token-classification",
                    task_name="Named entity recognition",
                    dataset_type="validation",
                    dataset_name=", ".join(files) or "validation data",
                    metric_type="f1",
                    metric_name=f"entity F1, {name} ({types})",
                    metric_value=round(report["overall"][group]["f1"], 2),
                )
            )
    return results


@dataclass
class RunRecord:
    """What one ``extend`` run was and did; renders labelgrow.json (``as_dict``) and the model card."""

    base: str
    output: str
    labels: Any  # labels.LabelSet
    parents: dict[str, list[str]]
    train: Any  # data.Corpus (rehearsal text included)
    validation: Any | None
    loss: dict[str, Any]
    settings: dict[str, Any]
    frozen: Any  # modeling.FreezeSummary
    stats: Any  # features.EncodingStats
    training: dict[str, Any]
    metrics: dict[str, float]
    validation_report: dict | None
    kind: str = "extend"  # what made this checkpoint: "extend" (new labels), "compress" (fewer layers), "adapt"
    added_tokens: dict[str, Any] | None = None  # vocabulary.DomainWords.record(): the --add-tokens words
    created: str = field(default_factory=lambda: utc_now())

    def as_dict(self) -> dict[str, Any]:
        """labelgrow.json (keys documented in docs/usage.md)."""
        found = versions()
        run = {
            "labelgrow_version": found["labelgrow"],
            "kind": self.kind,
            "created": self.created,
            "base": self.base,
            "output": self.output,
            "old_labels": list(self.labels.old),
            "new_labels": list(self.labels.new),
            "labels": list(self.labels.labels),
            "old_types": self.labels.old_types,
            "new_types": list(self.labels.new_types),
            "parents": self.parents,
            "languages": self.train.languages(),
            "loss": self.loss,
            "settings": self.settings,
            "parameters": {
                "trainable": self.frozen.trainable,
                "total": self.frozen.total,
                "frozen_layers": self.frozen.frozen_layers,  # settings' --freeze-layers resolved (a fraction too)
                "summary": str(self.frozen),
            },
            "added_tokens": self.added_tokens,
            "data": {
                "train": describe_files(self.train.files, Counter(s.path for s in self.train.sentences)),
                "validation": describe_files(self.validation.files, Counter(s.path for s in self.validation.sentences))
                if self.validation
                else [],
                "repaired_bio_tags": dict(self.train.repaired),
                "label_map_changes": dict(self.train.mapped),
                "languages_detected": {
                    name: dict(corpus.detected)
                    for name, corpus in (("train", self.train), ("validation", self.validation))
                    if corpus is not None and corpus.detected
                },
                "train_windows": self.stats.windows,
                "split_long_sentences": self.stats.split_sentences,
                "words_without_subwords": self.stats.words_without_subwords,
            },
            "training": self.training,
            "metrics": self.metrics,
            "validation_report": self.validation_report,
            "versions": found,
        }
        run["history"] = label_history(self.base, run)
        return run

    def write(self, directory: Path) -> None:
        write_run_files(directory, self.as_dict())


def write_run_files(directory: Path, run: dict[str, Any]) -> None:
    (directory / RUN_FILE).write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "README.md").write_text(model_card(run), encoding="utf-8")


def publish(staging: Path, output: Path) -> None:
    """Move the finished model's files from ``staging`` into ``output``, each with an atomic rename, and
    labelgrow.json last: a directory without labelgrow.json is never a finished model, and no file in ``output``
    is ever half-written (each is complete in ``staging`` before it is renamed)."""
    items = sorted(staging.iterdir(), key=lambda p: p.name == RUN_FILE)
    for item in items:
        target = output / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)
    staging.rmdir()


def read_run_record(model: str | Path) -> dict[str, Any]:
    """A checkpoint's labelgrow.json (empty for a checkpoint labelgrow did not write, or a hub id)."""
    path = Path(model) / RUN_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def label_history(base: str, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every round that grew this model: the base's own history (from its labelgrow.json) and this round."""
    earlier = read_run_record(base).get("history", [])
    this = {k: run[k] for k in ("base", "created", "old_labels", "new_types", "metrics")}
    this["kind"] = run.get("kind", "extend")
    if this["kind"] != "extend":  # compress keeps the labels: nothing was added in this step
        this["new_types"] = []
    this["train"] = [{k: f[k] for k in ("path", "sha256") if k in f} for f in run["data"]["train"]]
    return [*earlier, this]
