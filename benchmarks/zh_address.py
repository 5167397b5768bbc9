"""Scenario "Chinese addresses, several new types at once" (issue 10, scenario 1).

1. Teacher: the wikiann→facility teacher (PER/ORG/LOC from WikiANN en/de/zh; recipes/benchmarks/zh-address.yaml
   names teacher 42 with --teacher), or one built here from the same WikiANN subsets with --teacher-seeds.
2. New data: ../shared/datasets/zh_address (Li et al., NAACL 2019; human gold, character tokens) train, annotated
   only for four new types: POI (poi), ROAD (road), ROADNO (roadno), HOUSENO (houseno). Everything else is O in
   training, the recipient's name and the administrative units too: the background shift on exactly the entities
   the teacher knows (person → PER, country/prov/city/district/town → LOC).
3. Scores: PER/ORG/LOC on WikiANN test (en de zh es fr ru) against the teacher, and, on the *same* address test
   sentences the new types are scored on, PER (person) and LOC (country, prov, city, district, town) against the
   teacher ("old types scored on the new-type set"). The conventions differ: nothing says the teacher calls a
   district or a town LOC, so the teacher's own F1 there is reported first, and forgetting is measured against it.
   The new types are scored per type.
4. Methods: naive fine-tuning, labelgrow's default, the default with --rehearsal raw text of every scored
   language (WikiANN train for en/de/zh, dev for es/fr/ru; what keeps a new type off organisations it never saw in
   addresses), fully annotated new data, and the default grown from the teacher after `labelgrow adapt` on every
   training address as raw text (`adapted`; forgetting still against the original teacher). The joint bound
   trains one model from the encoder on the teacher's WikiANN data plus the address data with PER, LOC and the new
   types annotated.

Usage:
    python benchmarks/zh_address.py --config recipes/benchmarks/zh-address.yaml [--quick]
Writes OUT/results.json, OUT/results.md and OUT/results.png (OUT: runs/bench/zh-address).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import cli
from harness.corpora import ADDRESS_OLD_TYPES_MAP, RETENTION_LANGS, WIKIANN_TRAIN_LANGS
from harness.data import (
    source_types,
    subset,
    wikiann_retention,
    wikiann_teacher_data,
    write,
    write_map,
    write_mapped,
)
from harness.protocol import DEFAULT, FULL_DATA, NAIVE, REHEARSAL_ALL, THIRD, Method, Scenario

OLD = ["PER", "ORG", "LOC"]
NEW = {"poi": "POI", "road": "ROAD", "roadno": "ROADNO", "houseno": "HOUSENO"}
SCORED = {
    **NEW,
    **ADDRESS_OLD_TYPES_MAP,
}  # the address test: the new types and the teacher's types where the gold has them
QUICK = {**cli.QUICK, "new_eval_sentences": 40}
ADAPTED = Method(
    "labelgrow default on the teacher adapted to the addresses (labelgrow adapt)", "adapted", adapt="adapt_raw"
)
METHODS = [NAIVE, DEFAULT, THIRD, REHEARSAL_ALL, FULL_DATA, ADAPTED]


def prepare(args, out: Path) -> dict[str, Any]:
    shared = Path(args.shared) / "datasets"
    data, address = out / "data", shared / "zh_address" / "zh"
    files: dict[str, Any] = {
        "teacher": wikiann_teacher_data(shared, out, WIKIANN_TRAIN_LANGS, args.teacher_sentences),
        "retention": wikiann_retention(shared, out, RETENTION_LANGS, args.eval_sentences),
        "new": [write(data / "new" / "zh" / "train.txt", subset(address / "train.txt", args.new_sentences, 8))],
        "new_eval": [
            write(data / "new-eval" / "zh" / "test.txt", subset(address / "test.txt", args.new_eval_sentences, 9))
        ],
    }
    # labelgrow adapt's raw text: every training address (never a test one), tags ignored -- what a user has
    # unlabelled, the annotated few included
    files["adapt_raw"] = [address / "train.txt"]
    types = source_types(files["new"] + files["new_eval"])
    files["new_map"] = write_map(data / "new-types-only.tsv", NEW, types)
    files["new_eval_map"] = files["full_map"] = write_map(data / "scored.tsv", SCORED, types)
    return files


def joint(args, out: Path, files: dict[str, Any]) -> dict[str, Any]:
    """The bound: one model from the encoder on WikiANN plus the address data with PER, LOC and the new types."""
    mapped = write_mapped(out / "data" / "joint", files["new"], files["full_map"])
    return {
        "base": args.encoder,
        "new_labels": [*OLD, *NEW.values()],
        "train": [str(p) for p in files["teacher"] + mapped],
    }


def main() -> None:
    p = cli.parser(__doc__)
    p.set_defaults(new_sentences=3000, new_eval_sentences=1000)  # addresses: ~17 characters each
    scenario = Scenario(
        name="Chinese addresses",
        old_types=OLD,
        new_types=list(NEW.values()),
        parents={},
        methods=METHODS,
        prepare=prepare,
        joint=joint,
        new_langs=["zh"],
        carried=["PER", "LOC"],
    )
    cli.main(scenario, p, QUICK, "runs/bench/zh-address")


if __name__ == "__main__":
    main()
