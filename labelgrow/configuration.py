"""Arguments of ``labelgrow extend``, validated when built (so Python and CLI users get the same errors)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from labelgrow.errors import LabelgrowError
from labelgrow.labels import parse_new_labels, parse_parents

KD_MODES = ("o-aware", "seed", "none")  # see labelgrow/losses.py
KD_TARGETS = ("old-slice", "unbiased")  # see labelgrow/losses.py
TEACHER_PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # see labelgrow/teacher.py


@dataclass
class ExtendArguments:
    """Everything ``extend`` needs. Defaults are the recommended recipe (see docs/method.md)."""

    base: str
    new_labels: list[str]
    train: list[Any]
    output: str
    validation: list[Any] = field(default_factory=list)
    label_map: str | None = None
    lang: str | None = None
    parent: list[str] | dict[str, list[str]] | None = None  # NEW=OLD,OLD: the old types a new type refines
    epochs: float = 3.0
    max_steps: int | None = None
    learning_rate: float = 5e-5
    head_learning_rate: float | None = 3e-3
    batch_size: int = 16
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    freeze_layers: int | str = 2  # encoder layers 0..N-1, or "all"
    freeze_embeddings: bool = True
    freeze_old_rows: bool = False  # baseline: the classifier's old rows fixed (with all layers frozen: new rows only)
    kd: str = "o-aware"
    kd_alpha: float = 0.5
    kd_temperature: float = 2.0
    kd_target: str = "old-slice"
    pseudo_label_threshold: float = 0.0
    rehearsal: list[Any] = field(default_factory=list)  # text without the new types: KD + "not new" on every word
    max_length: int | None = None
    label_all_subwords: bool = False
    teacher_cache: bool = False
    teacher_precision: str = "auto"
    share_frozen_layers: bool = True
    reset_head: bool = False
    eval_steps: int | None = None
    save_steps: int | None = None
    logging_steps: int = 10
    eval_batch_size: int = 32
    bf16: bool = False
    fp16: bool = False
    cpu: bool = False
    seed: int = 42
    overwrite: bool = False
    resume: bool = False
    keep_checkpoints: bool = False
    report_to: str = "none"  # Trainer integrations (tensorboard, wandb, ...); none: nothing leaves the machine
    trust_remote_code: bool = False
    allow_pickle: bool = False

    def __post_init__(self) -> None:
        self.new_labels = parse_new_labels(self.new_labels)
        self.train = _as_list(self.train)
        self.validation = _as_list(self.validation)
        self.rehearsal = _as_list(self.rehearsal)
        if not self.train:
            raise LabelgrowError("--train is required: give at least one training file or directory")
        if not self.output:
            raise LabelgrowError("--output is required: the directory to write the grown model to")
        if not self.base:
            raise LabelgrowError("--base is required: a hub id or a local checkpoint directory")
        _check(self.epochs > 0, f"--epochs must be > 0, not {self.epochs}")
        _check(self.max_steps is None or self.max_steps > 0, f"--max-steps must be > 0, not {self.max_steps}")
        _check(self.learning_rate > 0, f"--learning-rate must be > 0, not {self.learning_rate}")
        _check(
            self.head_learning_rate is None or self.head_learning_rate > 0,
            f"--head-learning-rate must be > 0, not {self.head_learning_rate}",
        )
        _check(self.batch_size >= 1, f"--batch-size must be >= 1, not {self.batch_size}")
        _check(self.gradient_accumulation_steps >= 1, "--gradient-accumulation-steps must be >= 1")
        _check(0.0 <= self.warmup_ratio < 1.0, f"--warmup-ratio must be in [0, 1), not {self.warmup_ratio}")
        _check(self.weight_decay >= 0, f"--weight-decay must be >= 0, not {self.weight_decay}")
        _check(self.eval_batch_size >= 1, f"--eval-batch-size must be >= 1, not {self.eval_batch_size}")
        _check(self.logging_steps >= 1, f"--logging-steps must be >= 1, not {self.logging_steps}")
        for name in ("eval_steps", "save_steps"):
            value = getattr(self, name)
            _check(value is None or value >= 1, f"--{name.replace('_', '-')} must be >= 1, not {value}")
        if self.validation and self.eval_steps and self.save_steps:
            # the best checkpoint is chosen among saved ones, so every save must fall on an evaluation
            _check(
                self.save_steps % self.eval_steps == 0,
                f"--save-steps {self.save_steps} must be a multiple of --eval-steps {self.eval_steps} when "
                "--validation selects the best checkpoint",
            )
        if isinstance(self.freeze_layers, str) and self.freeze_layers != "all":
            _check(
                self.freeze_layers.isdigit(),
                f"--freeze-layers must be a number >= 0 or all, not {self.freeze_layers!r}",
            )
            self.freeze_layers = int(self.freeze_layers)
        _check(
            self.freeze_layers == "all" or self.freeze_layers >= 0,
            f"--freeze-layers must be >= 0, not {self.freeze_layers}",
        )
        _check(self.kd in KD_MODES, f"--kd must be one of {', '.join(KD_MODES)}, not {self.kd!r}")
        _check(0.0 <= self.kd_alpha <= 1.0, f"--kd-alpha must be in [0, 1], not {self.kd_alpha}")
        _check(self.kd_temperature > 0, f"--kd-temperature must be > 0, not {self.kd_temperature}")
        _check(
            self.kd_target in KD_TARGETS, f"--kd-target must be one of {', '.join(KD_TARGETS)}, not {self.kd_target!r}"
        )
        _check(not (self.rehearsal and self.kd == "none"), "--rehearsal needs a teacher: it is ignored by --kd none")
        _check(
            0.0 <= self.pseudo_label_threshold <= 1.0,
            f"--pseudo-label-threshold must be in [0, 1] (0: off), not {self.pseudo_label_threshold}",
        )
        _check(not (self.bf16 and self.fp16), "--bf16 and --fp16 exclude each other")
        _check(
            self.teacher_precision in TEACHER_PRECISIONS,
            f"--teacher-precision must be one of {', '.join(TEACHER_PRECISIONS)}, not {self.teacher_precision!r}",
        )
        _check(self.max_length is None or self.max_length >= 8, f"--max-length must be >= 8, not {self.max_length}")
        _check(not (self.overwrite and self.resume), "--overwrite and --resume exclude each other")
        parents = parse_parents(self.parent)
        unknown = sorted(set(parents) - set(self.new_labels))
        _check(not unknown, f"--parent {','.join(unknown)}=...: not in --new-labels {','.join(self.new_labels)}")
        if self.label_map is not None and not Path(self.label_map).is_file():
            raise LabelgrowError(f"--label-map: {self.label_map} does not exist")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe settings for labelgrow.json (in-memory datasets are named, not dumped)."""
        data = asdict(self)
        for key in ("train", "validation", "rehearsal"):
            data[key] = [str(x) if isinstance(x, str | Path) else f"<{type(x).__name__}>" for x in data[key]]
        return data


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Path) or hasattr(value, "column_names"):
        return [value]
    return list(value)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise LabelgrowError(message)


def field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def read_config_file(path: str | Path, allowed: set[str]) -> dict[str, Any]:
    """A ``--config`` YAML (or JSON) mapping option names (``new-labels`` or ``new_labels``) to values."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise LabelgrowError(f"--config: {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise LabelgrowError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise LabelgrowError(f"{path}: expected a mapping of option names to values")
    config = {str(k).replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise LabelgrowError(f"{path}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    return config


SCORE_MODES = ("conlleval", "strict")  # see labelgrow/evaluation.py
DECODINGS = ("bio", "argmax")  # see labelgrow/decoding.py


@dataclass(kw_only=True)
class InferenceArguments:
    """What every command that runs models shares: decoding, batching, precision, device and trust."""

    decode: str = "bio"
    batch_size: int = 32
    max_length: int | None = None
    bf16: bool = False
    fp16: bool = False
    cpu: bool = False
    trust_remote_code: bool = False
    allow_pickle: bool = False

    def check_inference(self) -> None:
        _check(self.decode in DECODINGS, f"--decode must be one of {', '.join(DECODINGS)}, not {self.decode!r}")
        _check(self.batch_size >= 1, f"--batch-size must be >= 1, not {self.batch_size}")
        _check(self.max_length is None or self.max_length >= 8, f"--max-length must be >= 8, not {self.max_length}")
        _check(not (self.bf16 and self.fp16), "--bf16 and --fp16 exclude each other")


@dataclass(kw_only=True)
class EvalArguments(InferenceArguments):
    """Everything ``labelgrow eval`` needs."""

    model: str
    data: list[Any]
    teacher: str | None = None
    report: str | None = None
    label_map: str | None = None
    lang: str | None = None
    mode: str = "conlleval"
    unknown_as_o: bool = False
    parent: list[str] | dict[str, list[str]] | None = None  # NEW=OLD,OLD: score refinements as kept, too

    def __post_init__(self) -> None:
        self.data = _as_list(self.data)
        _check(bool(self.data), "--data is required: give at least one file or directory to score")
        _check(self.mode in SCORE_MODES, f"--mode must be one of {', '.join(SCORE_MODES)}, not {self.mode!r}")
        self.check_inference()
        if self.label_map is not None and not Path(self.label_map).is_file():
            raise LabelgrowError(f"--label-map: {self.label_map} does not exist")
        parse_parents(self.parent)  # the syntax; the types are checked against the model's labels
