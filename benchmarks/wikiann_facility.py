"""Protocol "wikiann→facility": does a method learn FACILITY without forgetting PER/ORG/LOC, in every language,
and at what cost? All methods side by side, same data, seed and schedule, in one run.

1. Encoder: me5s-xlmr (multilingual-e5-small in XLM-R format; weights dequantised from a 4-bit copy, approximate),
   or any encoder/teacher given with --encoder/--teacher (e.g. julian-schelb/roberta-ner-multilingual on a GPU).
2. Teacher: `labelgrow extend` from the encoder with PER, ORG, LOC on a seeded subset of wikiann/{en,de,zh}/train
   (built once, reused while its settings are unchanged).
3. New data: a seeded subset of multiconer2/{en,de,zh}/train with Facility+Station -> FACILITY and every other
   type -> O (only the new label annotated: old entities appear as O), and a second setting that also maps the
   person/group/location types to PER/ORG/LOC ("fully annotated").
4. Methods: naive fine-tuning of the grown model; the original practitioner's recipe (fresh classifier, CE + KD,
   alpha 0.5, T 2, single learning rate); labelgrow's default; its variants; a joint-training upper bound (one model
   from the encoder on the teacher's data plus the fully annotated new data).
5. Evaluation: old-label F1 on wikiann/{en,de,zh,es,fr,ru}/test with forgetting against the teacher; FACILITY F1 on
   multiconer2/*/dev (12 languages); cost of each extend run (wall time, peak RSS, words/s); throughput of
   labelgrow's batched inference against transformers.pipeline on the same model and sentences.

Usage:
    python benchmarks/wikiann_facility.py --config recipes/benchmarks/wikiann-facility.yaml   # CPU default
    python benchmarks/wikiann_facility.py --config recipes/benchmarks/wikiann-facility.yaml --quick
Writes OUT/results.json, OUT/results.md and OUT/results.png (OUT defaults to runs/bench/wikiann-facility).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from measure import extend_measured  # benchmarks/measure.py, beside this file

ROOT = Path(__file__).resolve().parents[1]
OLD = ["PER", "ORG", "LOC"]
NEW = "FACILITY"
RETENTION_LANGS = ["en", "de", "zh", "es", "fr", "ru"]
NEW_LANGS = ["bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh"]
TRAIN_LANGS = ["en", "de", "zh"]
FACILITY_ONLY = {"Facility": NEW, "Station": NEW}
FULL = {
    **FACILITY_ONLY,
    **{t: "PER" for t in ("Artist", "Athlete", "Cleric", "OtherPER", "Politician", "Scientist", "SportsManager")},
    **{
        t: "ORG"
        for t in (
            "AerospaceManufacturer",
            "CarManufacturer",
            "MusicalGRP",
            "ORG",
            "PrivateCorp",
            "PublicCorp",
            "SportsGRP",
        )
    },
    "HumanSettlement": "LOC",
    "OtherLOC": "LOC",
}
QUICK = {
    "teacher_sentences": 150,
    "new_sentences": 80,
    "eval_sentences": 60,
    "new_eval_sentences": 30,
    "epochs": 1.0,
    "teacher_epochs": 1.0,
}

METHODS: dict[str, dict[str, Any]] = {
    "naive fine-tuning (grown head, CE only)": {"kd": "none"},
    "original recipe (fresh head, CE + KD, one LR)": {"kd": "seed", "reset_head": True, "head_learning_rate": None},
    "labelgrow default (o-aware)": {},
    "labelgrow o-aware + pseudo-labels at 0.5": {"pseudo_label_threshold": 0.5},
    "labelgrow --kd seed (grown head)": {"kd": "seed"},
    "labelgrow default + --teacher-cache": {"teacher_cache": True},
    "labelgrow default, fully annotated new data": {"_data": "full"},
    "labelgrow --freeze-layers 4": {"freeze_layers": 4},
}
DECODES = ("bio", "argmax")  # labelgrow eval's default, and transformers.pipeline's per-word argmax
DEFAULT = "labelgrow default (o-aware)"
SEEDED = [DEFAULT, "labelgrow --freeze-layers 4"]  # the methods --extra-seeds runs again
NAIVE = "naive fine-tuning (grown head, CE only)"
JOINT = "joint training upper bound"


def sentences(path: Path) -> list[str]:
    """Blank-line separated blocks of a CoNLL file."""
    return [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]


def subset(path: Path, n: int, seed: int) -> list[str]:
    blocks = sentences(path)
    return random.Random(seed).sample(blocks, min(n, len(blocks)))


def write(path: Path, blocks: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(b.strip("\n") for b in blocks) + "\n", encoding="utf-8")
    return path


def write_map(path: Path, mapping: dict[str, str], source_types: set[str]) -> Path:
    rows = {t: mapping.get(t, "O") for t in sorted(source_types)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{s}\t{t}\n" for s, t in rows.items()), encoding="utf-8")
    return path


def source_types(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            tag = line.rsplit(" ", 1)[-1] if line.strip() else "O"
            if tag != "O":
                found.add(tag[2:])
    return found


def prepare_data(args, out: Path) -> dict[str, Any]:
    shared = Path(args.shared) / "datasets"
    data = out / "data"
    files: dict[str, Any] = {"teacher": [], "new": [], "retention": [], "new_eval": []}
    for lang in TRAIN_LANGS:
        files["teacher"].append(
            write(
                data / "teacher" / lang / "train.txt",
                subset(shared / "wikiann" / lang / "train.txt", args.teacher_sentences, 1),
            )
        )
        files["new"].append(
            write(
                data / "new" / lang / "train.txt",
                subset(shared / "multiconer2" / lang / "train.txt", args.new_sentences, 2),
            )
        )
    for lang in RETENTION_LANGS:
        files["retention"].append(
            write(
                data / "retention" / lang / "test.txt",
                subset(shared / "wikiann" / lang / "test.txt", args.eval_sentences, 3),
            )
        )
    for lang in NEW_LANGS:
        files["new_eval"].append(
            write(
                data / "new-eval" / lang / "dev.txt",
                subset(shared / "multiconer2" / lang / "dev.txt", args.new_eval_sentences, 4),
            )
        )
    types = source_types(files["new"] + files["new_eval"])
    files["facility_map"] = write_map(data / "facility-only.tsv", FACILITY_ONLY, types)
    files["full_map"] = write_map(data / "full.tsv", FULL, types)
    return files


def common_settings(args) -> dict[str, Any]:
    return {
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "max_length": args.max_length,
        "cpu": args.cpu,
        "bf16": args.bf16,
        "overwrite": True,
    }


@functools.cache
def code_digest() -> str:
    """A hash of labelgrow's source: a run made by other code is not reused."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "labelgrow").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def train_once(config: dict[str, Any], what: str, output: Path) -> dict[str, Any]:
    """Train (measured) unless a finished run with the same settings and code is already there; return its cost."""
    stamp, cost_file = output / "benchmark-settings.json", output / "benchmark-cost.json"
    config = {**config, "_labelgrow_code": code_digest()}
    if (output / "labelgrow.json").exists() and stamp.exists() and json.loads(stamp.read_text()) == config:
        print(f"{what}: reusing {output}", file=sys.stderr)
        return json.loads(cost_file.read_text())
    print(f"{what}: training", file=sys.stderr)
    cost = extend_measured({k: v for k, v in config.items() if not k.startswith("_")}, what)
    stamp.write_text(json.dumps(config, indent=2))
    cost_file.write_text(json.dumps(cost))
    return cost


def build_teacher(args, out: Path, files) -> str:
    if args.teacher:
        return args.teacher
    target = out / "teacher"
    settings = {
        "base": args.encoder,
        "new_labels": OLD,
        "train": [str(p) for p in files["teacher"]],
        "output": str(target),
        **common_settings(args),
        "epochs": args.teacher_epochs,
        "freeze_layers": 0,
        "learning_rate": args.teacher_learning_rate,
    }
    train_once(settings, "teacher", target)
    return str(target)


def evaluate(model_dir: str, files, teacher: dict | None, batch_size: int) -> dict[str, dict[str, Any]]:
    """Per decoding (bio, labelgrow's default; argmax, as transformers.pipeline): old-label scores on the retention
    sets (with forgetting against ``teacher``, the teacher's result) and FACILITY scores on the new-label sets.

    The model runs once per set (both decodings read the same probabilities); the scores are kept in
    MODEL/benchmark-eval.json and reused while the weights, the evaluation sets and labelgrow's code are unchanged."""
    from labelgrow.evaluation import forgetting

    weights = Path(model_dir) / "model.safetensors"
    key = {
        "sets": [str(p) for p in files["retention"] + files["new_eval"]],
        "sizes": [Path(p).stat().st_size for p in files["retention"] + files["new_eval"]],
        "weights": weights.stat().st_mtime if weights.exists() else None,
        "code": code_digest(),
    }
    cache = Path(model_dir) / "benchmark-eval.json"
    saved = json.loads(cache.read_text()) if cache.exists() else {}
    if saved.get("key") == key:
        results = saved["results"]
    else:
        results = score_model(model_dir, files, batch_size)
        if os.access(model_dir, os.W_OK):
            cache.write_text(json.dumps({"key": key, "results": results}))
    if teacher is not None:
        for decode, result in results.items():
            result["forgetting"] = forgetting(result["retention"], teacher[decode]["retention"], OLD)
    return results


def score_model(model_dir: str, files, batch_size: int) -> dict[str, dict[str, Any]]:
    from labelgrow.data import load_corpus
    from labelgrow.evaluation import score
    from labelgrow.inference import word_log_probs
    from labelgrow.labels import OUTSIDE, LabelMap
    from labelgrow.modeling import load_base

    base = load_base(model_dir)
    known = set(base.teacher.config.id2label.values())
    retention = load_corpus([str(p) for p in files["retention"]])
    sets = {"retention": (retention, word_log_probs(base.teacher, base.tokenizer, retention.sentences, batch_size))}
    if f"B-{NEW}" in known:
        new = load_corpus([str(p) for p in files["new_eval"]], label_map=LabelMap.read(files["facility_map"]))
        for s in new.sentences:
            s.tags = [t if t in known else OUTSIDE for t in s.tags]
        sets["new"] = (new, word_log_probs(base.teacher, base.tokenizer, new.sentences, batch_size))
    results: dict[str, dict[str, Any]] = {}
    for decode in DECODES:
        results[decode] = {
            name: score(corpus.sentences, [p.tags for p in log_probs.decode(decode)], OLD, [NEW])
            for name, (corpus, log_probs) in sets.items()
        }
    return results


def throughput(model_dir: str, files, batch_size: int) -> dict[str, float]:
    """labelgrow's batched, length-sorted inference against transformers.pipeline, same model and sentences."""
    from transformers import pipeline

    from labelgrow.data import load_corpus
    from labelgrow.features import max_input_length
    from labelgrow.inference import predict_words
    from labelgrow.modeling import load_base

    base = load_base(model_dir)
    corpus = load_corpus([str(p) for p in files["retention"]])
    # transformers.pipeline neither windows nor truncates here: a sentence longer than the model's 512 positions
    # crashes it (seen on WikiANN test). Both sides are timed on the sentences that fit.
    limit = max_input_length(base.config, base.tokenizer)
    texts = [" ".join(s.tokens) for s in corpus.sentences]
    fits = [len(base.tokenizer(t)["input_ids"]) <= limit for t in texts]
    corpus.sentences = [s for s, ok in zip(corpus.sentences, fits, strict=True) if ok]
    texts = [t for t, ok in zip(texts, fits, strict=True) if ok]
    start = time.perf_counter()
    predict_words(base.teacher, base.tokenizer, corpus.sentences, batch_size)
    ours = time.perf_counter() - start
    ner = pipeline("token-classification", model=base.teacher, tokenizer=base.tokenizer, device=-1)
    start = time.perf_counter()
    ner(texts, batch_size=batch_size)
    theirs = time.perf_counter() - start
    words = sum(len(s.tokens) for s in corpus.sentences)
    return {
        "sentences": len(texts),
        "too_long_for_pipeline": fits.count(False),
        "labelgrow_s": ours,
        "pipeline_s": theirs,
        "speedup": theirs / ours,
        "labelgrow_words_per_s": words / ours,
        "pipeline_words_per_s": words / theirs,
    }


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def scores(result: dict) -> dict[str, Any]:
    """The figures of one decoding: old-label F1 per language and label, forgetting, FACILITY F1."""
    langs = result["retention"]["languages"]
    row: dict[str, Any] = {"old_f1": {k: v["old"]["f1"] for k, v in langs.items()}}
    row["old_f1_mean"] = mean(list(row["old_f1"].values()))
    row["old_labels"] = {t: result["retention"]["overall"]["labels"].get(t, {}).get("f1", 0.0) for t in OLD}
    if "forgetting" in result:
        forgot = {k: v["old"] for k, v in result["forgetting"].items() if k != "all" and v["old"] is not None}
        row["forgetting"] = forgot
        row["forgetting_mean"] = mean(list(forgot.values()))
        row["forgetting_max"] = max(forgot.values())
    if "new" in result:
        new_langs = result["new"]["languages"]
        row["new_f1"] = {k: v["new"]["f1"] for k, v in new_langs.items()}
        row["new_f1_mean"] = mean(list(row["new_f1"].values()))
        row["new_precision_mean"] = mean([v["new"]["precision"] for v in new_langs.values()])
        row["new_recall_mean"] = mean([v["new"]["recall"] for v in new_langs.values()])
    return row


def summarize(name: str, results: dict, cost: dict | None, train_words: int, epochs: float) -> dict[str, Any]:
    """One table row: the bio-decoded figures (labelgrow eval's default), the argmax ones under "argmax", cost."""
    row = {"method": name, **scores(results["bio"]), "argmax": scores(results["argmax"])}
    if cost:
        row["cost"] = {**cost, "words_per_s": train_words * epochs / max(cost["train_s"], 1e-9)}
    return row


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _ratio(cost: dict | None, reference: dict | None, key: str) -> str:
    return f"{cost[key] / reference[key]:.2f}x" if cost and reference else "-"


def _summary_cells(figures: dict) -> str:
    """Old F1 mean | forgetting mean / max | FACILITY F1 mean (P / R), for one decoding's figures."""
    f = _fmt
    return (
        f"{f(figures['old_f1_mean'])} | {f(figures.get('forgetting_mean'))} / {f(figures.get('forgetting_max'))} | "
        f"{f(figures.get('new_f1_mean'))} ({f(figures.get('new_precision_mean'))} / "
        f"{f(figures.get('new_recall_mean'))})"
    )


def _language_table(title: str, key: str, langs: list[str], rows: list[dict]) -> list[str]:
    """A Markdown table of ``row[key][lang]`` F1 per method and language."""
    lines = ["", title, "", "| method | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    return lines + [f"| {r['method']} | " + " | ".join(_fmt(r[key].get(k)) for k in langs) + " |" for r in rows]


def markdown(rows: list[dict], args, speed: dict | None, teacher_row: dict) -> str:
    f = _fmt
    lines = [
        "Decoded with `--decode bio` (labelgrow eval's default); argmax-decoded figures follow.",
        "",
        "| method | old F1, mean of 6 | forgetting mean / max | FACILITY F1, mean of 12 (P / R) | "
        "wall s | vs naive | peak RSS MB | vs naive |",
        "|---|---|---|---|---|---|---|---|",
    ]
    naive = next((r.get("cost") for r in rows if r["method"] == NAIVE), None)
    lines.append(f"| teacher | {f(teacher_row['old_f1_mean'])} | - | - | | | | |")
    for r in rows:
        cost = r.get("cost")
        lines.append(
            f"| {r['method']} | {_summary_cells(r)} | "
            f"{f(cost['wall_s']) if cost else '-'} | {_ratio(cost, naive, 'wall_s')} | "
            f"{f(cost['peak_rss_mb']) if cost else '-'} | {_ratio(cost, naive, 'peak_rss_mb')} |"
        )
    lines += _language_table(
        "Old-label F1 per language (WikiANN test):", "old_f1", RETENTION_LANGS, [teacher_row, *rows]
    )
    lines += _language_table(
        "FACILITY F1 per language (MultiCoNER II dev):", "new_f1", NEW_LANGS, [r for r in rows if "new_f1" in r]
    )
    lines += [
        "",
        "The same models decoded by per-word argmax (as transformers.pipeline does), old-label F1 per language:",
        "",
        "| method | old F1, mean of 6 | forgetting mean / max | FACILITY F1, mean of 12 (P / R) | "
        + " | ".join(RETENTION_LANGS)
        + " |",
        "|---|---|---|---|" + "---|" * len(RETENTION_LANGS),
    ]
    for r in [teacher_row, *rows]:
        a = r["argmax"]
        per_language = " | ".join(f(a["old_f1"].get(k)) for k in RETENTION_LANGS)
        lines.append(f"| {r['method']} | {_summary_cells(a)} | {per_language} |")
    if speed:
        lines += [
            "",
            f"Inference on {speed['sentences']} WikiANN test sentences, same model, batch "
            f"{args.eval_batch_size}: labelgrow {speed['labelgrow_words_per_s']:.0f} words/s, "
            f"transformers.pipeline {speed['pipeline_words_per_s']:.0f} words/s: "
            f"**{speed['speedup']:.2f}x**.",
        ]
    return "\n".join(lines) + "\n"


def seed_markdown(rows: list[dict], seed_rows: list[dict]) -> str:
    """Each --extra-seeds method over all its seeds: per seed and the mean, both decodings."""
    if not seed_rows:
        return ""
    f = _fmt
    lines = [
        "",
        "Seeds (same data and settings, training seed only):",
        "",
        "| method | seed | old F1 | forgetting mean / max | FACILITY F1 | argmax: old F1 | forgetting mean / max "
        "| FACILITY F1 | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in SEEDED:
        runs = [r for r in rows + seed_rows if r["method"] == name]
        if len(runs) < 2:
            continue
        keys = ("old_f1_mean", "forgetting_mean", "forgetting_max", "new_f1_mean")
        for label, group in [*((r["seed"], [r]) for r in runs), ("mean", runs)]:
            b = {k: mean([x[k] for x in group]) for k in keys}
            a = {k: mean([x["argmax"][k] for x in group]) for k in keys}
            lines.append(
                f"| {name} | {label} | {f(b['old_f1_mean'])} | {f(b['forgetting_mean'])} / "
                f"{f(b['forgetting_max'])} | {f(b['new_f1_mean'])} | {f(a['old_f1_mean'])} | "
                f"{f(a['forgetting_mean'])} / {f(a['forgetting_max'])} | {f(a['new_f1_mean'])} | "
                f"{f(mean([x['cost']['wall_s'] for x in group]))} |"
            )
    return "\n".join(lines) + "\n"


def figure(rows: list[dict], teacher_row: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(13, 8))
    for ax, key, langs, title, series in (
        (top, "old_f1", RETENTION_LANGS, "old labels (PER/ORG/LOC) F1, WikiANN test", [teacher_row, *rows]),
        (bottom, "new_f1", NEW_LANGS, "FACILITY F1, MultiCoNER II dev", [r for r in rows if "new_f1" in r]),
    ):
        width = 0.85 / max(len(series), 1)
        for k, r in enumerate(series):
            xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(langs))]
            ax.bar(xs, [r[key].get(lang, 0.0) for lang in langs], width, label=r["method"])
        ax.set_xticks(range(len(langs)), langs)
        ax.set_ylim(0, 100)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("F1 (points)")
        ax.grid(axis="y", alpha=0.3)
    top.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="YAML with any of the options below")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--encoder", default="runs/me5s-xlmr")
    parser.add_argument("--teacher", help="an existing PER/ORG/LOC teacher (skips building one)")
    parser.add_argument("--out", default="runs/bench/wikiann-facility")
    parser.add_argument("--teacher-sentences", type=int, default=4000)
    parser.add_argument("--new-sentences", type=int, default=1500)
    parser.add_argument("--eval-sentences", type=int, default=1000)
    parser.add_argument("--new-eval-sentences", type=int, default=500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--teacher-epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--teacher-learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--extra-seeds", type=int, nargs="*", default=[], help="run labelgrow's default (and --freeze-layers 4) again"
    )
    parser.add_argument("--methods", nargs="*", help="a subset of the method names (default: all)")
    parser.add_argument("--no-joint", action="store_true", help="skip the joint-training upper bound")
    parser.add_argument("--cpu", action="store_true")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny subsets and 1 epoch: a smoke run in minutes")
    args = parser.parse_args()
    if args.config:
        for key, value in (yaml.safe_load(args.config.read_text()) or {}).items():
            if not hasattr(args, key.replace("-", "_")):
                sys.exit(f"{args.config}: unknown option {key}")
            if parser.get_default(key.replace("-", "_")) == getattr(args, key.replace("-", "_")):
                setattr(args, key.replace("-", "_"), value)
    if args.quick:
        vars(args).update(QUICK)
        args.out = str(Path(args.out).with_name(Path(args.out).name + "-quick"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not Path(args.encoder).exists() and not args.teacher:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_me5s_xlmr.py"), args.encoder], check=True)
    started = time.time()
    files = prepare_data(args, out)
    teacher = build_teacher(args, out, files)
    teacher_eval = evaluate(teacher, files, None, args.eval_batch_size)
    teacher_row = summarize("teacher", teacher_eval, None, 0, 0)
    new_words = sum(len(b.splitlines()) for p in files["new"] for b in sentences(p))
    rows, seed_rows = [], []
    chosen = {k: v for k, v in METHODS.items() if not args.methods or k in args.methods}
    runs = [(name, args.seed) for name in chosen]
    runs += [(name, seed) for seed in args.extra_seeds for name in SEEDED if name in chosen]
    for name, seed in runs:
        options = dict(METHODS[name])
        mapping = files["full_map"] if options.pop("_data", None) == "full" else files["facility_map"]
        output = out / "methods" / (f"m{list(METHODS).index(name)}" + ("" if seed == args.seed else f"-seed{seed}"))
        config = {
            "base": teacher,
            "new_labels": [NEW],
            "train": [str(p) for p in files["new"]],
            "label_map": str(mapping),
            "output": str(output),
            **common_settings(args),
            "seed": seed,
            **options,
        }
        cost = train_once(config, f"{name} (seed {seed})", output)
        result = evaluate(str(output), files, teacher_eval, args.eval_batch_size)
        row = summarize(name, result, cost, new_words, args.epochs)
        row["seed"] = seed
        (rows if seed == args.seed else seed_rows).append(row)
        print(
            json.dumps({k: row.get(k) for k in ("method", "seed", "old_f1_mean", "forgetting_mean", "new_f1_mean")}),
            file=sys.stderr,
        )
    if not args.no_joint:
        print(f"{JOINT}: training", file=sys.stderr)
        output = out / "methods" / "joint"
        joint_data = out / "data" / "joint"
        # the new data with the full map, written out mapped, so that both corpora train in one run
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
            joint_new.append(write(joint_data / lang / "new.txt", blocks))
        config = {
            "base": args.encoder,
            "new_labels": [*OLD, NEW],
            "train": [str(p) for p in files["teacher"] + joint_new],
            "output": str(output),
            **common_settings(args),
            "epochs": args.teacher_epochs,
            "freeze_layers": 0,
            "learning_rate": args.teacher_learning_rate,
        }
        cost = train_once(config, JOINT, output)
        teacher_words = sum(len(b.splitlines()) for p in files["teacher"] for b in sentences(p))
        rows.append(
            summarize(
                JOINT,
                evaluate(str(output), files, teacher_eval, args.eval_batch_size),
                cost,
                new_words + teacher_words,
                args.teacher_epochs,
            )
        )
    default_dir = out / "methods" / f"m{list(METHODS).index(DEFAULT)}"
    speed = throughput(str(default_dir), files, args.eval_batch_size) if default_dir.exists() else None
    result = {
        "settings": {k: v for k, v in vars(args).items() if k != "config"},
        "teacher": teacher_row,
        "methods": rows,
        "seeds": seed_rows,
        "inference": speed,
        "wall_s": time.time() - started,
    }
    (out / "results.json").write_text(json.dumps(result, indent=2, default=str))
    (out / "results.md").write_text(markdown(rows, args, speed, teacher_row) + seed_markdown(rows, seed_rows))
    figure(rows, teacher_row, out / "results.png")
    print((out / "results.md").read_text())
    print(f"total {result['wall_s'] / 60:.1f} min; {out}/results.json, results.md, results.png", file=sys.stderr)


if __name__ == "__main__":
    main()
