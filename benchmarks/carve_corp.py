"""Scenario "a type carved out of an old one" (issue 10, scenario 3): CORP (companies) out of ORG.

1. Teacher: the wikiann→facility teacher (PER/ORG/LOC; recipes/benchmarks/carve-corp.yaml names teacher 42), which
   tags companies ORG.
2. New data: MultiCoNER II train (en, de, zh) with PublicCorp + PrivateCorp → CORP and every other type O — the other
   organisations too (the background shift on the parent type itself). `--parent CORP=ORG` is declared.
3. Scores: PER/ORG/LOC on WikiANN test against the teacher, plain and with CORP counted as its parent ORG (a company
   WikiANN calls ORG and the grown model CORP is a refinement, not a loss); CORP F1 on MultiCoNER II dev (12
   languages), where the *other* organisations (ORG, MusicalGRP, SportsGRP, manufacturers) are scored as ORG against
   the teacher: the new type must win on companies while ORG stays everywhere else.

Usage:
    python benchmarks/carve_corp.py --config recipes/benchmarks/carve-corp.yaml [--quick]
Writes OUT/results.json, OUT/results.md and OUT/results.png (OUT: runs/bench/carve-corp).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import cli
from harness.corpora import (
    CORP_TYPES,
    MULTICONER_LANGS,
    OLD_TYPES_MAP,
    OTHER_ORG_TYPES,
    RETENTION_LANGS,
    WIKIANN_TRAIN_LANGS,
    to,
)
from harness.data import (
    multiconer_dev,
    source_types,
    subset,
    wikiann_retention,
    wikiann_teacher_data,
    write,
    write_map,
    write_mapped,
)
from harness.protocol import DEFAULT, FULL_DATA, NAIVE, THIRD, Method, Scenario

OLD = ["PER", "ORG", "LOC"]
NEW = "CORP"
CORP_ONLY = to(CORP_TYPES, NEW)
OTHER_ORG = to(OTHER_ORG_TYPES, "ORG")
FULL = {**OLD_TYPES_MAP, **CORP_ONLY}  # companies are CORP, every other organisation ORG
QUICK = cli.QUICK
METHODS = [
    NAIVE,
    DEFAULT,
    THIRD,
    # CORP's rows start as ORG's (4 below), not O's: a carved type must outrank its parent on the parent's entities
    Method(
        "labelgrow, new rows from the parent's (--new-rows-from parent)",
        "parent-rows",
        {"new_rows_from": "parent"},
        cells="grid",
    ),
    FULL_DATA,
]


def prepare(args, out: Path) -> dict[str, Any]:
    shared = Path(args.shared) / "datasets"
    data, multiconer = out / "data", shared / "multiconer2"
    files: dict[str, Any] = {
        "teacher": wikiann_teacher_data(shared, out, WIKIANN_TRAIN_LANGS, args.teacher_sentences),
        "retention": wikiann_retention(shared, out, RETENTION_LANGS, args.eval_sentences),
        "new": [
            write(data / "new" / lang / "train.txt", subset(multiconer / lang / "train.txt", args.new_sentences, 7))
            for lang in WIKIANN_TRAIN_LANGS
        ],
        "new_eval": multiconer_dev(shared, out, MULTICONER_LANGS, args.new_eval_sentences),
    }
    types = source_types(files["new"] + files["new_eval"])
    files["new_map"] = write_map(data / "corp-only.tsv", CORP_ONLY, types)
    files["new_eval_map"] = write_map(data / "corp-and-other-org.tsv", {**CORP_ONLY, **OTHER_ORG}, types)
    files["full_map"] = write_map(data / "full.tsv", FULL, types)
    return files


def joint(args, out: Path, files: dict[str, Any]) -> dict[str, Any]:
    """The bound: one model from the encoder on WikiANN (companies are ORG there) plus the new data, every type
    annotated."""
    mapped = write_mapped(out / "data" / "joint", files["new"], files["full_map"])
    return {"base": args.encoder, "new_labels": [*OLD, NEW], "train": [str(p) for p in files["teacher"] + mapped]}


def main() -> None:
    p = cli.parser(__doc__)
    scenario = Scenario(
        name="CORP carved out of ORG",
        old_types=OLD,
        new_types=[NEW],
        parents={NEW: ["ORG"]},
        methods=METHODS,
        prepare=prepare,
        joint=joint,
        carried=["ORG"],
    )
    cli.main(scenario, p, QUICK, "runs/bench/carve-corp")


if __name__ == "__main__":
    main()
