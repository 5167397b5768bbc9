"""Label sets: the base's labels in their stored order, the appended new ones, BIO repair and tag mapping."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from labelgrow.errors import DataError, LabelgrowError

OUTSIDE = "O"
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_BIO_TAG = re.compile(r"^(?:O|[BI]-[^\s]+)$")
_HEADER_WORDS = {"source", "source_type", "src", "from", "tag", "type"}


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER" -> ("B", "PER")``, ``"O" -> ("O", None)``."""
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, _, type_ = tag.partition("-")
    return prefix, type_


def entity_types(labels: Iterable[str]) -> list[str]:
    """Entity types in first-seen order: ``[O, B-PER, I-PER, B-LOC] -> [PER, LOC]``."""
    seen: dict[str, None] = {}
    for label in labels:
        _, type_ = split_tag(label)
        if type_ is not None:
            seen.setdefault(type_, None)
    return list(seen)


def parse_new_labels(spec: str | Sequence[str]) -> list[str]:
    """Parse ``--new-labels FACILITY,PHONE`` (or a list) into validated entity type names."""
    items = spec.split(",") if isinstance(spec, str) else [str(s) for s in spec]
    if not items or all(not item.strip() for item in items):
        raise LabelgrowError("--new-labels is empty: give one or more entity types, e.g. --new-labels FACILITY,PHONE")
    names: list[str] = []
    for item in items:
        if item != item.strip() or not item:
            raise LabelgrowError(
                f"--new-labels: {item!r} is not a valid entity type (no spaces or empty names; "
                "separate types with commas and no spaces: FACILITY,PHONE)"
            )
        if item.startswith(("B-", "I-")):
            raise LabelgrowError(f"--new-labels: give entity types, not tags: {item[2:]!r} instead of {item!r}")
        if not _TYPE_NAME.match(item):
            raise LabelgrowError(
                f"--new-labels: {item!r} is not a valid entity type "
                "(letters, digits, '_' and '.', starting with a letter)"
            )
        if item in names:
            raise LabelgrowError(f"--new-labels: {item!r} is given twice")
        names.append(item)
    return names


def has_ner_head(config) -> bool:
    """True when a config describes a trained BIO token classifier (not a plain encoder's LABEL_0/LABEL_1)."""
    id2label = getattr(config, "id2label", None) or {}
    archs = getattr(config, "architectures", None) or []
    labels = list(id2label.values())
    is_classifier = any(a.endswith("ForTokenClassification") for a in archs)
    return is_classifier and OUTSIDE in labels and all(_BIO_TAG.match(str(lab)) for lab in labels)


def old_labels_from_config(config) -> list[str]:
    """The base model's labels in id order, read from ``config.id2label`` (never assumed)."""
    if not has_ner_head(config):
        return [OUTSIDE]
    id2label = {int(k): str(v) for k, v in config.id2label.items()}
    if sorted(id2label) != list(range(len(id2label))):
        raise LabelgrowError(f"the base config's id2label ids are not 0..{len(id2label) - 1}: {sorted(id2label)}")
    return [id2label[i] for i in range(len(id2label))]


@dataclass(frozen=True)
class LabelSet:
    """Old labels (the base's, in its order) followed by ``B-X, I-X`` for each new type X."""

    old: tuple[str, ...]
    new_types: tuple[str, ...]

    def __post_init__(self) -> None:
        old_types = entity_types(self.old)
        clashes = [t for t in self.new_types if t in old_types]
        if clashes:
            raise LabelgrowError(
                f"--new-labels: {', '.join(clashes)} already in the base model "
                f"(its labels: {' '.join(self.old)}); a new label must be a new entity type"
            )
        if OUTSIDE not in self.old:
            raise LabelgrowError(f"the base labels have no 'O': {' '.join(self.old)}")

    @property
    def new(self) -> tuple[str, ...]:
        return tuple(f"{p}-{t}" for t in self.new_types for p in ("B", "I"))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.old + self.new

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    @property
    def num_old(self) -> int:
        return len(self.old)

    @property
    def outside_id(self) -> int:
        return self.old.index(OUTSIDE)

    @property
    def old_types(self) -> list[str]:
        return entity_types(self.old)

    def refinements(self, parents: Mapping[str, Sequence[str]]) -> tuple[tuple[int, int], ...]:
        """``(old label id, new label id)`` for each new type and each old type it refines, prefix to prefix
        (``B-ORG -> B-FACILITY``, ``I-ORG -> I-FACILITY``): where the teacher says the old label, the new one is a
        refinement, not a contradiction (the loss of ``--rehearsal-parents``)."""
        ids = self.label2id
        return tuple(
            (ids[f"{prefix}-{old}"], ids[f"{prefix}-{new}"])
            for new, olds in parents.items()
            for old in olds
            for prefix in ("B", "I")
        )


def repair_bio(tags: list[str]) -> tuple[list[str], int]:
    """Turn an ``I-X`` that does not continue an ``X`` entity into ``B-X`` (conlleval's reading); count repairs."""
    fixed, repairs, previous = [], 0, OUTSIDE
    for tag in tags:
        prefix, type_ = split_tag(tag)
        if prefix == "I" and split_tag(previous)[1] != type_:
            tag = f"B-{type_}"
            repairs += 1
        fixed.append(tag)
        previous = tag
    return fixed, repairs


class LabelMap:
    """``--label-map FILE``: TSV ``source<TAB>target``; source is a type (``Facility``) or a full tag
    (``B-Facility``), target a type or ``O``. An optional header row and ``#`` comments are skipped."""

    def __init__(self, mapping: dict[str, str], path: str = "<label map>") -> None:
        self.mapping, self.path = mapping, path

    @classmethod
    def read(cls, path: str | Path) -> LabelMap:
        path = Path(path)
        if not path.is_file():
            raise LabelgrowError(f"--label-map: {path} does not exist")
        mapping: dict[str, str] = {}
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t") if "\t" in line else line.split()
            if len(fields) != 2:
                raise DataError(path, lineno, f"expected 'source<TAB>target', got {len(fields)} field(s): {raw!r}")
            source, target = (f.strip() for f in fields)
            if not mapping and lineno == 1 and source.lower() in _HEADER_WORDS:
                continue  # header row, as in ../shared/datasets/*/label_map.tsv
            if target != OUTSIDE and not _TYPE_NAME.match(split_tag(target)[1] or target):
                raise DataError(path, lineno, f"target {target!r} is not an entity type or O")
            if source in mapping and mapping[source] != target:
                raise DataError(path, lineno, f"{source!r} is mapped twice ({mapping[source]!r} and {target!r})")
            mapping[source] = target
        return cls(mapping, str(path))

    def __call__(self, tag: str) -> str:
        if tag in self.mapping:
            return self._as_tag(tag, self.mapping[tag])
        type_ = split_tag(tag)[1]
        if type_ is not None and type_ in self.mapping:
            return self._as_tag(tag, self.mapping[type_])
        return tag

    @staticmethod
    def _as_tag(original: str, target: str) -> str:
        if target == OUTSIDE or target.startswith(("B-", "I-")):
            return target
        return f"{split_tag(original)[0]}-{target}"


def tag_counts_by_file(sentences) -> dict[str, Counter]:
    """``{file: Counter(tag)}`` over sentences carrying tags."""
    counts: dict[str, Counter] = {}
    for sentence in sentences:
        counts.setdefault(sentence.path, Counter()).update(sentence.tags or [])
    return counts


def check_known_tags(sentences, known: Iterable[str], what: str, hint: str) -> None:
    """Raise one error listing every tag not in ``known``, with its count and the files it occurs in."""
    known = set(known)
    unknown: dict[str, Counter] = {}
    for path, counts in tag_counts_by_file(sentences).items():
        for tag, n in counts.items():
            if tag not in known:
                unknown.setdefault(tag, Counter())[path] += n
    if unknown:
        parts = [
            f"{tag} ({sum(files.values())}x in {', '.join(f'{p} ({n}x)' for p, n in files.most_common())})"
            for tag, files in sorted(unknown.items())
        ]
        raise LabelgrowError(f"{what} has tags that are not in the label set: {'; '.join(parts)}. {hint}")


def parse_parents(specs: str | Sequence[str] | Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """``--parent FACILITY=LOC,ORG`` (repeatable, or a mapping from a recipe): the old types each new type refines.
    A model that tags a gold LOC ``FACILITY`` has then refined it, not forgotten it (see labelgrow/metrics.py)."""
    if not specs:
        return {}
    if isinstance(specs, Mapping):
        items = [(str(k), v.split(",") if isinstance(v, str) else [str(x) for x in v]) for k, v in specs.items()]
    else:
        items = []
        for spec in [specs] if isinstance(specs, str) else specs:
            child, sep, rest = str(spec).partition("=")
            if not sep or not child.strip() or not rest.strip():
                raise LabelgrowError(f"--parent {spec!r}: expected NEW=OLD[,OLD...], e.g. --parent FACILITY=LOC,ORG")
            items.append((child.strip(), rest.split(",")))
    parents: dict[str, list[str]] = {}
    for child, olds in items:
        olds = [o.strip() for o in olds if o.strip()]
        if child in parents:
            raise LabelgrowError(f"--parent: {child} is given twice")
        if not olds:
            raise LabelgrowError(f"--parent {child}=: name at least one old type it refines")
        parents[child] = olds
    return parents


def check_parents(parents: Mapping[str, Sequence[str]], new_types: Iterable[str], old_types: Iterable[str]) -> None:
    """Each key must be a new type and each parent an old type of the model."""
    new, old = set(new_types), set(old_types)
    for child, olds in parents.items():
        if child not in new:
            raise LabelgrowError(f"--parent {child}=...: {child} is not a new label ({', '.join(sorted(new)) or '-'})")
        unknown = [o for o in olds if o not in old]
        if unknown:
            raise LabelgrowError(
                f"--parent {child}={','.join(olds)}: {', '.join(unknown)} is not an old type "
                f"({', '.join(sorted(old)) or '-'})"
            )
