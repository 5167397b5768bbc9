"""What does the teacher cost? Wall time and peak memory of `labelgrow extend` with the live teacher (shared frozen
layers and reduced precision, each switched off in turn), with `--teacher-cache`, and without KD (`--kd none`),
measured side by side in one run, interleaved over rounds.

Each run is a process of its own (forked from a server that has only imported labelgrow, torch and transformers:
harness.measure) that reports its own peak resident memory (ru_maxrss) and wall time, so the runs do not share
caches or allocator state. Results go to stdout as a Markdown table and to --json.

Usage (after `bash scripts/demo.sh` has built runs/demo/teacher):
    python benchmarks/teacher_cost.py --base runs/demo/teacher --rounds 2 --json runs/bench/teacher_cost.json
On a GPU (`--gpu`; peak GPU memory is reported too), e.g. at the default teacher's shape with random weights:
    python scripts/check_gpu.py --work /tmp/gpu --size large --tokenizer runs/me5s-xlmr
    python benchmarks/teacher_cost.py --base /tmp/gpu/base --gpu --epochs 8 --rounds 2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness.measure import measure_variants, publish  # benchmarks/harness/measure.py

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
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (default: --cpu, as measured in docs)")
    args = parser.parse_args()
    config = {
        "base": args.base,
        "new_labels": args.new_labels,
        "train": args.train,
        "epochs": args.epochs,
        "learning_rate": 1e-4,
        "cpu": not args.gpu,
        "seed": 42,
    }
    with tempfile.TemporaryDirectory() as tmp:
        results, median = measure_variants(VARIANTS, config, args.rounds, tmp)
    publish(results, median, "--kd none (no teacher)", args)


if __name__ == "__main__":
    main()
