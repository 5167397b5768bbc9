"""The commands' arguments, validated when built (so Python and CLI users get the same errors), and the choices
they offer (enums: the command line lists them in ``--help`` and Click refuses anything else)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from labelgrow.data import UNLABELLED_FORMATS
from labelgrow.errors import LabelgrowError
from labelgrow.labels import parse_new_labels, parse_parents


class Choice(str, Enum):
    """A closed set of option values; members compare equal to their strings."""

    def __str__(self) -> str:
        return self.value


class KdMode(Choice):
    """The loss (labelgrow/losses.py)."""

    O_AWARE = "o-aware"
    SEED = "seed"
    NONE = "none"


class NewRowsFrom(Choice):
    """Where the new classifier rows start (modeling.expand_classifier)."""

    OUTSIDE = "o"
    PARENT = "parent"


class PseudoLabelScope(Choice):
    """Which gold-O words may take the teacher's label as a pseudo-label (labelgrow/losses.py)."""

    ALL = "all"
    REHEARSAL = "rehearsal"


class KdTarget(Choice):
    """What the distillation term compares (labelgrow/losses.py)."""

    OLD_SLICE = "old-slice"
    UNBIASED = "unbiased"


class TeacherPrecision(Choice):
    """The teacher's dtype (labelgrow/teacher.py)."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"


class ScoreMode(Choice):
    """Entity matching (seqeval's default conlleval reading, or strict IOB2)."""

    CONLLEVAL = "conlleval"
    STRICT = "strict"


class Decoding(Choice):
    """How word probabilities become tags (labelgrow/decoding.py)."""

    BIO = "bio"
    ARGMAX = "argmax"


class InputFormat(Choice):
    """What ``predict --input`` holds: one text per line, or CoNLL words."""

    TEXT = "text"
    CONLL = "conll"


class AnnotationFormat(Choice):
    """What ``labelgrow annotate`` writes (labelgrow/exchange.py)."""

    LABEL_STUDIO = "label-studio"
    DOCCANO = "doccano"
    CONLL = "conll"
    SPANS = "spans"


class Selection(Choice):
    """Which texts ``labelgrow annotate`` puts first (labelgrow/annotating.py)."""

    NONE = "none"
    UNCERTAIN = "uncertain"
    DISAGREE = "disagree"


# what --rehearsal and diff --data read (auto: CoNLL when every line is a word, optionally with a tag)
UnlabelledFormat = Choice("UnlabelledFormat", [(v.upper(), v) for v in UNLABELLED_FORMATS])

KD_MODES = tuple(m.value for m in KdMode)
KD_TARGETS = tuple(m.value for m in KdTarget)
PSEUDO_LABEL_SCOPES = tuple(m.value for m in PseudoLabelScope)
TEACHER_PRECISIONS = tuple(m.value for m in TeacherPrecision)
SCORE_MODES = tuple(m.value for m in ScoreMode)
DECODINGS = tuple(m.value for m in Decoding)


def choice(value: Any, choices: type[Choice], option: str) -> str:
    """``value`` (a string or an enum member) as the plain string it names; an error naming ``option`` else."""
    value = value.value if isinstance(value, Enum) else value
    allowed = [m.value for m in choices]
    _check(value in allowed, f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def check_label_map(path: str | None) -> None:
    if path is not None and not Path(path).is_file():
        raise LabelgrowError(f"--label-map: {path} does not exist")


def check_max_length(value: int | None) -> None:
    _check(value is None or value >= 8, f"--max-length must be >= 8, not {value}")


@dataclass(kw_only=True)
class RuntimeArguments:
    """What every command shares: device, precision and what it may trust."""

    bf16: bool = False
    fp16: bool = False
    cpu: bool = False
    trust_remote_code: bool = False
    allow_pickle: bool = False

    def check_runtime(self) -> None:
        _check(not (self.bf16 and self.fp16), "--bf16 and --fp16 exclude each other")


AUTO_LANGUAGE = "auto"


@dataclass(kw_only=True)
class LanguageArguments:
    """Which language each sentence is in: ``lang`` names one for all; else a sentence's ``# lang =`` comment,
    record field, directory or file name; else (``lang`` None or ``auto``) it is detected (labelgrow/languages.py).
    ``lang="und"`` turns detection off."""

    lang: str | None = None
    detect_languages: list[str] | None = None  # the languages detection may choose among (default: any)
    detect_threshold: float = 0.5  # below this probability a sentence stays "und"

    def check_languages(self) -> None:
        _check(self.lang is None or bool(self.lang.strip()), "--lang must not be empty")
        if isinstance(self.detect_languages, str):
            self.detect_languages = self.detect_languages.split(",")
        if self.detect_languages is not None:
            self.detect_languages = [c.strip().lower() for c in self.detect_languages if c.strip()] or None
        _check(
            0.0 <= self.detect_threshold < 1.0,
            f"--detect-threshold must be in [0, 1), not {self.detect_threshold}",
        )
        _check(
            self.detect_languages is None or self.detects,
            f"--detect-languages has no effect with --lang {self.lang}: drop one of them",
        )

    @property
    def detects(self) -> bool:
        """Whether sentences without a language are detected."""
        return self.lang in (None, AUTO_LANGUAGE)

    @property
    def given_lang(self) -> str | None:
        """The language ``--lang`` forces on every sentence (None: the data's own, or detected)."""
        return None if self.detects else self.lang


@dataclass(kw_only=True)
class TrainingOptions:
    """What every command that trains a student from a teacher shares (``extend``, ``compress``): the schedule,
    batching, distillation strength, the teacher's precision, checkpoints. Defaults are extend's recipe."""

    epochs: float = 3.0
    max_steps: int | None = None
    min_steps: int = 100  # small data: epochs are raised until training takes at least this many optimizer steps
    learning_rate: float = 5e-5
    head_learning_rate: float | None = 3e-3
    batch_size: int = 16
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    freeze_embeddings: bool = True
    kd_alpha: float = 0.5
    kd_temperature: float = 2.0
    max_length: int | None = None
    teacher_precision: str = "auto"
    share_frozen_layers: bool = True
    eval_steps: int | None = None
    save_steps: int | None = None
    logging_steps: int = 10
    eval_batch_size: int = 32
    seed: int = 42
    overwrite: bool = False
    resume: bool = False
    keep_checkpoints: bool = False
    report_to: str = "none"  # Trainer integrations (tensorboard, wandb, ...); none: nothing leaves the machine

    def check_training(self, has_validation: bool) -> None:
        _check(self.epochs > 0, f"--epochs must be > 0, not {self.epochs}")
        _check(self.max_steps is None or self.max_steps > 0, f"--max-steps must be > 0, not {self.max_steps}")
        _check(self.min_steps >= 0, f"--min-steps must be >= 0, not {self.min_steps}")
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
        if has_validation and self.eval_steps and self.save_steps:
            # the best checkpoint is chosen among saved ones, so every save must fall on an evaluation
            _check(
                self.save_steps % self.eval_steps == 0,
                f"--save-steps {self.save_steps} must be a multiple of --eval-steps {self.eval_steps} when "
                "--validation selects the best checkpoint",
            )
        _check(0.0 <= self.kd_alpha <= 1.0, f"--kd-alpha must be in [0, 1], not {self.kd_alpha}")
        _check(self.kd_temperature > 0, f"--kd-temperature must be > 0, not {self.kd_temperature}")
        self.teacher_precision = choice(self.teacher_precision, TeacherPrecision, "--teacher-precision")
        check_max_length(self.max_length)
        _check(not (self.overwrite and self.resume), "--overwrite and --resume exclude each other")


@dataclass
class ExtendArguments(TrainingOptions, RuntimeArguments, LanguageArguments):
    """Everything ``extend`` needs. Defaults are the recommended recipe (see docs/method.md)."""

    base: str
    new_labels: list[str]
    train: list[Any]
    output: str
    validation: list[Any] = field(default_factory=list)
    label_map: str | None = None
    parent: list[str] | dict[str, list[str]] | None = None  # NEW=OLD,OLD: the old types a new type refines
    freeze_layers: int | str = 2  # encoder layers 0..N-1, "all", or a fraction "a/b" of them (modeling.frozen_count)
    freeze_old_rows: bool = False  # baseline: the classifier's old rows fixed (with all layers frozen: new rows only)
    new_rows_from: str = "o"  # o: a copy of O's row; parent: the mean of its --parent types' rows (B to B, I to I)
    kd: str = "o-aware"
    kd_target: str = "old-slice"
    pseudo_label_threshold: float = 0.0
    pseudo_label_scope: str = "all"  # all gold-O words, or only --rehearsal text (annotated O stays "not new")
    rehearsal: list[Any] = field(default_factory=list)  # text without the new types: KD + "not new" on every word
    rehearsal_parents: bool = False  # on rehearsal words the teacher tags with a --parent type, allow the child
    label_all_subwords: bool = False
    add_tokens: str | None = None  # one word per line: whole-word tokens with embedding rows of their own
    teacher_cache: bool = False
    reset_head: bool = False
    hidden_kd: float = 0.0  # feature leash: 1 - cosine to the teacher's last-layer output where KD applies; 0 = off

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
        if self.add_tokens is not None:
            self.add_tokens = str(self.add_tokens)
            _check(Path(self.add_tokens).is_file(), f"--add-tokens {self.add_tokens}: no such file")
        self.check_training(bool(self.validation))
        self.freeze_layers = parse_freeze_layers(self.freeze_layers)
        self.kd = choice(self.kd, KdMode, "--kd")
        self.kd_target = choice(self.kd_target, KdTarget, "--kd-target")
        self.new_rows_from = choice(self.new_rows_from, NewRowsFrom, "--new-rows-from")
        _check(
            self.new_rows_from == "o" or bool(self.parent),
            "--new-rows-from parent starts each new type's rows from its parents': declare them with --parent "
            "NEW=OLD[,OLD]",
        )
        _check(not (self.rehearsal and self.kd == "none"), "--rehearsal needs a teacher: it is ignored by --kd none")
        _check(
            not self.rehearsal_parents or (self.rehearsal and self.parent and self.kd == "o-aware"),
            "--rehearsal-parents relaxes the o-aware loss on --rehearsal text where the teacher tags a --parent "
            "type: give --rehearsal and --parent (and --kd o-aware)",
        )
        _check(
            0.0 <= self.pseudo_label_threshold <= 1.0,
            f"--pseudo-label-threshold must be in [0, 1] (0: off), not {self.pseudo_label_threshold}",
        )
        self.pseudo_label_scope = choice(self.pseudo_label_scope, PseudoLabelScope, "--pseudo-label-scope")
        _check(
            self.pseudo_label_scope == "all" or (bool(self.rehearsal) and self.pseudo_label_threshold > 0),
            "--pseudo-label-scope rehearsal gives pseudo-labels on --rehearsal text only: give --rehearsal and "
            "--pseudo-label-threshold > 0",
        )
        _check(self.hidden_kd >= 0, f"--hidden-kd must be >= 0 (0: off), not {self.hidden_kd}")
        _check(not (self.hidden_kd and self.kd == "none"), "--hidden-kd compares with the teacher: not with --kd none")
        _check(
            not (self.hidden_kd and self.teacher_cache),
            "--hidden-kd needs the teacher's hidden states, which --teacher-cache does not keep: drop one of them",
        )
        self.check_runtime()
        self.check_languages()
        parents = parse_parents(self.parent)
        unknown = sorted(set(parents) - set(self.new_labels))
        _check(not unknown, f"--parent {','.join(unknown)}=...: not in --new-labels {','.join(self.new_labels)}")
        check_label_map(self.label_map)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe settings for labelgrow.json (in-memory datasets are named, not dumped)."""
        return settings_dict(self, ("train", "validation", "rehearsal"))


def settings_dict(args: Any, sources: tuple[str, ...]) -> dict[str, Any]:
    """A training command's arguments as JSON-safe settings: each of the ``sources`` fields (lists of paths or
    in-memory datasets) keeps its paths and names its datasets by type instead of dumping them."""
    data = asdict(args)
    for key in sources:
        data[key] = [str(x) if isinstance(x, str | Path) else f"<{type(x).__name__}>" for x in data[key]]
    return data


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Path) or hasattr(value, "column_names"):
        return [value]
    return list(value)


def parse_freeze_layers(value: int | str) -> int | str:
    """``--freeze-layers``: a count N (layers 0..N-1), ``all``, or a fraction ``a/b`` of the encoder's layers (``1/3``),
    kept as written and resolved against the model's depth when it is loaded (modeling.frozen_count), so that one
    recipe freezes the same share of a 12-layer and a 24-layer encoder."""
    if isinstance(value, int):
        _check(value >= 0, f"--freeze-layers must be >= 0, not {value}")
        return value
    text = str(value).strip()
    if text == "all":
        return text
    if text.isdigit():
        return int(text)
    top, slash, bottom = text.partition("/")
    _check(
        bool(slash) and top.isdigit() and bottom.isdigit() and int(bottom) > 0 and int(top) <= int(bottom),
        f"--freeze-layers must be a number >= 0, all, or a fraction of the layers such as 1/3, not {value!r}",
    )
    return f"{int(top)}/{int(bottom)}"


Arguments = TypeVar("Arguments")


def call_arguments(cls: type[Arguments], args: Arguments | None, kwargs: dict[str, Any]) -> Arguments:
    """The arguments of a command's Python face, ``extend(ExtendArguments(...))`` or ``extend(**kwargs)``: one of
    the two, never both (keywords beside a dataclass would be silently dropped)."""
    if args is not None and kwargs:
        article = "an" if cls.__name__[0] in "AEIOU" else "a"
        raise TypeError(f"pass either {article} {cls.__name__} or keyword arguments, not both")
    return cls(**kwargs) if args is None else args


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


@dataclass(kw_only=True)
class InferenceArguments(RuntimeArguments):
    """What every command that runs models shares: decoding and batching, besides the runtime."""

    decode: str = "bio"
    batch_size: int = 32
    max_length: int | None = None

    def check_inference(self) -> None:
        self.decode = choice(self.decode, Decoding, "--decode")
        _check(self.batch_size >= 1, f"--batch-size must be >= 1, not {self.batch_size}")
        check_max_length(self.max_length)
        self.check_runtime()


# the teacher's probability of its own tag below which one of its entities is a near-tie: a change there is counted
# apart in the change report (eval, diff), as the student may tip it either way (docs/method.md, section 8)
UNSURE_BELOW = 0.6


def check_unsure_below(value: float) -> None:
    _check(0.0 <= value <= 1.0, f"--teacher-unsure-below must be in [0, 1] (0: off), not {value}")


@dataclass(kw_only=True)
class EvalArguments(InferenceArguments, LanguageArguments):
    """Everything ``labelgrow eval`` needs."""

    model: str
    data: list[Any]
    teacher: str | None = None
    report: str | None = None
    label_map: str | None = None
    mode: str = "conlleval"
    unknown_as_o: bool = False
    parent: list[str] | dict[str, list[str]] | None = None  # NEW=OLD,OLD: score refinements as kept, too
    teacher_unsure_below: float = UNSURE_BELOW

    def __post_init__(self) -> None:
        self.data = _as_list(self.data)
        _check(bool(self.data), "--data is required: give at least one file or directory to score")
        self.mode = choice(self.mode, ScoreMode, "--mode")
        check_unsure_below(self.teacher_unsure_below)
        self.check_inference()
        self.check_languages()
        check_label_map(self.label_map)
        parse_parents(self.parent)  # the syntax; the types are checked against the model's labels
