"""Scenario "phone numbers" (issue 10, scenario 2): a pattern-like new type in short multilingual texts, SYNTHETIC.

1. Teacher: the wikiann→facility teacher (PER/ORG/LOC from WikiANN en/de/zh; recipes/benchmarks/phone-numbers.yaml
   names it with --teacher), or one built here from the same WikiANN subsets with --teacher-seeds.
2. New data: benchmarks/phone_texts.py's generated texts (delivery notes, contact lines; national formats with +,
   spaces, dashes, brackets, extensions; numbers glued to the word before them; distractor numbers that are not
   phones) in en, de, zh, ru. Only PHONE is annotated: the people, couriers and places in them are O (the
   background shift). The fully annotated copy (PER/ORG/LOC too) is the "full" method's and the joint bound's;
   method "rehearsal-all" adds raw WikiANN text of every scored language (--rehearsal-sentences each, tags dropped).
3. Scores: old-label F1 on WikiANN test (en de zh es fr ru) against the teacher; PHONE F1 on generated test texts
   of eight languages (other seeds; fr, es, ar, hi never seen in training); and, through `labelgrow.predict` on
   the raw test texts, whether each phone number comes back whole with its exact character offsets (the
   "scenario checks" table: span F1 on characters, and the share of numbers with inner spaces or punctuation
   returned exactly). Also how many sub-words the tokenizer makes of a number.

Usage:
    python benchmarks/phone_numbers.py --config recipes/benchmarks/phone-numbers.yaml [--quick]
Writes OUT/results.json, OUT/results.md and OUT/results.png (OUT: runs/bench/phone-numbers).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import phone_texts
from harness import cli
from harness.corpora import RETENTION_LANGS, WIKIANN_TRAIN_LANGS
from harness.data import wikiann_retention, wikiann_teacher_data, write_map
from harness.protocol import DEFAULT, FULL_DATA, NAIVE, REHEARSAL_ALL, THIRD, Scenario

OLD = ["PER", "ORG", "LOC"]
NEW = "PHONE"
TRAIN_LANGS = ["en", "de", "zh", "ru"]
NEW_LANGS = list(phone_texts.LANGUAGES)
QUICK = {**cli.QUICK, "new_sentences": 60}
# rehearsal on every seed: the texts are short and of another domain than Wikipedia, so distilling the teacher on
# them alone says little about the sentences the old labels are scored on (as on the addresses)
METHODS = [NAIVE, DEFAULT, THIRD, replace(REHEARSAL_ALL, cells="grid"), FULL_DATA]


def prepare(args, out: Path) -> dict[str, Any]:
    shared = Path(args.shared) / "datasets"
    data = out / "data"
    files: dict[str, Any] = {
        "teacher": wikiann_teacher_data(shared, out, WIKIANN_TRAIN_LANGS, args.teacher_sentences),
        "retention": wikiann_retention(shared, out, RETENTION_LANGS, args.eval_sentences),
        "new": [phone_texts.write(data / "new" / f"{lang}.jsonl", lang, args.new_sentences, 1) for lang in TRAIN_LANGS],
        "new_eval": [
            phone_texts.write(data / "new-eval" / f"{lang}.jsonl", lang, args.new_eval_sentences, 2)
            for lang in NEW_LANGS
        ],
    }
    types = {NEW, *OLD}
    files["new_map"] = files["new_eval_map"] = write_map(data / "phone-only.tsv", {NEW: NEW}, types)
    files["full_map"] = write_map(data / "full.tsv", {t: t for t in types}, types)
    return files


def joint(args, out: Path, files: dict[str, Any]) -> dict[str, Any]:
    """The bound: one model from the encoder on the teacher's data plus the fully annotated phone texts."""
    return {
        "base": args.encoder,
        "new_labels": [*OLD, NEW],
        "train": [str(p) for p in files["teacher"] + files["new"]],
        "label_map": str(files["full_map"]),
    }


def gold_phones(path: Path) -> list[tuple[str, list[tuple[int, int]]]]:
    """(text, PHONE character spans, end exclusive) of every generated test text."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        spans = [(s, e + 1) for ranges in record["label"].get(NEW, {}).values() for s, e in ranges]
        out.append((record["text"], sorted(spans)))
    return out


def span_check(model_dir: str, files: dict[str, Any]) -> dict[str, float]:
    """Run ``labelgrow.predict`` on the raw test texts and compare PHONE character spans with the generator's:
    exact-span precision/recall/F1 and the share of numbers with inner spaces or punctuation returned whole."""
    import labelgrow
    from labelgrow.modeling import load_config, load_tokenizer

    gold = [item for path in files["new_eval"] for item in gold_phones(Path(path))]
    rows = labelgrow.predict(model=model_dir, texts=[text for text, _ in gold])
    tp = predicted = expected = inner = inner_whole = 0
    for (text, spans), row in zip(gold, rows, strict=True):
        found = {(e["start"], e["end"]) for e in row["entities"] if e["type"] == NEW}
        predicted += len(found)
        expected += len(spans)
        tp += len(found & set(spans))
        for start, end in spans:
            if any(not c.isdigit() for c in text[start:end].lstrip("+")):
                inner += 1
                inner_whole += (start, end) in found
    precision, recall = tp / max(predicted, 1), tp / max(expected, 1)
    tokenizer = load_tokenizer(model_dir, load_config(model_dir))
    pieces = [len(tokenizer.tokenize(text[s:e])) for text, spans in gold for s, e in spans]
    return {
        "exact span P": 100 * precision,
        "exact span R": 100 * recall,
        "exact span F1": 200 * precision * recall / max(precision + recall, 1e-9),
        "inner space/punct. whole %": 100 * inner_whole / max(inner, 1),
        "sub-words per number": sum(pieces) / max(len(pieces), 1),
    }


def main() -> None:
    p = cli.parser(__doc__)
    p.set_defaults(new_sentences=400, new_eval_sentences=200)  # generated texts per language
    scenario = Scenario(
        name="phone numbers",
        old_types=OLD,
        new_types=[NEW],
        parents={},
        methods=METHODS,
        prepare=prepare,
        joint=joint,
        new_langs=NEW_LANGS,
        extra=span_check,
    )
    cli.main(scenario, p, QUICK, "runs/bench/phone-numbers")


if __name__ == "__main__":
    main()
