"""Benchmark "compress": does a student with half the layers, distilled from a grown model by `labelgrow compress`,
keep its old- and new-label F1 at a higher speed — and does distillation beat training the same small model
directly on the same data?

The grown model is a wikiann→facility cell (PER/ORG/LOC from WikiANN + FACILITY from MultiCoNER II, on me5s-xlmr:
**approximate weights**), and its data directory: that scenario's run writes both. Three models, measured one after
the other in one process:

- full: the grown model itself (12 layers);
- distilled: `labelgrow compress --layers 6` on a seeded subset of the teacher's WikiANN data (gold PER/ORG/LOC)
  plus the FACILITY-only MultiCoNER data (gold O there gets the full model's distribution, not CE);
- direct: the same 6 layers (`--no-distill`) trained on the same files with CE alone;
- with `--hidden-kd W` also "distilled+hidden": distilled as above plus hidden-state distillation at weight W;
- with `--raw-sentences N` also "distilled+raw": distilled as above plus raw text learned by distillation alone
  (`compress --raw`): DATA/rehearsal-all (WikiANN text of the six languages old labels are scored in) and N seeded
  MultiCoNER II sentences in each of its 12 languages, from train where ../shared has it (de, en, sv, zh), else from
  dev less the sentences FACILITY is scored on (tags dropped) — the languages the 7,500 annotated sentences (en/de/zh
  only) leave out.

Scores: old-label F1 on the scenario's WikiANN test subsets (6 languages), FACILITY F1 on its MultiCoNER dev subsets
(12 languages), words/s over both sets, parameters, size on disk, training wall time and peak memory.

Usage:
    python benchmarks/compress_facility.py --model runs/bench/wikiann-facility/methods/t45/default-s42 \\
        --data runs/bench/wikiann-facility/data
    python benchmarks/compress_facility.py --model ... --data ... --hidden-kd 1.0  # + hidden-state distillation
    python benchmarks/compress_facility.py --model ... --data ... --raw-sentences 300  # + raw text of every language
    python benchmarks/compress_facility.py ... --raw-sentences 300 --epochs 3 --small distilled+raw  # that one only
    python benchmarks/compress_facility.py --model ... --data ... --quick     # minutes: small subsets, few steps
Writes OUT/results.json and OUT/results.md (OUT: runs/bench/compress-facility).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.corpora import MULTICONER_LANGS
from harness.data import sample, sentences, subset, write
from harness.runs import ROOT, train_once
from harness.scoring import load_sets

HIDDEN = "distilled+hidden"
RAW = "distilled+raw"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="the grown model (a wikiann→facility cell)")
    p.add_argument("--data", required=True, help="the wikiann→facility data directory (teacher, new, retention, ...)")
    p.add_argument("--out", default="runs/bench/compress-facility")
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--select", default="every-other")
    p.add_argument("--teacher-sentences", type=int, default=1000, help="per language, from DATA/teacher")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--eval-batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--hidden-kd", type=float, default=0.0, help="also train distilled+hidden at this weight")
    p.add_argument(
        "--raw-sentences",
        type=int,
        default=0,
        help="also train distilled+raw: DATA/rehearsal-all + this many unscored MultiCoNER II sentences a language",
    )
    p.add_argument(
        "--shared", default=str(ROOT.parent / "shared"), help="where datasets/multiconer2 is (for --raw-sentences)"
    )
    p.add_argument("--small", nargs="+", help="train and score only these small models (default: every one)")
    p.add_argument("--reuse-other-code", action="store_true", help="reuse runs made by other labelgrow code")
    p.add_argument("--eval-sentences", type=int, default=None, help="per language and set (default: all)")
    p.add_argument("--quick", action="store_true", help="60 teacher sentences per language, 10 steps, 20 to score")
    args = p.parse_args(argv)
    if args.quick:
        args.teacher_sentences, args.max_steps, args.eval_sentences = 60, 10, 20
    return args


def training_files(args, out: Path) -> tuple[list[str], str]:
    """The gold both small models train on: a seeded WikiANN subset per language and the FACILITY-only data."""
    data = Path(args.data)
    teacher = [
        write(out / "data" / "teacher" / path.parent.name / "train.txt", subset(path, args.teacher_sentences, 7))
        for path in sorted((data / "teacher").glob("*/train.txt"))
    ]
    new = sorted((data / "new").glob("*/train.txt"))
    if not teacher or not new:
        raise SystemExit(
            f"{data}: no teacher/*/train.txt or new/*/train.txt (run benchmarks/wikiann_facility.py first)"
        )
    return [str(p) for p in teacher + new], str(data / "facility-only.tsv")


def model_names(args) -> list[str]:
    """The models this run compares, in table order (``--small``: only those small models beside the full one)."""
    small = ["distilled", *([HIDDEN] if args.hidden_kd else []), *([RAW] if args.raw_sentences else []), "direct"]
    unknown = sorted(set(args.small or []) - set(small))
    if unknown:
        raise SystemExit(f"--small {' '.join(unknown)}: this run's small models are {', '.join(small)}")
    return ["full", *(name for name in small if not args.small or name in args.small)]


def raw_files(args, out: Path) -> list[str]:
    """distilled+raw's unlabelled text: the scenario's rehearsal text of the six WikiANN languages and a seeded
    sample (seed 8) of MultiCoNER II in each of its languages (train where ../shared has it, else dev less the
    sentences FACILITY is scored on), written under OUT/data/raw."""
    rehearsal = sorted((Path(args.data) / "rehearsal-all").glob("*/train.txt"))
    if not rehearsal:
        raise SystemExit(f"{args.data}: no rehearsal-all/*/train.txt (run benchmarks/wikiann_facility.py first)")
    multiconer = Path(args.shared) / "datasets" / "multiconer2"
    sampled = []
    for lang in MULTICONER_LANGS:
        train = multiconer / lang / "train.txt"
        # four languages have a train split here; elsewhere dev, less the sentences FACILITY is scored on
        pool = sentences(train if train.is_file() else multiconer / lang / "dev.txt")
        scored = {block.strip() for block in sentences(Path(args.data) / "new-eval" / lang / "dev.txt")}
        pool = [block for block in pool if block.strip() not in scored]  # a file's last block keeps its newline
        drawn = sample(pool, args.raw_sentences, 8)
        if not drawn:
            print(f"{lang}: no MultiCoNER II sentence left that FACILITY is not scored on: no raw text")
            continue
        sampled.append(write(out / "data" / "raw" / lang / "train.txt", drawn))
    return [str(p) for p in rehearsal + sampled]


def output_dir(out: Path, name: str) -> Path:
    return out / {HIDDEN: "distilled-hidden", RAW: "distilled-raw"}.get(name, name)


def train_small(args, out: Path, name: str) -> dict[str, Any]:
    """`labelgrow compress` into OUT/distilled, OUT/distilled-hidden or OUT/direct (harness.runs.train_once: reused
    when finished with the same settings and code)."""
    train, label_map = training_files(args, out)
    output = output_dir(out, name)
    distill = name != "direct"
    config = {
        "model": args.model,
        "output": str(output),
        "train": train,
        "label_map": label_map,
        "layers": args.layers,
        "select": args.select,
        "distill": distill,
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "cpu": args.cpu,
        "overwrite": True,
    }
    if name == HIDDEN:
        config["hidden_kd"] = args.hidden_kd
    if name == RAW:
        config["raw"] = raw_files(args, out)
    return train_once(config, name, args.reuse_other_code, command="compress")


def measure(args, out: Path) -> dict[str, Any]:
    from labelgrow.compression import directory_megabytes
    from labelgrow.evaluation import measure_models
    from labelgrow.modeling import load_base, load_token_classifier
    from labelgrow.outputs import read_run_record

    data = Path(args.data)
    files = {
        "retention": sorted((data / "retention").glob("*/test.txt")),
        "new_eval": sorted((data / "new-eval").glob("*/dev.txt")),
        "new_eval_map": data / "facility-only.tsv",
    }
    sets = load_sets(files, repeats=True)  # as its published figures were measured: models side by side
    if args.eval_sentences:
        for corpus in sets.values():
            seen: dict[str, int] = {}
            kept = []
            for sentence in corpus.sentences:
                seen[sentence.lang] = seen.get(sentence.lang, 0) + 1
                if seen[sentence.lang] <= args.eval_sentences:
                    kept.append(sentence)
            corpus.sentences = kept
    dirs = {name: Path(args.model) if name == "full" else output_dir(out, name) for name in model_names(args)}
    base = load_base(str(dirs["full"]))
    models = {name: load_token_classifier(str(path)).eval() for name, path in dirs.items()}
    run = read_run_record(dirs["full"])
    old, new = run["old_types"], run["new_types"]
    per_set = {
        name: measure_models(models, base.tokenizer, corpus.sentences, old, new, args.eval_batch_size)
        for name, corpus in sets.items()
    }
    words = sum(len(s.tokens) for corpus in sets.values() for s in corpus.sentences)
    result = {}
    for name, model in models.items():
        seconds = sum(per_set[s][name]["seconds"] for s in sets)
        old_f1 = {lang: f1["old"] for lang, f1 in per_set["retention"][name]["f1"].items() if f1["old"] is not None}
        new_f1 = {lang: f1["new"] for lang, f1 in per_set["new"][name]["f1"].items() if f1["new"] is not None}
        result[name] = {
            "path": str(dirs[name]),
            "layers": model.config.num_hidden_layers,
            "parameters": sum(p.numel() for p in model.parameters()),
            "megabytes": directory_megabytes(dirs[name]),
            "words_per_second": round(words / max(seconds, 1e-9), 1),
            "old_f1": old_f1,
            "new_f1": new_f1,
            "old_mean": sum(old_f1.values()) / max(len(old_f1), 1),
            "new_mean": sum(new_f1.values()) / max(len(new_f1), 1),
        }
    return result


def markdown(result: dict[str, Any]) -> str:
    models = result["models"]
    full = models["full"]
    lines = [
        "| model | layers | parameters | MB | words/s | old F1 (lang. mean) | new F1 (lang. mean) | train s | RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in models:
        m, cost = models[name], result["cost"].get(name) or {}
        speed = m["words_per_second"] / max(full["words_per_second"], 1e-9)
        share_old = 100 * m["old_mean"] / max(full["old_mean"], 1e-9)
        share_new = 100 * m["new_mean"] / max(full["new_mean"], 1e-9)
        rss = f"{cost['peak_rss_mb'] / 1024:.1f} GB" if cost else "-"
        lines.append(
            f"| {name} | {m['layers']} | {m['parameters'] / 1e6:.1f}M | {m['megabytes']} | "
            f"{m['words_per_second']:.0f} ({speed:.2f}x) | {m['old_mean']:.1f} ({share_old:.0f}%) | "
            f"{m['new_mean']:.1f} ({share_new:.0f}%) | {cost.get('train_s', '-')} | "
            f"{rss} |"
        )
    for key, title in (("old_f1", "old-label F1 per language (WikiANN test)"), ("new_f1", "FACILITY F1 per language")):
        langs = list(full[key])
        lines += ["", f"{title}:", "", "| model | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
        for name in models:
            lines.append(
                f"| {name} | " + " | ".join(f"{models[name][key].get(lang, 0.0):.1f}" for lang in langs) + " |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cost = {name: train_small(args, out, name) for name in model_names(args) if name != "full"}
    result = {"settings": vars(args), "cost": cost, "models": measure(args, out)}
    (out / "results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "results.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
