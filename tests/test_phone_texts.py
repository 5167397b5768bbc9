"""The synthetic phone-number texts: spans that match the text, whole words, every language and format kind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import phone_texts  # noqa: E402

from labelgrow.data import load_corpus  # noqa: E402


def test_every_span_is_its_text_and_labelgrow_reads_every_language(tmp_path):
    paths = [phone_texts.write(tmp_path / f"{lang}.jsonl", lang, 150, 7) for lang in phone_texts.LANGUAGES]
    records = [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()]
    phones = []
    for record in records:
        for kind, surfaces in record["label"].items():
            for surface, ranges in surfaces.items():
                for start, end in ranges:
                    assert record["text"][start : end + 1] == surface, (kind, record)
                    if kind == "PHONE":
                        phones.append(surface)
    # labelgrow reads them all: no span cuts a word (a number glued to Latin letters would)
    corpus = load_corpus(paths)
    assert {s.lang for s in corpus.sentences} == set(phone_texts.LANGUAGES)
    tags = [t for s in corpus.sentences for t in s.tags]
    assert tags.count("B-PHONE") == len(phones)
    # the formats the issue names are all there
    assert any(p.startswith("+") for p in phones) and any("(" in p for p in phones)
    assert any(" " in p for p in phones) and any("-" in p for p in phones)
    assert any(x in p for p in phones for x in ("ext.", "доб.", "转"))
    assert any("电话1" in r["text"] or "Tel:0" in r["text"] or "Tel.+" in r["text"] for r in records)  # glued
    without = [r for r in records if "PHONE" not in r["label"]]
    assert len(without) > 0.1 * len(records) and all(any(c.isdigit() for c in r["text"]) for r in without)


def test_the_same_seed_gives_the_same_texts_and_another_seed_others():
    first = list(phone_texts.generate("de", 20, 1))
    assert first == list(phone_texts.generate("de", 20, 1))
    assert first != list(phone_texts.generate("de", 20, 2))
