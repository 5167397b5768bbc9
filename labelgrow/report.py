"""Rendering scores for people: terminal tables and Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labelgrow.metrics import ALL, CHANGES, change_totals, not_kept


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def language_rows(report: dict, teacher: dict | None = None, parent: dict | None = None) -> list[list[str]]:
    """One row per language (then "all"): sentences, old-label F1, new-label F1, micro F1 over the annotated types
    ("-" where the gold has no entity of a group), and, given a teacher report, the teacher's old-label F1 and the
    forgetting; given ``parent`` (the scores with refinements into a --parent type counted as kept), that forgetting
    too."""
    rows = []
    blocks = {**report["languages"], ALL: report["overall"]}
    for lang, block in blocks.items():
        row = [
            lang,
            str(block["sentences"]),
            _fmt(block["old"]["f1"] if block["old"]["support"] else None),
            _fmt(block["new"]["f1"] if block["new"]["support"] else None),
            _fmt(block["micro"]["f1"]),
        ]
        if teacher is not None:
            t_block = teacher["overall"] if lang == ALL else teacher["languages"].get(lang)
            t_old = t_block["old"]["f1"] if t_block and t_block["old"]["support"] else None
            row += [_fmt(t_old), _fmt(None if t_old is None else t_old - block["old"]["f1"])]
            if parent is not None:
                p_block = parent["overall"] if lang == ALL else parent["languages"][lang]
                row.append(_fmt(None if t_old is None else t_old - p_block["old"]["f1"]))
        rows.append(row)
    return rows


def language_header(with_teacher: bool, with_parents: bool = False) -> list[str]:
    header = ["lang", "sentences", "old F1", "new F1", "all F1"]
    if not with_teacher:
        return header
    return [*header, "teacher old F1", "forgetting", *(["not refinement"] if with_parents else [])]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """A fixed-width table for the terminal."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def language_table(report: dict, teacher: dict | None = None, parent: dict | None = None) -> str:
    return text_table(language_header(teacher is not None, parent is not None), language_rows(report, teacher, parent))


def change_rows(changes: dict) -> list[list[str]]:
    """language x old label rows of the change report: the teacher's entities and what the model made of them; with
    the teacher's probabilities, how many of them were its near-ties and how many of those the model did not keep
    (lost, confused or re-bounded)."""
    rows = []
    blocks = {**changes["languages"], ALL: changes["overall"]}
    unsure = changes.get("teacher_unsure")
    unsure_blocks = {**unsure["languages"], ALL: unsure["overall"]} if unsure else {}
    for lang, block in blocks.items():
        for type_, counts in [*sorted(block.items()), ("(all)", change_totals(block, changes["changes"]))]:
            if type_ == "(all)" and len(block) < 2:
                continue
            followed = sum(counts[c] for c in CHANGES)
            row = [lang, type_, str(followed), *(str(counts[c]) for c in changes["changes"])]
            if unsure:
                near = unsure_blocks.get(lang, {})
                near = change_totals(near, changes["changes"]) if type_ == "(all)" else near.get(type_, {})
                row += [str(sum(near.get(c, 0) for c in CHANGES)), str(not_kept(near))]
            rows.append(row)
    return rows


def change_header(changes: dict) -> list[str]:
    header = ["lang", "label", "teacher's", *changes["changes"]]
    if changes.get("teacher_unsure"):
        below = changes["teacher_unsure"]["below"]
        header += [f"teacher unsure (p<{below:g})", "of them not kept"]
    return header


def change_table(changes: dict) -> str:
    return text_table(change_header(changes), change_rows(changes))


def example_lines(changes: dict, per_change: int = 2, markdown: bool = False) -> list[str]:
    """A few examples of each change (not ``kept``), each with its source file and line."""
    lines = []
    for change, found in changes["examples"].items():
        for example in found[:per_change]:
            entity = f"`{example['entity']}`" if markdown else repr(example["entity"])
            became = example["model"] + (
                f" ({example['model_entity']})" if example["model_entity"] not in ("", example["entity"]) else ""
            )
            sure = f" (teacher p {example['teacher_probability']:.2f})" if "teacher_probability" in example else ""
            lines.append(
                f"{'- ' if markdown else '  '}{change}: {entity} {example['teacher']}{sure} -> {became}"
                f"  [{example['lang']}, {example['source']}]"
            )
    return lines


def verdict(report: dict) -> list[str]:
    """Three lines a reader takes in at a glance: what was learned, what was forgotten, where."""
    scores, lines = report["scores"], []
    overall = scores["overall"]
    if report["new_types"]:
        per_type = ", ".join(
            f"{t} {overall['labels'][t]['f1']:.1f}" for t in report["new_types"] if t in overall["labels"]
        )
        lines.append(f"Learned: {per_type or 'no new-type entity in the gold'} (F1 over all languages).")
    forgot = report.get("forgetting")
    if forgot:
        plain = forgot[ALL]["old"]
        parent = report.get("parent_forgetting", {}).get(ALL, {}).get("old")
        extra = f"; {parent:.1f} of it not refinement into a --parent type" if parent is not None else ""
        lines.append(f"Forgotten: {plain:.1f} F1 points on the old labels over all languages{extra}.")
        worst = [
            (points, lang, type_)
            for lang, block in (report.get("parent_forgetting") or forgot).items()
            if lang != ALL
            for type_, points in block["labels"].items()
        ]
        worst.sort(reverse=True)
        if worst and worst[0][0] > 0:
            lines.append("Where: " + ", ".join(f"{t} in {lang} -{p:.1f}" for p, lang, t in worst[:3] if p > 0) + ".")
        else:
            lines.append("Where: no old label lost F1 in any language.")
    near_ties = near_tie_line(report.get("changes"))
    if near_ties:
        lines.append(near_ties)
    return lines


def near_tie_line(changes: dict | None) -> str | None:
    """How many of the old entities the model did not keep (lost, confused, re-bounded) were near-ties of the
    teacher's: those a student may tip either way, against those the teacher was sure of."""
    if not changes or not changes.get("teacher_unsure"):
        return None
    unsure = changes["teacher_unsure"]
    changed = not_kept(change_totals(changes["overall"], changes["changes"]))
    near = not_kept(change_totals(unsure["overall"], changes["changes"]))
    return (
        f"Not kept (lost, confused, other boundary): {changed} of the teacher's entities, {near} of them where the "
        f"teacher itself was unsure (its tag's probability below {unsure['below']:g} on some word)."
    )


def label_rows(report: dict) -> list[list[str]]:
    """language x label rows: precision, recall, F1, support, and whether the label is old or new."""
    rows = []
    scores = report["scores"]
    blocks = {**scores["languages"], ALL: scores["overall"]}
    new = set(report["new_types"])
    forgetting = report.get("forgetting", {})
    for lang, block in blocks.items():
        for type_, s in block["labels"].items():
            forgot = forgetting.get(lang, {}).get("labels", {}).get(type_)
            rows.append(
                [
                    lang,
                    type_,
                    "new" if type_ in new else "old",
                    _fmt(s["precision"]),
                    _fmt(s["recall"]),
                    _fmt(s["f1"]),
                    str(s["support"]),
                    _fmt(forgot),
                ]
            )
    return rows


LABEL_HEADER = ["lang", "label", "group", "precision", "recall", "F1", "support", "forgetting"]


def markdown_report(report: dict) -> str:
    teacher = report.get("teacher_scores")
    parent = report.get("parent_scores")
    lines = [f"# labelgrow evaluation of `{report['model']}`", "", *verdict(report), ""]
    lines += [
        f"- data: {report['data']['sentences']} sentences from {len(report['data']['files'])} file(s); "
        f"languages {', '.join(report['data']['languages'])}",
        f"- scoring: seqeval entity level, `{report['mode']}` mode; F1 in points (0-100)",
        f"- old labels: {', '.join(report['old_types']) or '-'}; new labels: {', '.join(report['new_types']) or '-'}",
    ]
    if report.get("parents"):
        refines = "; ".join(f"{k} refines {', '.join(v)}" for k, v in report["parents"].items())
        lines.append(f'- --parent: {refines} ("not refinement" counts such an entity as kept)')
    if report["data"]["unknown_tags_scored_as_o"]:
        lines.append(f"- {report['data']['unknown_tags_scored_as_o']} gold tag(s) unknown to the model scored as O")
    if report["data"]["label_map_changes"]:
        lines.append(f"- --label-map changed {report['data']['label_map_changes']} gold tag(s)")
    if teacher:
        lines.append(f"- teacher: `{report['teacher']}`. {report['teacher_note']}")
    lines += [
        "",
        "## Per language",
        "",
        markdown_table(
            language_header(teacher is not None, parent is not None), language_rows(report["scores"], teacher, parent)
        ),
    ]
    lines += ["", "## Per language and label", "", markdown_table(LABEL_HEADER, label_rows(report)), ""]
    changes = report.get("changes")
    if changes:
        lines += [
            "## What became of the old entities",
            "",
            f"Followed: {changes['reference']}. *refined*: now a new type; *lost*: now O; *confused*: another old "
            "type; *boundary*: same type, other span; *gained*: a gold entity the teacher missed, found."
            + (
                f" *teacher unsure*: on some word of the entity the teacher's own tag had a probability below "
                f"{changes['teacher_unsure']['below']:g} (a near-tie); *of them not kept*: lost, confused or "
                "other boundary."
                if changes.get("teacher_unsure")
                else ""
            ),
            "",
            markdown_table(change_header(changes), change_rows(changes)),
            "",
            *example_lines(changes, per_change=5, markdown=True),
            "",
        ]
    lines += ["![F1 per language and label: teacher and model for each old label, then the new labels](report.png)", ""]
    return "\n".join(lines)


CHANGE_COLORS = {
    "kept": "#4c9a4c",
    "refined": "#f0a030",
    "lost": "#d62728",
    "confused": "#9467bd",
    "boundary": "#8c564b",
}


def plot(report: dict, path: Path) -> None:
    """Per language (then all), one bar per old label for the teacher (hatched) and the model, then each new label:
    a type the model lost stands out at a glance, which a per-language mean hides. With a teacher, a second panel
    stacks what became of the teacher's correct old entities (kept, refined, lost, confused, boundary)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores, teacher, changes = report["scores"], report.get("teacher_scores"), report.get("changes")
    langs = [*scores["languages"], ALL]
    palette = plt.get_cmap("tab10").colors

    def f1(r: dict | None, lang: str, type_: str) -> float:
        block = None if r is None else (r["overall"] if lang == ALL else r["languages"].get(lang))
        return block["labels"].get(type_, {}).get("f1", 0.0) if block else 0.0

    series = []  # (legend, values, color, alpha, hatch)
    for k, type_ in enumerate(report["old_types"]):
        color = palette[k % len(palette)]
        if teacher:
            series.append((f"{type_} teacher", [f1(teacher, x, type_) for x in langs], color, 0.35, "//"))
        series.append((f"{type_} model", [f1(scores, x, type_) for x in langs], color, 1.0, None))
    for k, type_ in enumerate(report["new_types"], len(report["old_types"])):
        series.append((f"{type_} (new)", [f1(scores, x, type_) for x in langs], palette[k % len(palette)], 1.0, ".."))
    width = 0.85 / max(len(series), 1)
    wide = max(7.0, (0.28 * len(series) + 0.5) * len(langs) + 2)
    if changes:
        fig, (ax, bottom) = plt.subplots(2, 1, figsize=(wide, 8.4), gridspec_kw={"height_ratios": [1.6, 1]})
    else:
        fig, ax = plt.subplots(figsize=(wide, 4.6))
    for k, (name, values, color, alpha, hatch) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(langs))]
        bars = ax.bar(xs, values, width, label=name, color=color, alpha=alpha, hatch=hatch, edgecolor="white")
        ax.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_ylim(0, 108)
    ax.set_ylabel("entity F1 (points)")
    ax.set_title(f"{Path(report['model']).name}: F1 per language and label", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(len(series), 6), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    if changes:
        rows = [(lang, type_) for lang in langs for type_ in report["old_types"]]
        blocks = {**changes["languages"], ALL: changes["overall"]}
        left = [0.0] * len(rows)
        for change in CHANGES:
            counts = [blocks.get(lang, {}).get(type_, {}).get(change, 0) for lang, type_ in rows]
            totals = [sum(blocks.get(lang, {}).get(type_, {}).get(c, 0) for c in CHANGES) for lang, type_ in rows]
            shares = [100.0 * n / t if t else 0.0 for n, t in zip(counts, totals, strict=True)]
            bottom.bar(range(len(rows)), shares, 0.8, bottom=left, label=change, color=CHANGE_COLORS[change])
            left = [a + b for a, b in zip(left, shares, strict=True)]
        bottom.set_xticks(range(len(rows)), [f"{t}\n{lang}" for lang, t in rows], fontsize=6)
        bottom.set_ylim(0, 100)
        bottom.set_ylabel("% of the teacher's correct entities")
        bottom.set_title("what became of the old entities", fontsize=9)
        bottom.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(report: dict, directory: Path) -> None:
    """report.json (stable keys, see docs/usage.md), report.md and report.png in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "report.md").write_text(markdown_report(report), encoding="utf-8")
    plot(report, directory / "report.png")


def diff_markdown(report: dict) -> str:
    """diff.md: what the grown model did with the teacher's old-type entities on text without gold."""
    changes = report["changes"]
    return "\n".join(
        [
            f"# labelgrow diff: `{report['model']}` against `{report['teacher']}`",
            "",
            f"- data: {report['data']['sentences']} texts from {len(report['data']['files'])} file(s); "
            f"languages {', '.join(report['data']['languages'])}",
            f"- followed: {changes['reference']}; *added*: a model old-type entity overlapping none of the teacher's",
            *([f"- {line}"] if (line := near_tie_line(changes)) else []),
            "",
            markdown_table(change_header(changes), change_rows(changes)),
            "",
            *example_lines(changes, per_change=10, markdown=True),
            "",
        ]
    )


def side_by_side_table(
    models: dict[str, dict[str, Any]],
    reference: str,
    before: list[tuple[str, Callable[[dict], str]]] = (),
    after: list[tuple[str, Callable[[dict], str]]] = (),
    name: str = "model",
) -> str:
    """Models measured on the same data (``evaluation.measure_models``, plus ``megabytes`` and a ``drop`` against
    ``reference``), one row per model and language: old/new F1, the drop, the ``before`` columns, MB, words/s
    (and relative to the reference), the ``after`` columns. ``export`` and ``compress`` print it."""

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    rows = []
    base_speed = max(models[reference]["words_per_second"], 1e-9)
    for key, model in models.items():
        speed = f"{model['words_per_second']:.0f} ({model['words_per_second'] / base_speed:.2f}x)"
        for lang, f1 in model["f1"].items():
            drop = model.get("drop", {}).get(lang, {})
            rows.append(
                [key, lang, fmt(f1["old"]), fmt(f1["new"]), fmt(drop.get("old")), fmt(drop.get("new"))]
                + [column(model) for _, column in before]
                + [fmt(model["megabytes"]), speed]
                + [column(model) for _, column in after]
            )
    header = [name, "lang", "old F1", "new F1", "old drop", "new drop", *(h for h, _ in before), "MB", "words/s"]
    return text_table([*header, *(h for h, _ in after)], rows)
