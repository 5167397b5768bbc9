"""Scenario "very little data" (issue 10, scenario 5): new-type F1 against the number of annotated sentences.

1. Teacher: the wikiann→facility teacher (--teacher; or one built here with --teacher-seeds).
2. New data, for --new-type FACILITY: MultiCoNER II train (en, de, zh) sentences that contain a Facility or Station
   (a user annotates sentences that have the type), FACILITY only (the background shift); for --new-type POI:
   zh_address train addresses with a poi, POI only (person and places O). Pooled, shuffled with each seed, and cut
   at each --sizes (0: all of the pool, at most --new-sentences): at one seed, a smaller set is part of every
   larger one. Small sizes (≤ --many-seeds-up-to) run every seed, the others the first.
3. Methods: labelgrow's default with labelgrow's own defaults (3 epochs, at least --min-steps 100 optimizer
   steps), naive fine-tuning of the grown model (CE only), a fresh model trained from the plain encoder on the same
   sentences (the new type only: what a user without a teacher would do), and, to measure the --min-steps default,
   labelgrow's default without it ("short": 3 epochs whatever the size); "rehearsal": the default plus raw text
   of every scored language (--rehearsal-sentences WikiANN sentences each, tags dropped; parent-aware for FACILITY,
   --rehearsal-parents), because a user with few annotated sentences usually has plenty of unannotated ones.
4. Scores: new-type F1 (MultiCoNER II dev, 12 languages, or zh_address test), old-label forgetting on WikiANN test
   against the teacher (plain and not counting refinements), and for POI, PER/LOC on the address test sentences.

Usage:
    python benchmarks/learning_curve.py --config recipes/benchmarks/learning-curve.yaml [--quick]
Writes OUT/results.json, OUT/results.md and OUT/results.png (OUT: runs/bench/learning-curve-TYPE).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from harness import cli, render
from harness.corpora import (
    ADDRESS_OLD_TYPES_MAP,
    FACILITY_TYPES,
    MULTICONER_LANGS,
    RETENTION_LANGS,
    WIKIANN_TRAIN_LANGS,
    to,
)
from harness.data import (
    REHEARSAL_ALL_FILES,
    multiconer_dev,
    rehearsal_files,
    sentences,
    source_types,
    subset,
    wikiann_retention,
    wikiann_teacher_data,
    write,
    write_map,
)
from harness.protocol import DEFAULT, NAIVE, THIRD, Method, Scenario
from harness.runs import Progress, train_once
from harness.scoring import evaluate, load_sets, mean, model_tags, repeated_copies

OLD = ["PER", "ORG", "LOC"]
FRESH = Method("fresh model from the encoder (no teacher)", "fresh", {"freeze_layers": 0, "kd": "none"})
SHORT = Method("labelgrow default without --min-steps (3 epochs)", "short", {"min_steps": 0})
# a user with few annotated sentences usually has plenty of raw text: WikiANN sentences of every scored language,
# parent-aware where the new type has parents (FACILITY: --rehearsal-parents, as on wikiann→facility)
REHEARSAL = Method(
    "labelgrow + rehearsal on raw text of every scored language", "rehearsal", rehearsal=REHEARSAL_ALL_FILES
)
# the points count sentences with the type; a user who annotates text as it comes also annotates the sentences
# between them, which have none: the default on those too, at the corpus' own ratio (does a training set of
# positives only teach the type to fire on every sentence?)
NATURAL = Method("labelgrow default, annotated as the text comes (sentences without the type too)", "natural")
# the same text with a third of the encoder frozen (THIRD): does the depth that keeps the old labels on 4,500
# sentences cost the new type where there are few?
NATURAL_THIRD = Method(
    "labelgrow --freeze-layers 1/3, annotated as the text comes", "natural-third", {"freeze_layers": "1/3"}
)
METHODS = [NAIVE, DEFAULT, FRESH, SHORT, REHEARSAL, NATURAL, THIRD, NATURAL_THIRD]
SOURCES = {  # new type -> (its source types, where it is trained and scored)
    "FACILITY": {"types": FACILITY_TYPES, "corpus": "multiconer2", "scored_on": MULTICONER_LANGS},
    "POI": {"types": ("poi",), "corpus": "zh_address", "scored_on": ["zh"]},
}
QUICK = {
    "teacher_sentences": 150,
    "eval_sentences": 40,
    "new_eval_sentences": 20,
    "sizes": [10, 40],
    "seeds": [42],
    "rehearsal_sentences": 10,
}


def pool(shared: Path, new_type: str, limit: int) -> dict[str, Any]:
    """``pool``: (language, CoNLL block) of the training sentences that have the new type, at most ``limit``, in a
    fixed order; ``without``: per language every training sentence without it, in a fixed order, and ``ratio``: how
    many of those the corpus has per sentence with the type (NATURAL's)."""
    source = SOURCES[new_type]
    langs = WIKIANN_TRAIN_LANGS if source["corpus"] == "multiconer2" else ["zh"]
    tags = {f"B-{t}" for t in source["types"]}
    found, without, ratio = [], {}, {}
    for lang in langs:
        blocks = sentences(shared / source["corpus"] / lang / "train.txt")
        has = [any(line.rsplit(" ", 1)[-1] in tags for line in b.splitlines()) for b in blocks]
        found += [(lang, b) for b, h in zip(blocks, has, strict=True) if h]
        empty = [b for b, h in zip(blocks, has, strict=True) if not h]
        without[lang] = random.Random(1).sample(empty, len(empty))
        ratio[lang] = len(empty) / max(len(blocks) - len(empty), 1)
    return {"pool": random.Random(0).sample(found, min(limit, len(found))), "without": without, "ratio": ratio}


def prepare(args, out: Path) -> dict[str, Any]:
    shared = Path(args.shared) / "datasets"
    data, source = out / "data", SOURCES[args.new_type]
    files: dict[str, Any] = {
        "teacher": wikiann_teacher_data(shared, out, WIKIANN_TRAIN_LANGS, args.teacher_sentences),
        "retention": wikiann_retention(shared, out, RETENTION_LANGS, args.eval_sentences),
        **pool(shared, args.new_type, args.new_sentences),
    }
    if source["corpus"] == "multiconer2":
        files["new_eval"] = multiconer_dev(shared, out, MULTICONER_LANGS, args.new_eval_sentences)
        scored = to(source["types"], args.new_type)
    else:
        test = shared / "zh_address" / "zh" / "test.txt"
        files["new_eval"] = [write(data / "new-eval" / "zh" / "test.txt", subset(test, args.new_eval_sentences, 9))]
        scored = {**to(source["types"], args.new_type), **ADDRESS_OLD_TYPES_MAP}
    types = source_types(files["new_eval"]) | set(source["types"])
    files["new_map"] = write_map(data / "new-type-only.tsv", to(source["types"], args.new_type), types)
    files["new_eval_map"] = write_map(data / "scored.tsv", scored, types)
    return files


def training_set(
    files: dict[str, Any], out: Path, size: int, seed: int, natural: bool = False
) -> tuple[list[Path], int, int]:
    """The first ``size`` sentences (0: all) of the pool shuffled with ``seed``, one file per language, how many
    sentences with the type that is, and how many sentences in all: ``natural`` adds, per language, the corpus'
    ratio of sentences without the type (the first of them, shuffled with ``seed``: nested like the pool)."""
    shuffled = random.Random(seed).sample(files["pool"], len(files["pool"]))
    chosen = shuffled[:size] if size else shuffled
    by_lang: dict[str, list[str]] = {}
    for lang, block in chosen:
        by_lang.setdefault(lang, []).append(block)
    name = f"n{len(chosen)}"
    if natural:
        name += "-natural"
        for lang, blocks in by_lang.items():
            empty = random.Random(seed).sample(files["without"][lang], len(files["without"][lang]))
            blocks += empty[: round(len(blocks) * files["ratio"][lang])]
            random.Random(seed).shuffle(blocks)
    directory = out / "data" / "curve" / f"s{seed}" / name
    paths = [write(directory / lang / "train.txt", blocks) for lang, blocks in sorted(by_lang.items())]
    return paths, len(chosen), sum(len(b) for b in by_lang.values())


def settings(
    args, method: Method, teacher: str, train: list[Path], files, output: Path, seed: int, parents: dict
) -> dict:
    """labelgrow extend's settings for one point: labelgrow's own defaults for epochs and --min-steps (what a user
    typing no flag gets), the fresh model from the plain encoder at the teacher's learning rate, rehearsal
    parent-aware where the new type has ``parents``."""
    common = {k: v for k, v in cli.common_settings(args).items() if k not in ("epochs", "learning_rate")}
    config = {
        "base": args.encoder if method is FRESH else teacher,
        "new_labels": [args.new_type],
        "train": [str(p) for p in train],
        "label_map": str(files["new_map"]),
        "output": str(output),
        **common,
        "seed": seed,
        **method.options,
    }
    if method is FRESH:
        config["learning_rate"] = args.teacher_learning_rate
    if method.rehearsal:
        config["rehearsal"] = rehearsal_files(files, method.rehearsal, args)
        if parents:
            config.update(parent={k: list(v) for k, v in parents.items()}, rehearsal_parents=True)
    return config


def points(args) -> list[tuple[Method, int, int]]:
    chosen = [m for m in METHODS if not args.methods or m.key in args.methods or m.name in args.methods]
    runs = []
    for size in args.sizes:
        many = size and size <= args.many_seeds_up_to
        runs += [(m, size, seed) for seed in (args.seeds if many else args.seeds[:1]) for m in chosen]
    return runs


def run(scenario: Scenario, args, files: dict[str, Any], out: Path) -> dict[str, Any]:
    started = time.time()
    todo = points(args)
    progress = Progress(len(todo) + 1)
    sets = load_sets(files, repeats=args.score_repeats)
    teacher = cli.build_teacher(scenario, args, files, out, None if args.teacher else args.teacher_seeds[0])
    teacher_tags = model_tags(teacher, sets, args.eval_batch_size)
    teacher_row = {"method": "teacher", **evaluate(teacher, sets, None, scenario, args.eval_batch_size)}
    progress.step(f"teacher: old F1 {teacher_row['old_f1_mean']:.1f}")
    rows = []
    for method, size, seed in todo:
        train, n, trained = training_set(files, out, size, seed, natural=method in (NATURAL, NATURAL_THIRD))
        output = out / "curve" / f"{method.key}-n{n}-s{seed}"
        config = settings(args, method, teacher, train, files, output, seed, dict(scenario.parents))
        cost = train_once(config, f"{method.name}, {n} sentences, seed {seed}", args.reuse_other_code)
        known = None if method is FRESH else teacher_tags  # a fresh model has no old labels to forget
        row = {
            "method": method.name,
            "size": n,
            "sentences": trained,
            "seed": seed,
            "cost": cost,
            "output": str(output),
        }
        row.update(evaluate(str(output), sets, known, scenario, args.eval_batch_size))
        row["steps"] = json.loads((output / "labelgrow.json").read_text()).get("training", {}).get("global_steps")
        rows.append(row)
        progress.step(
            f"{method.name}, {n} sentences, seed {seed}: new F1 {render.fmt(row.get('new_f1_mean'))}, not "
            f"refinement {render.fmt(row.get('not_refinement_mean'))}"
        )
    result = {
        "scenario": scenario.name,
        "settings": {k: v for k, v in vars(args).items() if k != "config"},
        "teacher": teacher_row,
        "points": rows,
        "repeats_not_scored": {} if args.score_repeats else repeated_copies(files),
        "wall_s": time.time() - started,
    }
    (out / "results.json").write_text(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    write_results(result, out)
    return result


def curve_rows(rows: list[dict], key: str) -> tuple[list[int], dict[str, list[str]]]:
    sizes = sorted({r["size"] for r in rows})
    table = {}
    for m in METHODS:
        mine = [r for r in rows if r["method"] == m.name]
        if mine:
            table[m.name] = [
                render.spread([r[key] for r in mine if r["size"] == n and r.get(key) is not None]) for n in sizes
            ]
    return sizes, table


def markdown(result: dict[str, Any]) -> str:
    rows, teacher = result["points"], result["teacher"]
    lines = [
        f"New type {result['settings']['new_type']}; teacher old F1 {teacher['old_f1_mean']:.1f}. A size counts the "
        "training sentences that have the type (`natural` adds the corpus' share of sentences without it). Each figure "
        "is the mean (min–max) over the seeds run at that size (each seed draws its own sentences). "
        + cli.repeats_note(result),
    ]
    for key, title in (
        ("new_f1_mean", "New-type F1"),
        ("not_refinement_mean", "Forgetting that is not refinement, mean over languages"),
        ("not_refinement_max", "Forgetting that is not refinement, worst language"),
        ("forgetting_mean", "Plain forgetting, mean over languages"),
    ):
        sizes, table = curve_rows(rows, key)
        header = ["method", *(f"{n} sentences" for n in sizes)]
        lines += [
            "",
            f"{title}:",
            "",
            render.markdown_table(header, [[k, *v] for k, v in table.items() if any(x != "-" for x in v)]),
        ]
    if rows and "carried_f1" in rows[0]:
        lines += [
            "",
            "PER / LOC on the address test sentences: teacher "
            + ", ".join(f"{t} {render.fmt(mean(list(v.values())))}" for t, v in teacher.get("carried_f1", {}).items())
            + "; forgetting there per point in results.json (carried_forgetting).",
        ]
    lines += ["", "Every point:", ""]
    body = [
        [
            r["method"],
            str(r["size"]),
            str(r.get("sentences", r["size"])),
            str(r["seed"]),
            str(r.get("steps", "-")),
            render.fmt(r.get("new_f1_mean")),
            render.fmt(r.get("not_refinement_mean")),
            render.fmt(r.get("not_refinement_max")),
            render.fmt(r["cost"]["wall_s"]) if r.get("cost") else "-",
        ]
        for r in rows
    ]
    header = [
        "method",
        "with the type",
        "trained",
        "seed",
        "steps",
        "new F1",
        "not refinement mean",
        "not refinement max",
        "wall s",
    ]
    lines.append(render.markdown_table(header, body))
    return "\n".join(lines) + "\n"


def figure(result: dict[str, Any], path: Path) -> None:
    """New-type F1 (left) and forgetting that is not refinement (right) against the number of sentences, log
    scale, each method's mean with its min–max over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6))
    for ax, key, label in (
        (axes[0], "new_f1_mean", f"{result['settings']['new_type']} F1"),
        (axes[1], "not_refinement_mean", "forgetting, not refinement (F1 points)"),
    ):
        for k, m in enumerate(METHODS):  # a method keeps its colour in both panels, whatever else ran
            mine = [r for r in result["points"] if r["method"] == m.name and r.get(key) is not None]
            sizes = sorted({r["size"] for r in mine})
            if not sizes:
                continue
            values = [[r[key] for r in mine if r["size"] == n] for n in sizes]
            means = [mean(v) for v in values]
            low = [m_ - min(v) for m_, v in zip(means, values, strict=True)]
            high = [max(v) - m_ for m_, v in zip(means, values, strict=True)]
            ax.errorbar(sizes, means, yerr=[low, high], marker="o", capsize=3, label=m.name, color=f"C{k}")
        ax.set_xscale("log")
        ax.set_xlabel("annotated training sentences with the type")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=2, frameon=False)  # below: no point hidden
    fig.suptitle(f"learning curve: {result['settings']['new_type']}")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_results(result: dict[str, Any], out: Path) -> None:
    (out / "results.md").write_text(markdown(result), encoding="utf-8")
    figure(result, out / "results.png")
    print((out / "results.md").read_text())
    print(f"total {result['wall_s'] / 60:.1f} min; {out}/results.json, results.md, results.png", file=sys.stderr)


def main() -> None:
    p = cli.parser(__doc__)
    p.add_argument("--new-type", choices=sorted(SOURCES), default="FACILITY")
    p.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200, 500, 0], help="0: the whole pool")
    p.add_argument("--many-seeds-up-to", type=int, default=100, help="sizes up to this run every seed")
    p.add_argument(
        "--also", nargs="+", default=[], metavar="OUT", help="with --render-only: add the points of these results too"
    )
    # new sentences: the pool, at most this many sentences with the type
    p.set_defaults(new_sentences=1500, seeds=[42, 43, 44], rehearsal_sentences=100)
    args = cli.parse(p, QUICK)
    out = cli.out_dir(args, f"runs/bench/learning-curve-{args.new_type.lower()}")
    args.out = str(out)
    scenario = Scenario(
        name=f"very little data: {args.new_type}",
        old_types=OLD,
        new_types=[args.new_type],
        parents={"FACILITY": ["LOC", "ORG"]} if args.new_type == "FACILITY" else {},
        methods=METHODS,
        prepare=prepare,
        carried=["PER", "LOC"] if args.new_type == "POI" else [],
    )
    if args.render_only:
        result = json.loads((out / "results.json").read_text(encoding="utf-8"))
        for other in args.also:  # e.g. a method run at other sizes into another --out: one table, one figure
            result["points"] += json.loads((Path(other) / "results.json").read_text(encoding="utf-8"))["points"]
        write_results(result, out)
        return
    out.mkdir(parents=True, exist_ok=True)
    cli.ensure_encoder(args)
    run(scenario, args, scenario.prepare(args, out), out)


if __name__ == "__main__":
    main()
