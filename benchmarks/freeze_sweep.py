"""How much to freeze (issue 13): the wikiann→facility extension at several --freeze-layers depths.

The same data, teachers and scores as benchmarks/wikiann_facility.py (its `prepare`); one method per depth
(`--methods freeze0 freeze2 ...`; default 0 2 4 6 8 10 of me5s-xlmr's 12 layers; the embeddings are frozen at every
depth, as labelgrow's default does). Besides the scenario's usual tables, OUT/depth.md and OUT/depth.png put
old-label F1, FACILITY F1, forgetting (plain and not refinement), wall time and trainable parameters against the
depth — what the default (--freeze-layers 2) is chosen from.

Usage:
    python benchmarks/freeze_sweep.py --config recipes/benchmarks/freeze-sweep.yaml [--quick]
Writes OUT/results.{json,md,png} and OUT/depth.{md,png} (OUT: runs/bench/freeze-sweep).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import wikiann_facility
from harness import cli, render
from harness.corpora import WIKIANN_TRAIN_LANGS
from harness.protocol import Method, Scenario
from harness.scoring import mean

DEPTHS = (0, 2, 4, 6, 8, 10)  # the default sweep (of me5s-xlmr's 12 layers)
MAX_DEPTH = 48  # methods freeze0 ... freeze48 exist, for deeper encoders


def method(depth: int) -> Method:
    return Method(f"--freeze-layers {depth}", f"freeze{depth}", {"freeze_layers": depth}, cells="grid")


def split_by_training(new_f1: dict[str, float]) -> tuple[float, float]:
    """Mean new-type F1 over the languages the new data has text in (en/de/zh), and over the others (zero-shot):
    where a setting gains or loses FACILITY (the gap to the joint bound is all in the zero-shot languages)."""
    trained = [v for lang, v in new_f1.items() if lang in WIKIANN_TRAIN_LANGS]
    return mean(trained), mean([v for lang, v in new_f1.items() if lang not in WIKIANN_TRAIN_LANGS])


def depth_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per depth, each figure's mean over the cells (teacher seed, seed) it ran on, and the trainable parameters
    its labelgrow.json records."""
    out = []
    for depth in sorted({int(r["method"].rsplit(" ", 1)[-1]) for r in result["cells"] if r["method"].startswith("--")}):
        cells = [r for r in result["cells"] if r["method"] == method(depth).name]
        run = json.loads((Path(cells[0]["output"]) / "labelgrow.json").read_text())

        def avg(key: str, cells: list = cells) -> float:
            return mean([c[key] for c in cells if c.get(key) is not None])

        out.append(
            {
                "depth": depth,
                "cells": len(cells),
                "old_f1": avg("old_f1_mean"),
                "new_f1": avg("new_f1_mean"),
                "new_f1_trained": mean([split_by_training(c["new_f1"])[0] for c in cells]),
                "new_f1_unseen": mean([split_by_training(c["new_f1"])[1] for c in cells]),
                "forgetting_mean": avg("forgetting_mean"),
                "forgetting_max": avg("forgetting_max"),
                "not_refinement_mean": avg("not_refinement_mean"),
                "not_refinement_max": avg("not_refinement_max"),
                "wall_s": mean([c["cost"]["wall_s"] for c in cells if c.get("cost")]),
                "trainable": run["parameters"]["trainable"],
                "total": run["parameters"]["total"],
            }
        )
    return out


def write_depth(result: dict[str, Any], out: Path) -> None:
    """OUT/depth.md (one row per depth) and OUT/depth.png (four panels against the depth)."""
    rows = depth_rows(result)
    header = [
        "--freeze-layers",
        "cells",
        "old F1",
        "new F1",
        "new F1, en/de/zh / other languages",
        "forgetting mean / max",
        "not refinement mean / max",
        "wall s",
        "trainable parameters",
    ]
    body = [
        [
            str(r["depth"]),
            str(r["cells"]),
            render.fmt(r["old_f1"]),
            render.fmt(r["new_f1"]),
            f"{render.fmt(r['new_f1_trained'])} / {render.fmt(r['new_f1_unseen'])}",
            f"{render.fmt(r['forgetting_mean'])} / {render.fmt(r['forgetting_max'])}",
            f"{render.fmt(r['not_refinement_mean'])} / {render.fmt(r['not_refinement_max'])}",
            render.fmt(r["wall_s"]),
            f"{r['trainable']:,} of {r['total']:,}",
        ]
        for r in rows
    ]
    (out / "depth.md").write_text(render.markdown_table(header, body) + "\n", encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = [r["depth"] for r in rows]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    panels = (
        (
            "F1",
            [
                ("old labels", "old_f1"),
                ("FACILITY", "new_f1"),
                ("FACILITY, en/de/zh (trained)", "new_f1_trained"),
                ("FACILITY, other languages", "new_f1_unseen"),
            ],
        ),
        (
            "forgetting (F1 points)",
            [
                ("plain, mean", "forgetting_mean"),
                ("not refinement, mean", "not_refinement_mean"),
                ("not refinement, worst language", "not_refinement_max"),
            ],
        ),
        ("wall time (s)", [("extension", "wall_s")]),
        ("trainable parameters (millions)", [("trainable", "trainable")]),
    )
    for ax, (label, series) in zip(axes, panels, strict=True):
        for name, key in series:
            scale = 1e-6 if key == "trainable" else 1.0
            ax.plot(depths, [r[key] * scale for r in rows], marker="o", label=name)
        ax.set_xlabel("--freeze-layers")
        ax.set_ylabel(label)
        ax.set_xticks(depths)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=8)
    fig.suptitle(f"{result['scenario']}: how much to freeze (mean over cells)")
    fig.tight_layout()
    fig.savefig(out / "depth.png", dpi=120)
    plt.close(fig)
    print((out / "depth.md").read_text())
    print(f"{out}/depth.md, depth.png", file=sys.stderr)


def main() -> None:
    p = cli.parser(__doc__)
    p.add_argument("--adapt-sentences", type=int, default=0, help="unused here (wikiann→facility's prepare)")
    # --methods freeze0 freeze3 ... picks other depths; no rehearsal method here
    p.set_defaults(methods=[method(d).key for d in DEPTHS], rehearsal_sentences=0)
    scenario = Scenario(
        name="wikiann→facility, freezing depth",
        old_types=wikiann_facility.OLD,
        new_types=[wikiann_facility.NEW],
        parents={wikiann_facility.NEW: ["LOC", "ORG"]},
        methods=[method(d) for d in range(MAX_DEPTH + 1)],
        prepare=wikiann_facility.prepare,
    )
    cli.main(scenario, p, wikiann_facility.QUICK, "runs/bench/freeze-sweep", after=write_depth)


if __name__ == "__main__":
    main()
