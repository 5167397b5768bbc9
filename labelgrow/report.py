"""Rendering scores for people: terminal tables and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

from labelgrow.evaluation import ALL


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def language_rows(report: dict, teacher: dict | None = None) -> list[list[str]]:
    """One row per language (then "all"): sentences, old-label F1, new-label F1, micro F1 over the annotated types
    ("-" where the gold has no entity of a group), and, given a teacher report, the teacher's
    old-label F1 and the forgetting when a teacher report is given)."""
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
        rows.append(row)
    return rows


def language_header(with_teacher: bool) -> list[str]:
    header = ["lang", "sentences", "old F1", "new F1", "all F1"]
    return [*header, "teacher old F1", "forgetting"] if with_teacher else header


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


def language_table(report: dict, teacher: dict | None = None) -> str:
    return text_table(language_header(teacher is not None), language_rows(report, teacher))


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
    lines = [f"# labelgrow evaluation of `{report['model']}`", ""]
    lines += [
        f"- data: {report['data']['sentences']} sentences from {len(report['data']['files'])} file(s); "
        f"languages {', '.join(report['data']['languages'])}",
        f"- scoring: seqeval entity level, `{report['mode']}` mode; F1 in points (0-100)",
        f"- old labels: {', '.join(report['old_types']) or '-'}; new labels: {', '.join(report['new_types']) or '-'}",
    ]
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
        markdown_table(language_header(teacher is not None), language_rows(report["scores"], teacher)),
    ]
    lines += ["", "## Per language and label", "", markdown_table(LABEL_HEADER, label_rows(report)), ""]
    lines += ["![per-language F1: old and new labels, model and teacher](report.png)", ""]
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    """Grouped bars per language: old-label F1 (teacher, model) and new-label F1 (model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores, teacher = report["scores"], report.get("teacher_scores")
    langs = [*scores["languages"], ALL]

    def block(r: dict, lang: str) -> dict | None:
        return r["overall"] if lang == ALL else r["languages"].get(lang)

    series = []
    if teacher:
        series.append(
            (
                "old labels, teacher",
                [block(teacher, lang)["old"]["f1"] if block(teacher, lang) else 0 for lang in langs],
                "#9e9e9e",
            )
        )
    series.append(("old labels, model", [block(scores, lang)["old"]["f1"] for lang in langs], "#1f77b4"))
    if report["new_types"]:
        series.append(
            (
                f"new labels ({', '.join(report['new_types'])}), model",
                [block(scores, lang)["new"]["f1"] for lang in langs],
                "#ff7f0e",
            )
        )
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(langs) + 2), 4.2))
    for k, (name, values, color) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(langs))]
        bars = ax.bar(xs, values, width, label=name, color=color)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_ylim(0, 105)
    ax.set_ylabel("entity F1 (points)")
    ax.set_title(f"{Path(report['model']).name}: per-language F1", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(series), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(report: dict, directory: Path) -> None:
    """report.json (stable keys, see docs/usage.md), report.md and report.png in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "report.md").write_text(markdown_report(report), encoding="utf-8")
    plot(report, directory / "report.png")
