"""What does the teacher cost? Wall time and peak memory of `labelgrow extend` with the live teacher (shared frozen
layers and reduced precision, each switched off in turn), with `--teacher-cache`, and without KD (`--kd none`),
measured side by side in one run, interleaved over rounds.

Each run is a fresh process that reports its own peak resident memory (ru_maxrss) and wall time, so the runs do not
share caches or allocator state. Results go to stdout as a Markdown table and to --json.

Usage (after `bash scripts/demo.sh` has built runs/demo/teacher):
    python benchmarks/teacher_cost.py --base runs/demo/teacher --rounds 2 --json runs/bench/teacher_cost.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from harness.measure import extend_measured  # benchmarks/harness/measure.py

VARIANTS = {
    "live teacher (default: shares the frozen layers, --teacher-precision auto)": {},
    "live teacher, shares the frozen layers, fp32": {"teacher_precision": "fp32"},
    "live teacher, full copy, fp32 (labelgrow before the shared trunk)": {
        "teacher_precision": "fp32",
        "share_frozen_layers": False,
    },
    "--teacher-cache": {"teacher_cache": True},
    "--kd none (no teacher)": {"kd": "none"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="runs/demo/teacher")
    default_train = [f"data/facility/{lang}/train.txt" for lang in ("en", "de", "zh")]
    parser.add_argument("--train", nargs="+", default=default_train)
    parser.add_argument("--new-labels", default="FACILITY")
    parser.add_argument("--epochs", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for index, (name, options) in enumerate(VARIANTS.items()):
                config = {
                    "base": args.base,
                    "new_labels": args.new_labels,
                    "train": args.train,
                    "output": f"{tmp}/round{round_}-variant{index}",
                    "epochs": args.epochs,
                    "learning_rate": 1e-4,
                    "cpu": True,
                    "seed": 42,
                    **options,
                }
                results[name].append(extend_measured(config, name))
                print(f"round {round_ + 1}: {name}: {results[name][-1]}", file=sys.stderr)
    base = "--kd none (no teacher)"
    median = {
        n: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "peak_rss_mb", "train_s")}
        for n, rs in results.items()
    }
    print("| run | wall time (s, median) | vs --kd none | peak RSS (MB, median) | vs --kd none |")
    print("|---|---|---|---|---|")
    for name, m in median.items():
        print(
            f"| {name} | {m['wall_s']:.1f} | {m['wall_s'] / median[base]['wall_s']:.2f}x | "
            f"{m['peak_rss_mb']:.0f} | {m['peak_rss_mb'] / median[base]['peak_rss_mb']:.2f}x |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"runs": results, "median": median, "settings": vars(args)}, indent=2, default=str)
        )


if __name__ == "__main__":
    main()
