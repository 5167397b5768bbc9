"""Train once: a run is reused while its settings and labelgrow's code are unchanged, else trained again in a process
of its own whose wall time and peak memory are measured (harness/measure.py)."""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from harness.measure import extend_measured

ROOT = Path(__file__).resolve().parents[2]


# The modules that decide a run's weights and a model's tags. The commands, reports and metrics are left out:
# every figure is recomputed from the cached tags, so changing how results are shown never retrains anything.
TRAINING_CODE = (
    "configuration",
    "data",
    "decoding",
    "extension",
    "features",
    "inference",
    "labels",
    "losses",
    "modeling",
    "teacher",
    "teacher_cache",
    "trainer",
)


@functools.cache
def code_digest() -> str:
    """A hash of labelgrow's training and inference code: a run made by other code is not reused."""
    digest = hashlib.sha256()
    for name in TRAINING_CODE:
        path = ROOT / "labelgrow" / f"{name}.py"
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


class Progress:
    """One line per finished step with the elapsed time and an estimate of what is left."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = max(total, 1), 0, time.time()

    def step(self, what: str) -> None:
        self.done += 1
        elapsed = time.time() - self.started
        left = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.done}/{self.total}] {what} | {elapsed / 60:.1f} min elapsed, ~{left / 60:.0f} min left",
            file=sys.stderr,
            flush=True,
        )


def other_base(output: Path, stamp: Mapping[str, Any]) -> str:
    """The stamp's base model (``base``, or ``model`` for adapt) where the run at ``output`` grew an earlier model
    of that name (a teacher trained again since): its settings match, yet it is not this base's run. Told by
    labelgrow.json: the run's history holds its base's ``created``. "" where it is this base's run, or unknown."""
    base = stamp.get("base") or stamp.get("model")
    record, mine = Path(str(base)) / "labelgrow.json", output / "labelgrow.json"
    if not base or not record.exists() or not mine.exists():
        return ""
    created = json.loads(record.read_text(encoding="utf-8")).get("created")
    history = json.loads(mine.read_text(encoding="utf-8")).get("history") or []
    grown_from = [step.get("created") for step in history[:-1]]
    return str(base) if created and grown_from and created not in grown_from else ""


def canonical(value: Any) -> Any:
    """Settings with every path that exists written absolute and resolved, so that a run stamped with
    ``runs/x/train.txt`` is the run asked for as ``/work/main/runs/x/train.txt`` (or through a symlinked ``runs``)
    and is reused, not trained again over the finished one."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, str) and "/" in value and Path(value).exists():
        return str(Path(value).resolve())
    return value


# each training command's arguments: where its defaults live
ARGUMENTS = {
    "extend": ("labelgrow.configuration", "ExtendArguments"),
    "compress": ("labelgrow.compression", "CompressArguments"),
    "adapt": ("labelgrow.adaptation", "AdaptArguments"),
}


def changed_defaults(output: Path, stamp: Mapping[str, Any], command: str | None = "extend") -> str:
    """The options ``stamp`` leaves to labelgrow whose default now differs from the value the run at ``output`` was
    made with (its labelgrow.json ``settings``), e.g. ``freeze_layers: 2 -> '1/3'``; "" where none (or unknown: no
    record, an option the run's labelgrow did not have, ``command`` None). The stamp holds only the options a
    benchmark sets, and ``--reuse-other-code`` accepts runs of other code: without this, a run made under an old
    default would be reused as if it were the default's."""
    record = output / "labelgrow.json"
    if command is None or not record.exists():
        return ""
    made = json.loads(record.read_text(encoding="utf-8")).get("settings") or {}
    module, name = ARGUMENTS[command]
    arguments = getattr(importlib.import_module(module), name)
    changes = []
    for option in fields(arguments):
        if option.name in stamp or option.name not in made:
            continue
        if option.default is not MISSING:
            now = option.default
        elif option.default_factory is not MISSING:
            now = option.default_factory()
        else:
            continue
        if json.loads(json.dumps(now)) != made[option.name]:
            changes.append(f"{option.name}: {made[option.name]!r} -> {now!r} (labelgrow's default now)")
    return "; ".join(changes)


def finished(output: Path, stamp: dict[str, Any], any_code: bool = False, command: str | None = "extend") -> bool:
    """A finished run at ``output`` made with these settings (and this code, unless ``any_code``) and labelgrow's
    defaults as they are now (see ``changed_defaults``) from the base model as it is now (see ``other_base``)."""
    settings = output / "benchmark-settings.json"
    if not (output / "labelgrow.json").exists() or not settings.exists() or other_base(output, stamp):
        return False
    if changed_defaults(output, stamp, command):
        return False
    made = json.loads(settings.read_text())
    if any_code:
        made = {**made, "_labelgrow_code": stamp["_labelgrow_code"]}
    return canonical(made) == canonical(stamp)


def changed_settings(output: Path, stamp: dict[str, Any]) -> str:
    """How the finished run at ``output`` was made differently from ``stamp`` ("" where there is none)."""
    settings = output / "benchmark-settings.json"
    if not (output / "labelgrow.json").exists() or not settings.exists():
        return ""
    made = json.loads(settings.read_text())
    same, now = canonical(made), canonical(stamp)
    keys = sorted(k for k in set(made) | set(stamp) if same.get(k) != now.get(k))
    return "; ".join(f"{k}: {made.get(k)!r} -> {stamp.get(k)!r}" for k in keys)


def trained_by(output: Path) -> str | None:
    """The code digest of the labelgrow that made the run at ``output`` (None where it was not made here)."""
    settings = output / "benchmark-settings.json"
    return json.loads(settings.read_text()).get("_labelgrow_code") if settings.exists() else None


def train_once(config: dict[str, Any], what: str, any_code: bool = False, command: str = "extend") -> dict[str, Any]:
    """``labelgrow.extend(**config)`` (or ``compress``) unless a finished run with the same settings and code (any
    code with ``any_code``) is already at ``config["output"]``; returns its cost (wall s, peak RSS MB, train s,
    steps)."""
    output = Path(config["output"])
    stamp = {**config, "_labelgrow_code": code_digest()}
    if finished(output, stamp, any_code, command):
        made_by = trained_by(output)
        other = "" if made_by == code_digest() else f" (trained by labelgrow code {made_by}, not {code_digest()})"
        print(f"{what}: reusing {output}{other}", file=sys.stderr, flush=True)
        return json.loads((output / "benchmark-cost.json").read_text())
    changed = "; ".join(filter(None, (changed_settings(output, stamp), changed_defaults(output, stamp, command))))
    if changed:  # say what differs before a finished run is replaced (a relative path resolved elsewhere, say)
        print(f"{what}: {output} was made with other settings ({changed}); training again", file=sys.stderr)
    elif stale := other_base(output, stamp):
        print(f"{what}: {output} grew an earlier {stale}; training again", file=sys.stderr)
    print(f"{what}: training -> {output}", file=sys.stderr, flush=True)
    cost = extend_measured(config, what, command)
    (output / "benchmark-settings.json").write_text(json.dumps(stamp, indent=2))
    (output / "benchmark-cost.json").write_text(json.dumps(cost))
    return cost


def interpolate_once(student: Path, teacher: str, weight: float, output: Path) -> None:
    """The student averaged with its teacher (labelgrow.modeling.interpolate_with_teacher), saved as a checkpoint
    with the student's labelgrow.json; reused while both inputs are unchanged."""
    stamp = {
        "student": str(student),
        "student_weights": (student / "model.safetensors").stat().st_mtime,
        "teacher": teacher,
        "weight": weight,
        "_labelgrow_code": code_digest(),
    }
    if finished(output, stamp, command=None):  # its labelgrow.json is the student's: the student's own run decides
        return
    from labelgrow.modeling import interpolate_with_teacher, load_base, load_token_classifier

    model = load_token_classifier(str(student))
    base = load_base(teacher)
    interpolate_with_teacher(model, base.teacher, weight)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output))
    base.tokenizer.save_pretrained(str(output))
    run = json.loads((student / "labelgrow.json").read_text())
    run["interpolated"] = {"student": str(student), "teacher": teacher, "weight": weight}
    (output / "labelgrow.json").write_text(json.dumps(run, indent=2))
    (output / "benchmark-settings.json").write_text(json.dumps(stamp, indent=2))
