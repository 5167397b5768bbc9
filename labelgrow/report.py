"""Rendering scores for people: terminal tables and Markdown."""

from __future__ import annotations

from labelgrow.evaluation import ALL


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def language_rows(report: dict, teacher: dict | None = None) -> list[list[str]]:
    """One row per language (then "all"): sentences, old-label F1, new-label F1, micro F1 (and the teacher's
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
    header = ["lang", "sentences", "old F1", "new F1", "micro F1"]
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
