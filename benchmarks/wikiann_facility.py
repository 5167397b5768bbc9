"""Scenario "wikiann→facility": does a method learn FACILITY without forgetting PER/ORG/LOC, in every language, for
more than one teacher and seed, and at what cost? The harness (benchmarks/harness/) does the rest.

1. Encoder: me5s-xlmr (multilingual-e5-small in XLM-R format; weights dequantised from a 4-bit copy, approximate),
   or any encoder/teacher given with --encoder/--teacher (e.g. julian-schelb/roberta-ner-multilingual on a GPU).
2. Teachers: `labelgrow extend` from the encoder with PER, ORG, LOC on a seeded subset of wikiann/{en,de,zh}/train,
   one per --teacher-seeds.
3. New data: a seeded subset of multiconer2/{en,de,zh}/train with Facility+Station -> FACILITY and every other
   type -> O (the background shift), and a second map that also keeps the person/group/location types.
4. Methods (below), each on its cells of the grid; the joint-training upper bound (one model from the encoder on
   the teacher's data plus the fully annotated new data).
5. Scores: old-label F1 on wikiann/{en,de,zh,es,fr,ru}/test, forgetting against the cell's teacher, plain and not
   counting FACILITY entities that exactly match a gold ORG or LOC (WikiANN tags facilities ORG or LOC), the
   change report; FACILITY F1 on multiconer2/*/dev (12 languages); cost; inference speed against the pipeline.

Usage:
    python benchmarks/wikiann_facility.py --config recipes/benchmarks/wikiann-facility.yaml
    python benchmarks/wikiann_facility.py --config recipes/benchmarks/wikiann-facility.yaml --quick
Writes OUT/results.json, OUT/results.md and OUT/results.png (OUT: runs/bench/wikiann-facility).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import cli
from harness.data import source_types, subset, wikiann_retention, wikiann_teacher_data, write, write_map
from harness.protocol import Method, Scenario

OLD = ["PER", "ORG", "LOC"]
NEW = "FACILITY"
TRAIN_LANGS = ["en", "de", "zh"]
RETENTION_LANGS = ["en", "de", "zh", "es", "fr", "ru"]
NEW_LANGS = ["bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh"]
FACILITY_ONLY = {"Facility": NEW, "Station": NEW}
FULL = {
    **FACILITY_ONLY,
    **{t: "PER" for t in ("Artist", "Athlete", "Cleric", "OtherPER", "Politician", "Scientist", "SportsManager")},
    **{
        t: "ORG" for t in ("AerospaceManufacturer", "CarManufacturer", "MusicalGRP", "ORG", "PrivateCorp", "PublicCorp")
    },
    "SportsGRP": "ORG",
    "HumanSettlement": "LOC",
    "OtherLOC": "LOC",
}
QUICK = {
    "teacher_sentences": 150,
    "new_sentences": 80,
    "eval_sentences": 60,
    "new_eval_sentences": 30,
    "rehearsal_sentences": 40,
    "epochs": 1.0,
    "teacher_epochs": 1.0,
}
DEFAULT = "labelgrow default"
METHODS = [
    Method("naive fine-tuning (grown head, CE only)", "naive", {"kd": "none"}, cells="first"),
    Method(
        "original recipe (fresh head, CE + KD, one LR)",
        "original",
        {"kd": "seed", "reset_head": True, "head_learning_rate": None},
        cells="first",
    ),
    Method(DEFAULT, "default", {}, cells="grid"),
    Method("labelgrow, unbiased KD (MiB)", "unbiased", {"kd_target": "unbiased"}, cells="first"),
    Method("labelgrow + rehearsal on WikiANN text", "rehearsal", rehearsal="rehearsal", cells="first"),
    Method(
        "labelgrow + rehearsal on raw text of every scored language",
        "rehearsal-all",
        rehearsal="rehearsal_all",
        cells="first",
    ),
    Method("labelgrow + pseudo-labels at 0.5", "pseudo", {"pseudo_label_threshold": 0.5}, cells="first"),
    Method("labelgrow --kd seed (grown head)", "kd-seed", {"kd": "seed"}, cells="first"),
    Method("labelgrow --freeze-layers 4", "freeze4", {"freeze_layers": 4}, cells="first"),
    Method("labelgrow + --teacher-cache", "cache", {"teacher_cache": True}, cells="first"),
    Method("labelgrow, fully annotated new data", "full", {}, full_data=True, cells="first"),
    Method(
        "frozen encoder and old rows: new rows only (Learn or Recall?)",
        "new-rows",
        {"freeze_layers": "all", "freeze_old_rows": True},
        cells="first",
    ),
    Method("labelgrow default averaged with the teacher, 0.5", "interp50", interpolate=0.5, cells="first"),
    Method("labelgrow default averaged with the teacher, 0.75", "interp75", interpolate=0.75, cells="first"),
]


def prepare(args, out: Path) -> dict[str, Any]:
    shared = Path(args.shared) / "datasets"
    data = out / "data"
    keys = ("teacher", "new", "retention", "new_eval", "rehearsal", "rehearsal_all")
    files: dict[str, Any] = {key: [] for key in keys}
    files["teacher"] = wikiann_teacher_data(shared, out, TRAIN_LANGS, args.teacher_sentences)
    files["retention"] = wikiann_retention(shared, out, RETENTION_LANGS, args.eval_sentences)
    for lang in TRAIN_LANGS:
        wikiann, multiconer = shared / "wikiann" / lang / "train.txt", shared / "multiconer2" / lang / "train.txt"
        files["new"].append(write(data / "new" / lang / "train.txt", subset(multiconer, args.new_sentences, 2)))
        # rehearsal text: WikiANN sentences (the teacher's kind of text; tags dropped by labelgrow), another sample
        rehearsal = subset(wikiann, args.rehearsal_sentences, 5)
        files["rehearsal"].append(write(data / "rehearsal" / lang / "train.txt", rehearsal))
    for lang in RETENTION_LANGS:
        # the user's own raw text in every language they keep: WikiANN train where the teacher saw it, else dev
        # (never test; es/fr/ru have no train split here). Tags are dropped by --rehearsal.
        source = shared / "wikiann" / lang / ("train.txt" if lang in TRAIN_LANGS else "dev.txt")
        rehearsal = subset(source, args.rehearsal_sentences, 5)
        files["rehearsal_all"].append(write(data / "rehearsal-all" / lang / "train.txt", rehearsal))
    for lang in NEW_LANGS:
        files["new_eval"].append(
            write(
                data / "new-eval" / lang / "dev.txt",
                subset(shared / "multiconer2" / lang / "dev.txt", args.new_eval_sentences, 4),
            )
        )
    types = source_types(files["new"] + files["new_eval"])
    files["new_map"] = files["new_eval_map"] = write_map(data / "facility-only.tsv", FACILITY_ONLY, types)
    files["full_map"] = write_map(data / "full.tsv", FULL, types)
    return files


def joint(args, out: Path, files: dict[str, Any]) -> dict[str, Any]:
    """The bound: one model from the encoder on the teacher's data plus the new data with every type mapped."""
    from labelgrow.data import load_corpus
    from labelgrow.labels import LabelMap

    mapped = load_corpus([str(p) for p in files["new"]], label_map=LabelMap.read(files["full_map"]))
    joint_new = []
    for lang in TRAIN_LANGS:
        blocks = [
            "\n".join(f"{t} {g}" for t, g in zip(s.tokens, s.tags, strict=True))
            for s in mapped.sentences
            if s.lang == lang
        ]
        joint_new.append(write(out / "data" / "joint" / lang / "new.txt", blocks))
    return {"base": args.encoder, "new_labels": [*OLD, NEW], "train": [str(p) for p in files["teacher"] + joint_new]}


def main() -> None:
    p = cli.parser(__doc__)
    p.add_argument("--teacher-sentences", type=int, default=4000)
    p.add_argument("--new-sentences", type=int, default=1500)
    p.add_argument("--eval-sentences", type=int, default=1000)
    p.add_argument("--new-eval-sentences", type=int, default=500)
    p.add_argument("--rehearsal-sentences", type=int, default=500, help="per language, for the rehearsal method")
    args = cli.parse(p, QUICK)
    args.out = args.out or "runs/bench/wikiann-facility"
    out = Path(args.out)
    scenario = Scenario(
        name="wikiann→facility",
        old_types=OLD,
        new_types=[NEW],
        parents={NEW: ["LOC", "ORG"]},
        methods=METHODS,
        default=DEFAULT,
        naive=METHODS[0].name,
        retention_langs=RETENTION_LANGS,
        new_langs=NEW_LANGS,
        prepare=prepare,
        joint=joint,
    )
    if args.render_only:
        cli.render_only(scenario, out)
        return
    out.mkdir(parents=True, exist_ok=True)
    cli.ensure_encoder(args)
    cli.run(scenario, args, prepare(args, out), out)


if __name__ == "__main__":
    main()
