"""Run a training command of labelgrow (`extend`, `compress`) in a fresh process and report its wall time and peak
resident memory (and peak GPU memory where it ran on CUDA)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Any

CHILD = """
import json, resource, sys, time
import labelgrow
start = time.perf_counter()
result = getattr(labelgrow, sys.argv[1])(**json.loads(sys.argv[2]))
wall = time.perf_counter() - start
run = json.loads((result.output / "labelgrow.json").read_text())
import torch
gpu = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_initialized() else None
print("RESULT " + json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              "peak_gpu_mb": gpu, "device": run["training"]["device"],
                              "train_s": run["training"]["wall_seconds"], "steps": run["training"]["global_steps"],
                              "train_windows": run["data"]["train_windows"]}))
"""


def extend_measured(config: dict[str, Any], what: str, command: str = "extend") -> dict[str, Any]:
    """``labelgrow.extend(**config)`` (or another training ``command``: ``compress``) in a child process; its wall
    time, peak RSS (MB), peak GPU memory allocated (MB, None without CUDA) and step count."""
    done = subprocess.run([sys.executable, "-c", CHILD, command, json.dumps(config)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def measure_variants(
    variants: dict[str, dict[str, Any]], config: dict[str, Any], rounds: int, out: str
) -> tuple[dict[str, list[dict]], dict[str, dict[str, float]]]:
    """Each variant (extend options over ``config``) in a fresh process, interleaved over ``rounds``: every run's
    figures and each variant's medians (wall_s, train_s, peak_rss_mb, peak_gpu_mb)."""
    results: dict[str, list[dict]] = {name: [] for name in variants}
    for round_ in range(rounds):
        for index, (name, options) in enumerate(variants.items()):
            run = {**config, "output": f"{out}/round{round_}-variant{index}", **options}
            results[name].append(extend_measured(run, name))
            print(f"round {round_ + 1}: {name}: {results[name][-1]}", file=sys.stderr)
    keys = ("wall_s", "train_s", "peak_rss_mb", "peak_gpu_mb")
    median = {n: {k: statistics.median(r[k] or 0 for r in rs) for k in keys} for n, rs in results.items()}
    return results, median


def cost_table(median: dict[str, dict[str, float]], baseline: str, gpu: bool) -> str:
    """A Markdown table of the medians, time and memory also as ratios to ``baseline``'s."""
    memory = "peak_gpu_mb" if gpu else "peak_rss_mb"
    base = median[baseline]
    lines = [
        f"| run | wall time (s, median) | training (s) | vs {baseline} | {memory} (median) | vs {baseline} |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in median.items():
        lines.append(
            f"| {name} | {m['wall_s']:.1f} | {m['train_s']:.1f} | {m['train_s'] / base['train_s']:.2f}x | "
            f"{m[memory]:.0f} | {m[memory] / max(base[memory], 1e-9):.2f}x |"
        )
    return "\n".join(lines)


def publish(results: dict, median: dict, baseline: str, args: argparse.Namespace) -> None:
    """Print the cost table; write every run, the medians and the settings to ``args.json`` where given."""
    print(cost_table(median, baseline, args.gpu))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {"runs": results, "median": median, "settings": vars(args)}
        args.json.write_text(json.dumps(record, indent=2, default=str))
