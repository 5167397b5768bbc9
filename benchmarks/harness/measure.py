"""Run a training command of labelgrow (`extend`, `compress`) in a process of its own and report its wall time and
peak resident memory (and peak GPU memory where it ran on CUDA)."""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import multiprocessing.context
import os
import resource
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

# what the fork server imports once, so that each run's process starts warm: importing these (torch, transformers'
# XLM-R model code, accelerate) costs seconds a process, more than a tiny model's whole training
PRELOAD = [
    "labelgrow.extension",
    "labelgrow.compression",
    "labelgrow.trainer",
    "labelgrow.report",
    "transformers.models.xlm_roberta.modeling_xlm_roberta",
    "transformers.trainer",
    "accelerate",
    "datasets",
    "seqeval.metrics",
]


@functools.cache
def _context() -> multiprocessing.context.BaseContext:
    """Processes forked from one warm server where the platform has it (Linux), else spawned fresh."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _run_child(command: str, config: dict[str, Any], log: str, result: str) -> None:
    """In the run's own process: ``labelgrow.<command>(**config)`` with its output in ``log``, figures in ``result``."""
    with open(log, "w") as stream:  # the run's progress and errors go to its log, not into the parent's output
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
    import torch

    import labelgrow

    try:
        start = time.perf_counter()
        output = getattr(labelgrow, command)(**config).output
        wall = time.perf_counter() - start
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    run = json.loads((output / "labelgrow.json").read_text())
    figures = {
        "wall_s": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_initialized() else None,
        "device": run["training"]["device"],
        "train_s": run["training"]["wall_seconds"],
        "steps": run["training"]["global_steps"],
        "train_windows": run["data"]["train_windows"],
    }
    Path(result).write_text(json.dumps(figures))


def extend_measured(config: dict[str, Any], what: str, command: str = "extend") -> dict[str, Any]:
    """``labelgrow.extend(**config)`` (or another training ``command``: ``compress``) in a process of its own (forked
    from a server that has imported labelgrow once); its wall time, peak RSS (MB, imports included as in any fresh
    process), peak GPU memory allocated (MB, None without CUDA) and step count."""
    with tempfile.TemporaryDirectory(prefix="labelgrow-run-") as tmp:
        log, result = f"{tmp}/log.txt", f"{tmp}/result.json"
        process = _context().Process(target=_run_child, args=(command, config, log, result))
        process.start()
        process.join()
        if process.exitcode != 0 or not Path(result).exists():
            tail = Path(log).read_text(errors="replace")[-3000:] if Path(log).exists() else ""
            sys.exit(f"{what} failed (exit code {process.exitcode}):\n{tail}")
        return json.loads(Path(result).read_text())


def measure_variants(
    variants: dict[str, dict[str, Any]], config: dict[str, Any], rounds: int, out: str
) -> tuple[dict[str, list[dict]], dict[str, dict[str, float]]]:
    """Each variant (extend options over ``config``) in a process of its own, interleaved over ``rounds``: every run's
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
