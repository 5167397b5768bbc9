"""What a scenario is made of: methods as data (not magic keys), the grid of teacher seeds x extension seeds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.corpora import MULTICONER_LANGS, RETENTION_LANGS
from harness.data import REHEARSAL_ALL_FILES

CELLS = ("grid", "per-teacher", "first")


@dataclass(frozen=True)
class Method:
    """One way of growing the teacher. ``options`` are ``labelgrow.extend`` arguments over the scenario's common
    settings; ``full_data`` trains on the new data with the old types annotated too; ``rehearsal`` names the
    scenario's files of text without the new type to add (labelgrow extend --rehearsal); ``file_options`` gives
    extend options whose value is one of the scenario's files (``{"add_tokens": "facility_words"}``); ``cells``
    says which (teacher seed, seed) cells of the grid it runs on;
    ``interpolate`` trains nothing: the scenario's default run at the same cell, averaged with its teacher at that
    weight (1 = the student); ``adapt`` names the scenario's files of raw in-domain text to which the cell's teacher
    is adapted first (labelgrow adapt, once per teacher), the adapted teacher then grown (forgetting is still
    measured against the original teacher)."""

    name: str
    key: str  # short, filesystem-safe: the run directory's name
    options: Mapping[str, Any] = field(default_factory=dict)
    full_data: bool = False
    rehearsal: str | None = None  # a key of the scenario's files: also train on that text (extend --rehearsal)
    file_options: Mapping[str, str] = field(default_factory=dict)  # extend option -> a key of the scenario's files
    cells: str = "per-teacher"  # "grid": every (teacher seed, seed); "per-teacher": first seed; "first": one cell
    interpolate: float | None = None
    adapt: str | None = None  # a key of the scenario's files: raw text the teacher is adapted to before growing

    def __post_init__(self) -> None:
        if self.cells not in CELLS:
            raise ValueError(f"{self.name}: cells must be one of {', '.join(CELLS)}, not {self.cells!r}")

    def runs_on(self, teacher_seeds: Sequence, seeds: Sequence[int]) -> list[tuple]:
        """The (teacher seed, seed) cells this method runs on."""
        if self.cells == "grid":
            return [(t, s) for t in teacher_seeds for s in seeds]
        if self.cells == "per-teacher":
            return [(t, seeds[0]) for t in teacher_seeds]
        return [(teacher_seeds[0], seeds[0])]


@dataclass
class Scenario:
    """A benchmark protocol: how to lay out its data, its teacher, its methods and what it scores."""

    name: str
    old_types: Sequence[str]
    new_types: Sequence[str]
    parents: Mapping[str, Sequence[str]]  # new type -> old types it refines (for "not refinement" forgetting)
    methods: Sequence[Method]
    prepare: Callable[[Any, Path], dict[str, Any]]  # (args, out) -> files
    retention_langs: Sequence[str] = tuple(RETENTION_LANGS)
    new_langs: Sequence[str] = tuple(MULTICONER_LANGS)
    default: str = "labelgrow default"  # the method every interpolation derives from; the targets are about it
    naive: str = "naive fine-tuning (grown head, CE only)"  # the reference of the cost ratios
    joint: Callable[[Any, Path, dict[str, Any]], dict[str, Any]] | None = None  # -> extend settings of the bound
    extra: Callable[[str, dict[str, Any]], dict[str, float]] | None = None  # (model dir, files) -> more figures
    # old types also scored on the new-type set, whose gold has them, against the teacher there: a type an earlier
    # round added (not in old_types: WikiANN does not annotate it), or the parent a new type is carved out of
    carried: Sequence[str] = ()
    describe: str = ""

    def method(self, name: str) -> Method:
        return next(m for m in self.methods if m.name == name)


# the methods every scenario runs
NAIVE = Method("naive fine-tuning (grown head, CE only)", "naive", {"kd": "none"}, cells="first")
DEFAULT = Method("labelgrow default", "default", {}, cells="grid")
# a third of the encoder frozen (4 of 12 layers, 8 of 24): wikiann→facility's best measured depth on 4,500 sentences
# (benchmarks.md, "half the encoder frozen"), beside the default in every scenario: on little data it cost the new
# type, so the default stays 2 ("a third of the encoder frozen keeps the old labels, but costs the new type")
THIRD = Method("labelgrow --freeze-layers 1/3", "third", {"freeze_layers": "1/3"}, cells="grid")
FULL_DATA = Method("labelgrow, fully annotated new data", "full", {}, full_data=True, cells="first")
# the default plus raw WikiANN text of every scored language (written on demand by harness.data.rehearsal_files):
# what keeps the old labels where the new data is short text of another domain
REHEARSAL_ALL = Method(
    "labelgrow + rehearsal on raw text of every scored language", "rehearsal-all", rehearsal=REHEARSAL_ALL_FILES
)
