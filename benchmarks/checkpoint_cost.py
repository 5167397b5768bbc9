"""What do resume checkpoints cost a small-data run? `labelgrow extend` on a few annotated sentences (`--min-steps`
raises training to 100 steps, many short epochs) with a checkpoint at the end of every epoch (labelgrow before
2026-11-30: `--save-steps` set to the steps of one epoch here) against the default, which writes at most
`extension.MAX_CHECKPOINTS`. Side by side in one run, each a process of its own, interleaved over rounds.

Usage (a trained base, e.g. the wikiann→facility teacher or `bash scripts/demo.sh`'s runs/demo/teacher):
    python benchmarks/checkpoint_cost.py --base runs/demo/teacher --sentences 50 --rounds 2
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from harness.measure import measure_variants, publish  # benchmarks/harness/measure.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="runs/demo/teacher")
    default_train = [f"data/facility/{lang}/train.txt" for lang in ("en", "de", "zh")]
    parser.add_argument("--train", nargs="+", default=default_train)
    parser.add_argument("--sentences", type=int, default=50, help="the first N sentences of --train, in order")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (default: --cpu)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        blocks = [block for path in args.train for block in Path(path).read_text().strip().split("\n\n")]
        subset = Path(tmp) / "train.txt"
        subset.write_text("\n\n".join(blocks[: args.sentences]) + "\n")
        per_epoch = math.ceil(min(args.sentences, len(blocks)) / args.batch_size)
        variants = {
            f"a checkpoint each epoch (every {per_epoch} steps: labelgrow before)": {"save_steps": per_epoch},
            "default (at most 4 checkpoints)": {},
        }
        config = {
            "base": args.base,
            "new_labels": ["FACILITY"],
            "train": [str(subset)],
            "batch_size": args.batch_size,
            "cpu": not args.gpu,
            "seed": 42,
        }
        results, median = measure_variants(variants, config, args.rounds, tmp)
    publish(results, median, "default (at most 4 checkpoints)", args)


if __name__ == "__main__":
    main()
