from __future__ import annotations

import json

import pytest

from labelgrow.data import language_from_path, load_corpus, read_conll, read_span_json
from labelgrow.errors import DataError, LabelgrowError
from labelgrow.labels import LabelMap


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def test_conll_columns_tabs_docstart_and_language_comments(tmp_path):
    path = write(
        tmp_path / "train.txt",
        "-DOCSTART- -X- O O\n\n# lang = de\nDie\tDET O\nStadt  NN\tB-LOC\n\n"
        "# sent_id = 7\n# O\nzwei O\n\n# lang = en\nPeter B-PER\n",
    )
    sentences = read_conll(path)
    assert [(s.tokens, s.tags, s.lang, s.line) for s in sentences] == [
        (["Die", "Stadt"], ["O", "B-LOC"], "de", 4),
        (["#", "zwei"], ["O", "O"], "de", 8),
        (["Peter"], ["B-PER"], "en", 12),
    ]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("Die O\nStadt\n", 2, "expected 'token TAG' (tag in the last column), got one column: 'Stadt'"),
        ("Die O\nStadt S-LOC\n", 2, "tag 'S-LOC' is not a BIO tag"),
        ("Die O\nStadt B-LOC\n\n\nx y z Q\n", 5, "tag 'Q' is not a BIO tag"),
    ],
)
def test_conll_errors_name_file_and_line(tmp_path, content, line, message):
    path = write(tmp_path / "bad.txt", content)
    with pytest.raises(DataError) as info:
        read_conll(path)
    assert str(info.value).startswith(f"{path}:{line}: {message}")


def test_non_utf8_and_binary_files_are_refused_with_the_line(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("a O\n\nMünchen B-LOC\n".encode("latin-1"))
    with pytest.raises(DataError, match=rf"^{latin}:3: not UTF-8 \(byte 0xfc\)"):
        read_conll(latin)
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"ab O\n\x00\x01\x02")
    with pytest.raises(DataError, match=rf"^{binary}:2: binary file"):
        load_corpus([binary])


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_files_are_errors(tmp_path, content):
    path = write(tmp_path / "empty.txt", content)
    with pytest.raises(DataError, match=rf"^{path}: no sentences"):
        load_corpus([path])


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(LabelgrowError, match=r"nope\.txt: no such file or directory"):
        load_corpus([tmp_path / "nope.txt"])


@pytest.mark.parametrize(
    ("path", "lang"),
    [
        ("data/de/train.txt", "de"),
        ("x/zh-CN/dev.txt", "zh"),
        ("x/train.fr.txt", "fr"),
        ("en.txt", "en"),
        ("x/dev_es.jsonl", "es"),
        ("data/train.txt", None),
        ("my_data.txt", None),
        ("data/dev/test.txt", None),
    ],
)
def test_language_from_path(path, lang):
    from pathlib import Path

    assert language_from_path(Path(path)) == lang


def test_directory_languages_label_map_and_bio_repair(tmp_path, caplog):
    write(tmp_path / "d" / "de" / "train.txt", "Die O\nHalle I-Facility\nin O\nBerlin B-City\n")
    write(tmp_path / "d" / "zh" / "train.txt", "北 B-City\n京 I-City\n站 I-Station\n")
    write(tmp_path / "d" / "label_map.tsv", "not data\n")
    mapping = write(tmp_path / "map.tsv", "Facility\tFACILITY\nStation\tFACILITY\nCity\tLOC\n")
    corpus = load_corpus([tmp_path / "d"], label_map=LabelMap.read(mapping))
    assert [(s.lang, s.tags) for s in corpus.sentences] == [
        ("de", ["O", "B-FACILITY", "O", "B-LOC"]),
        ("zh", ["B-LOC", "I-LOC", "B-FACILITY"]),
    ]
    assert sum(corpus.repaired.values()) == 2
    assert sum(corpus.mapped.values()) == 5
    assert "repaired 1 tag(s) I-X that did not continue" in caplog.text


def test_explicit_lang_overrides_the_path_but_not_comments(tmp_path):
    path = write(tmp_path / "de" / "x.txt", "a O\n\n# lang = fr\nb O\n")
    assert [s.lang for s in read_conll(path, lang="es")] == ["es", "es"]
    assert [s.lang for s in read_conll(path)] == ["de", "fr"]


def test_span_json_cluener_style(tmp_path):
    rows = [
        {"text": "北京城.", "label": {"NT": {"北京城": [[0, 2]]}}},
        {
            "text": "Die Elbphilharmonie in Hamburg",
            "label": {"FAC": {"Elbphilharmonie": [[4, 18]]}, "LOC": {"Hamburg": [[23, 29]]}},
            "lang": "de",
        },
        {"text": "nothing here", "label": {}},
    ]
    path = write(tmp_path / "zh" / "dev.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    sentences = read_span_json(path)
    assert [(s.tokens, s.tags, s.lang) for s in sentences] == [
        (["北", "京", "城", "."], ["B-NT", "I-NT", "I-NT", "O"], "zh"),
        (["Die", "Elbphilharmonie", "in", "Hamburg"], ["O", "B-FAC", "O", "B-LOC"], "de"),
        (["nothing", "here"], ["O", "O"], "zh"),
    ]
    assert sentences[1].offsets[1] == (4, 19)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"text": "北京城", "label": {"LOC": {"上海": [[0, 1]]}}}, "LOC span [0, 1] is '北京' in the text, not '上海'"),
        ({"text": "北京城", "label": {"LOC": {"北京城": [[0, 5]]}}}, "out of range for a text of 3 characters"),
        ({"text": "北京城", "label": {"LOC": {"北京": [[0, 1]]}, "ORG": {"京城": [[1, 2]]}}}, "spans overlap"),
        ({"text": "Hamburger", "label": {"LOC": {"Hamburg": [[0, 6]]}}}, "cuts through the word 'Hamburger'"),
        ({"text": "x"}, 'no "label" field'),
    ],
)
def test_span_json_errors_name_the_line(tmp_path, record, message):
    path = write(tmp_path / "bad.jsonl", '{"text": "ok", "label": {}}\n' + json.dumps(record, ensure_ascii=False))
    with pytest.raises(DataError) as info:
        load_corpus([path])
    assert str(info.value).startswith(f"{path}:2: ")
    assert message in str(info.value)


def test_datasets_dataset_with_class_labels():
    import datasets

    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
            "langs": datasets.Sequence(datasets.Value("string")),
        }
    )
    ds = datasets.Dataset.from_dict(
        {"tokens": [["Ada", "Lovelace", "wrote"]], "ner_tags": [[1, 2, 0]], "langs": [["en", "en", "en"]]},
        features=features,
    )
    corpus = load_corpus([ds])
    assert [(s.tokens, s.tags, s.lang) for s in corpus.sentences] == [
        (["Ada", "Lovelace", "wrote"], ["B-PER", "I-PER", "O"], "en")
    ]
    assert sum(corpus.repaired.values()) == 0


def test_raw_text_words_keep_their_combining_marks():
    """Python's \\w has no combining marks: without them a Hindi or Bengali word, or a decomposed accent, fell apart."""
    from labelgrow.data import tokenize_with_offsets

    assert tokenize_with_offsets("नमस्ते भारत") == (["नमस्ते", "भारत"], [(0, 6), (7, 11)])
    assert tokenize_with_offsets("বাংলাদেশ") == (["বাংলাদেশ"], [(0, 8)])
    assert tokenize_with_offsets("Cafe\u0301 上海!") == (
        ["Cafe\u0301", "上", "海", "!"],
        [(0, 5), (6, 7), (7, 8), (8, 9)],
    )
