"""Results for people: the grid's cells, each method's spread over the cells (mean, min-max), per-language tables,
and one figure (the trade-off per cell, and old-label F1 per language)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.scoring import mean
from labelgrow.metrics import not_kept
from labelgrow.report import markdown_table


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def spread(values: Sequence[float]) -> str:
    """``mean (min-max)`` over the cells; just the value for one cell."""
    if not values:
        return "-"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(mean(values))} ({fmt(min(values))}–{fmt(max(values))})"


def ratio(cost: Mapping | None, reference: Mapping | None, key: str) -> str:
    return f"{cost[key] / reference[key]:.2f}x" if cost and reference and reference.get(key) else "-"


def cell_name(row: Mapping[str, Any]) -> str:
    return f"t{row['teacher_seed']}/s{row['seed']}"


SUMMARY_HEADER = [
    "method",
    "cells",
    "old F1",
    "forgetting mean",
    "forgetting max",
    "not refinement mean",
    "not refinement max",
    "new F1",
    "% of joint",
    "refined / lost / confused / boundary",
    "not kept: teacher near-ties",
]


def summary_rows(rows: Sequence[Mapping], methods: Sequence[str], bound: float | None, decode: str = "bio"):
    """One row per method: each figure as mean (min–max) over the cells it ran on."""
    out = []
    for name in methods:
        cells = [r if decode == "bio" else r["argmax"] for r in rows if r["method"] == name]
        if not cells:
            continue

        def values(key: str, cells: list = cells) -> list[float]:
            return [c[key] for c in cells if c.get(key) is not None]

        new = values("new_f1_mean")
        changes = [c["changes"] for c in cells if "changes" in c]
        counts = " / ".join(
            fmt(mean([c[k] for c in changes])) if changes else "-" for k in ("refined", "lost", "confused", "boundary")
        )
        near = [c for c in cells if "near_ties" in c]
        ties = "-"
        if near:
            ties = f"{fmt(mean([not_kept(c['near_ties']) for c in near]))} of "
            ties += fmt(mean([not_kept(c["changes"]) for c in near]))
        out.append(
            [
                name,
                str(len(cells)),
                spread(values("old_f1_mean")),
                spread(values("forgetting_mean")),
                spread(values("forgetting_max")),
                spread(values("not_refinement_mean")),
                spread(values("not_refinement_max")),
                spread(new),
                spread([100 * v / bound for v in new]) if bound and new else "-",
                counts,
                ties,
            ]
        )
    return out


def cell_rows(rows: Sequence[Mapping], naive_cost: Mapping[tuple, Mapping]) -> list[list[str]]:
    """Every run: its cell, figures and cost against naive fine-tuning in the same cell."""
    out = []
    for r in rows:
        cost = r.get("cost")
        out.append(
            [
                r["method"],
                cell_name(r),
                fmt(r["old_f1_mean"]),
                f"{fmt(r.get('forgetting_mean'))} / {fmt(r.get('forgetting_max'))}",
                f"{fmt(r.get('not_refinement_mean'))} / {fmt(r.get('not_refinement_max'))}",
                fmt(r.get("new_f1_mean")),
                f"{not_kept(r['changes'])} ({not_kept(r['near_ties'])})" if "near_ties" in r else "-",
                f"{fmt(r['argmax'].get('forgetting_mean'))} / {fmt(r['argmax'].get('forgetting_max'))}",
                fmt(cost["wall_s"]) if cost else "-",
                ratio(cost, naive_cost.get(r["teacher_seed"]), "wall_s"),
                ratio(cost, naive_cost.get(r["teacher_seed"]), "peak_rss_mb"),
            ]
        )
    return out


CELL_HEADER = [
    "method",
    "cell",
    "old F1",
    "forgetting mean / max",
    "not refinement mean / max",
    "new F1",
    "not kept (teacher near-ties)",
    "argmax: forgetting mean / max",
    "wall s",
    "time vs naive",
    "memory vs naive",
]


def language_table(key: str, langs: Sequence[str], rows: Sequence[Mapping], methods: Sequence[str]) -> str:
    """``row[key][lang]`` per method and language, averaged over the method's cells."""
    body = []
    for name in methods:
        cells = [r for r in rows if r["method"] == name and key in r]
        if cells:
            body.append([name, *(fmt(mean([c[key].get(lang, 0.0) for c in cells])) for lang in langs)])
    return markdown_table(["method", *langs], body)


def method_colors(rows: Sequence[Mapping], methods: Sequence[str]) -> dict[str, tuple]:
    """One tab10 colour per method that has rows, in ``methods``' order: both panels of the figure use it (its one
    legend is the bar chart's), so a method without rows shifts no colour."""
    from matplotlib import colormaps

    present = [name for name in methods if any(r["method"] == name for r in rows)]
    return {name: colormaps["tab10"].colors[k % 10] for k, name in enumerate(present)}


FORGETTING_AXIS_LIMIT = 5.0  # F1 points; the targets are 0.5 (mean) and 1.5 (worst language)


def carried_panel(ax, rows, teachers, present, carried, color) -> None:
    """Old types that only the new-type set annotates (a type an earlier round added, the parent of a carved type):
    F1 there, mean over languages, for the teacher and each method; the whisker spans the method's cells."""

    def per_cell(cells: Sequence[Mapping], kind: str) -> list[float]:
        return [mean(list(c["carried_f1"][kind].values())) for c in cells if kind in (c.get("carried_f1") or {})]

    series = [("teacher", teachers), *[(name, [r for r in rows if r["method"] == name]) for name in present]]
    width = 0.85 / len(series)
    for k, (name, cells) in enumerate(series):
        for i, kind in enumerate(carried):
            values = per_cell(cells, kind)
            if not values:
                continue
            x = i + (k - (len(series) - 1) / 2) * width
            low, high = mean(values) - min(values), max(values) - mean(values)
            ax.bar(x, mean(values), width, color=color.get(name, "#9e9e9e"), yerr=[[low], [high]], capsize=2)
    ax.set_xticks(range(len(carried)), carried)
    ax.set_ylabel("F1 on the new-type set (points, mean over languages)")
    ax.set_title("old types scored where their gold is", fontsize=9)
    ax.grid(axis="y", alpha=0.3)


def figure(rows: Sequence[Mapping], teachers: Sequence[Mapping], methods: Sequence[str], langs, path: Path) -> None:
    """Left: each cell as a point, forgetting that is not refinement against new-type F1 (up and left is better);
    a cell beyond ``FORGETTING_AXIS_LIMIT`` (naive fine-tuning) at the axis edge with its value, so that it does not
    squash the rest; a method without a teacher (the joint bound) as a dashed line at its new-type F1, 95 % of it
    dotted. Middle:
    old-label F1 per language, teacher and each method, averaged over cells. Right, where the scenario carries old
    types scored on the new-type set (``carried_f1``): their F1 there (``carried_panel``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    carried = sorted({t for r in [*teachers, *rows] for t in r.get("carried_f1") or {}})
    ratios = [1, 1.4, 0.5 * len(carried)] if carried else [1, 1.4]
    fig, axes = plt.subplots(1, len(ratios), figsize=(15 + 3 * len(carried), 5.5), gridspec_kw={"width_ratios": ratios})
    left, right = axes[0], axes[1]
    color = method_colors(rows, methods)
    present = list(color)
    clipped = False
    for name in present:
        cells = [r for r in rows if r["method"] == name and "not_refinement_mean" in r and "new_f1_mean" in r]
        if cells:
            xs = [c["not_refinement_mean"] for c in cells]
            ys = [c["new_f1_mean"] for c in cells]
            edge = [x > FORGETTING_AXIS_LIMIT for x in xs]
            shown = [(x, y) for x, y, far in zip(xs, ys, edge, strict=True) if not far]
            if shown:
                left.scatter(*zip(*shown, strict=True), color=color[name], label=name, s=30, alpha=0.85)
            for x, y, far in zip(xs, ys, edge, strict=True):
                if far:  # a cell that forgot (nearly) everything: at the axis edge, its value written beside it
                    clipped = True
                    left.scatter([FORGETTING_AXIS_LIMIT], [y], color=color[name], marker=">", s=45)
                    left.annotate(
                        f"{x:.0f}",
                        (FORGETTING_AXIS_LIMIT, y),
                        xytext=(-6, 5),
                        textcoords="offset points",
                        ha="right",
                        fontsize=7,
                        color=color[name],
                    )
        bounds = [
            r["new_f1_mean"]
            for r in rows
            if r["method"] == name and "new_f1_mean" in r and "not_refinement_mean" not in r
        ]
        if bounds:  # no teacher, no forgetting (the joint bound): a line at its new-type F1, 95 % of it dotted
            bound = mean(bounds)
            left.axhline(bound, color=color[name], linestyle="--", linewidth=1)
            left.axhline(0.95 * bound, color=color[name], linestyle=":", linewidth=1)
    left.axvline(0.5, color="grey", linestyle=":", linewidth=1)
    xlabel = "old-label forgetting that is not refinement (F1 points, mean over languages)"
    if clipped:  # naive fine-tuning's ~70 points would squash every other cell against zero
        left.set_xlim(right=FORGETTING_AXIS_LIMIT + 0.3)
        xlabel += f"\n▸ a cell beyond {FORGETTING_AXIS_LIMIT:.0f}: drawn at the edge, its value beside it"
    left.set_xlabel(xlabel)
    left.set_ylabel("new-type F1 (mean over languages)")
    left.set_title("each point: one (teacher seed, seed) cell", fontsize=9)
    left.grid(alpha=0.3)
    series = [("teacher", [mean([t["old_f1"].get(x, 0.0) for t in teachers]) for x in langs])]
    for name in present:
        cells = [r for r in rows if r["method"] == name]
        series.append((name, [mean([c["old_f1"].get(x, 0.0) for c in cells]) for x in langs]))
    width = 0.85 / len(series)
    for k, (name, values) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(langs))]
        right.bar(xs, values, width, label=name, color=color.get(name, "#9e9e9e"))
    right.set_xticks(range(len(langs)), langs)
    right.set_ylim(0, 100)
    right.set_ylabel("old-label F1 (points)")
    right.set_title("old labels per language (mean over cells)", fontsize=9)
    right.grid(axis="y", alpha=0.3)
    if carried:
        carried_panel(axes[2], rows, teachers, present, carried, color)
    handles, labels = right.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, ncol=4, loc="lower center", frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
