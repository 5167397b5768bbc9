"""`labelgrow annotate` and the tools' formats: pre-annotate -> (a person edits the export) -> read back -> extend,
on lexicon models whose predictions are known exactly; exact offsets with Chinese, emoji and combining marks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelgrow.annotating import annotate
from labelgrow.data import load_corpus
from labelgrow.errors import DataError, LabelgrowError
from tests.helpers import run_cli
from tests.tiny_models import OLD_LABELS, build_lexicon_model, build_lexicon_tokenizer

NEW_LABELS = [*OLD_LABELS, "B-FACILITY", "I-FACILITY"]
TEACHER = {"Angela": "B-PER", "Merkel": "I-PER", "Hamburg": "B-LOC", "Heathrow": "B-LOC", "上": "B-LOC", "海": "I-LOC"}
GROWN = {
    "Angela": "B-PER",
    "Merkel": "I-PER",
    "Hamburg": "B-LOC",
    "Heathrow": "B-FACILITY",
    "Airport": "I-FACILITY",
    "上": "B-LOC",
    "海": "I-LOC",
    "站": "B-FACILITY",
}
TEXTS = [
    "Angela Merkel 👋🏽 flew from Heathrow Airport .",  # emoji (two code points) before the entities
    "Cafe\u0301 Müller is in Hamburg .",  # a combining accent (its own code point)
    "我们在上海站见面。",  # Chinese: one word per character
    "nothing to see here",
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("annotate")
    tokenizer = build_lexicon_tokenizer(root / "tokenizer", sorted({*TEACHER, *GROWN}))
    build_lexicon_model(root / "teacher", tokenizer, TEACHER, OLD_LABELS)
    # the grown model is unsure of "Hamburg" (and so of the second text)
    build_lexicon_model(root / "grown", tokenizer, GROWN, NEW_LABELS, doubt={"Hamburg": 0.9})
    return root


@pytest.fixture
def texts(tmp_path) -> Path:
    path = tmp_path / "raw.jsonl"
    langs = ["en", "de", "zh", "en"]
    path.write_text("".join(json.dumps({"text": t, "lang": lang}) + "\n" for t, lang in zip(TEXTS, langs, strict=True)))
    return path


def spans_of(task: dict) -> list[tuple[str, str, int, int]]:
    result = task["predictions"][0]["result"]
    return [(r["value"]["labels"][0], r["value"]["text"], r["value"]["start"], r["value"]["end"]) for r in result]


def test_label_studio_tasks_carry_old_and_new_entities_at_exact_offsets(models, texts, tmp_path):
    result = annotate(
        model=str(models / "grown"), teacher=str(models / "teacher"), input=[str(texts)], output=str(tmp_path / "tasks")
    )
    tasks = json.loads((tmp_path / "tasks" / "tasks.json").read_text())
    assert [t["data"]["text"] for t in tasks] == TEXTS and [t["data"]["lang"] for t in tasks] == [
        "en",
        "de",
        "zh",
        "en",
    ]
    first, second, third, fourth = (spans_of(t) for t in tasks)
    emoji_shift = len("👋🏽")  # 2 code points
    assert emoji_shift == 2
    assert first == [("PER", "Angela Merkel", 0, 13), ("FACILITY", "Heathrow Airport", 27, 43)]  # new type wins
    assert second == [("LOC", "Hamburg", 19, 26)]  # after "Cafe" + U+0301: offsets count code points
    assert third == [("LOC", "上海", 3, 5), ("FACILITY", "站", 5, 6)]
    assert fourth == []
    for task in tasks:
        for _, surface, start, end in spans_of(task):
            assert task["data"]["text"][start:end] == surface
    config = (tmp_path / "tasks" / "label_config.xml").read_text()
    assert '<Label value="PER"/>' in config and '<Label value="FACILITY"/>' in config and 'value="$text"' in config
    assert result.written == 4 and result.entities == {"PER": 1, "FACILITY": 2, "LOC": 2}
    assert tasks[0]["data"]["labelgrow"]["source"].endswith("raw.jsonl:1")


def test_an_edited_label_studio_export_trains_extend(models, texts, tmp_path):
    """As a person would: accept the predictions, add an ORG the model missed, delete one span, cancel a task,
    leave one unannotated; the export reads back with exact tags and languages, and extend trains on it."""
    annotate(
        model=str(models / "grown"), teacher=str(models / "teacher"), input=[str(texts)], output=str(tmp_path / "t")
    )
    tasks = json.loads((tmp_path / "t" / "tasks.json").read_text())
    export = []
    for i, task in enumerate(tasks):
        result = [dict(r) for r in task["predictions"][0]["result"]]
        text = task["data"]["text"]
        if i == 1:  # the annotator adds "Café Müller" (with its combining accent) as ORG
            start = 0
            end = text.index(" is")
            result.append(
                {
                    "type": "labels",
                    "from_name": "label",
                    "to_name": "text",
                    "value": {"start": start, "end": end, "text": text[start:end], "labels": ["ORG"]},
                }
            )
        if i == 2:  # and deletes the FACILITY on 站
            result = [r for r in result if r["value"]["labels"] != ["FACILITY"]]
        annotations = [{"result": result, "was_cancelled": False}]
        if i == 3:
            annotations = [{"result": [], "was_cancelled": True}]
        export.append({"id": i + 1, "data": task["data"], "annotations": annotations})
    export.append({"id": 9, "data": {"text": "never annotated"}, "annotations": []})
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export, ensure_ascii=False))

    corpus = load_corpus([str(path)])
    got = [(s.lang, list(zip(s.tokens, s.tags or [], strict=True))) for s in corpus.sentences]
    assert len(got) == 3  # the cancelled and the unannotated tasks are not all-O sentences
    assert got[0][0] == "en" and [t for _, t in got[0][1]] == [
        *("B-PER", "I-PER", "O", "O", "O", "O", "B-FACILITY", "I-FACILITY", "O")  # 👋 and 🏽 are words of their own
    ]
    assert got[1][0] == "de" and got[1][1][:3] == [("Cafe\u0301", "B-ORG"), ("Müller", "I-ORG"), ("is", "O")]
    assert got[2][0] == "zh" and [t for _, t in got[2][1]] == ["O", "O", "O", "B-LOC", "I-LOC", "O", "O", "O", "O"]
    assert [s.line for s in corpus.sentences] == [1, 2, 3]  # FILE:ITEM for errors and examples

    import labelgrow

    out = labelgrow.extend(
        base=str(models / "teacher"),
        new_labels="FACILITY",
        train=[str(path)],
        output=str(tmp_path / "grown"),
        max_steps=2,
        batch_size=2,
        cpu=True,
    )
    run = json.loads((out.output / "labelgrow.json").read_text())
    assert run["data"]["train"][0]["sentences"] == 3 and sorted(run["languages"]) == ["de", "en", "zh"]


def test_doccano_round_trip(models, texts, tmp_path):
    annotate(
        model=str(models / "grown"),
        teacher=str(models / "teacher"),
        input=[str(texts)],
        output=str(tmp_path / "d"),
        format="doccano",
    )
    lines = [json.loads(x) for x in (tmp_path / "d" / "tasks.jsonl").read_text().splitlines()]
    assert lines[0]["label"] == [[0, 13, "PER"], [27, 43, "FACILITY"]] and lines[2]["lang"] == "zh"
    lines[3]["label"] = [[0, 7, "ORG"]]  # "nothing" tagged by hand
    edited = tmp_path / "doccano_export.jsonl"
    edited.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    corpus = load_corpus([str(edited)])
    assert [s.tags for s in corpus.sentences][3] == ["B-ORG", "O", "O", "O"]
    assert corpus.sentences[2].tags == ["O", "O", "O", "B-LOC", "I-LOC", "B-FACILITY", "O", "O", "O"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"start": 0, "end": 99, "text": "x", "labels": ["PER"]}, ":1: PER span [0, 99) is out of range"),
        ({"start": 0, "end": 5, "text": "Anna!", "labels": ["PER"]}, "is 'Angel' in the text, not 'Anna!'"),
        ({"start": 0, "end": 5, "labels": ["PER", "ORG"]}, "has 2 labels, expected one"),
        ({"start": 3, "end": 10, "text": "ela Mer", "labels": ["PER"]}, "cuts through the word 'Angela'"),
        ({"start": 7, "end": 13, "text": "Merkel", "labels": ["LOC"]}, "spans overlap: PER [0, 12] and LOC [7, 12]"),
    ],
)
def test_bad_exports_name_file_and_item(tmp_path, value, message):
    text = "Angela Merkel visited Hamburg"
    good = {"type": "labels", "value": {"start": 0, "end": 13, "text": "Angela Merkel", "labels": ["PER"]}}
    bad = {"type": "labels", "value": value}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"data": {"text": text}, "annotations": [{"result": [good, bad]}]}]))
    with pytest.raises(DataError, match=r"export\.json:1: ") as caught:
        load_corpus([str(path)])
    assert message in str(caught.value)


def test_an_export_without_annotations_is_refused(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"data": {"text": "a"}, "predictions": [{"result": []}]}]))
    with pytest.raises(DataError, match="no sentences"):
        load_corpus([str(path)])


def test_an_unmapped_label_stops_extend_before_anything_is_written(models, tmp_path, monkeypatch, capsys):
    path = tmp_path / "en" / "export.json"
    path.parent.mkdir()
    value = {"start": 0, "end": 6, "text": "Angela", "labels": ["Person"]}
    path.write_text(json.dumps([{"data": {"text": "Angela came"}, "annotations": [{"result": [{"value": value}]}]}]))
    output = tmp_path / "out"
    argv = [
        "extend",
        "--base",
        str(models / "teacher"),
        "--new-labels",
        "FACILITY",
        "--train",
        str(path),
        "--output",
        str(output),
        "--cpu",
    ]
    code, _, err = run_cli(argv, monkeypatch, capsys)
    assert code == 2 and "B-Person" in err and "--label-map" in err and not output.exists()
    mapping = tmp_path / "map.tsv"
    mapping.write_text("Person\tPER\n")
    corpus = load_corpus([str(path)], label_map=__import__("labelgrow.labels").labels.LabelMap.read(str(mapping)))
    assert corpus.sentences[0].tags == ["B-PER", "O"] and corpus.sentences[0].lang == "en"


def test_selection_puts_the_least_sure_and_the_most_changed_first(models, texts, tmp_path):
    unsure = annotate(
        model=str(models / "grown"),
        input=[str(texts)],
        output=str(tmp_path / "u"),
        select="uncertain",
        top=1,
        format="doccano",
    )
    first = json.loads((tmp_path / "u" / "tasks.jsonl").read_text().splitlines()[0])
    assert unsure.written == 1 and unsure.texts == 4
    assert first["text"] == TEXTS[1] and first["labelgrow"]["least_sure"] < 0.9  # "Hamburg" is the doubtful word
    annotate(
        model=str(models / "grown"),
        teacher=str(models / "teacher"),
        input=[str(texts)],
        output=str(tmp_path / "g"),
        select="disagree",
        format="doccano",
    )
    order = [json.loads(x) for x in (tmp_path / "g" / "tasks.jsonl").read_text().splitlines()]
    # text 1: the teacher's LOC Heathrow became FACILITY (1 change); text 3: 上海 kept, 站 is new (0 changes)
    assert [x["labelgrow"]["disagreement"] for x in order] == [1, 0, 0, 0]
    assert order[0]["text"] == TEXTS[0] and order[1]["text"] == TEXTS[1]  # ties: least sure first


def test_annotate_arguments_are_checked(tmp_path):
    with pytest.raises(LabelgrowError, match="--select disagree compares the grown model with its teacher"):
        annotate(model="m", input=["x"], output=str(tmp_path / "o"), select="disagree")
    with pytest.raises(LabelgrowError, match="--format must be one of label-studio, doccano, conll, spans"):
        annotate(model="m", input=["x"], output=str(tmp_path / "o"), format="csv")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "tasks.json").write_text("[]")
    with pytest.raises(LabelgrowError, match="exists and is not empty"):
        annotate(model="m", input=["x"], output=str(tmp_path / "full"))


def test_annotate_command_writes_conll_and_span_json(models, texts, tmp_path, monkeypatch, capsys):
    argv = [
        "annotate",
        "--model",
        str(models / "grown"),
        "--teacher",
        str(models / "teacher"),
        "--input",
        str(texts),
        "--output",
        str(tmp_path / "c"),
        "--format",
        "conll",
    ]
    code, out, err = run_cli(argv, monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("4 of 4 texts (none), entities: FACILITY 2, LOC 2, PER 1")
    conll = (tmp_path / "c" / "tasks.conll").read_text()
    assert "# lang = zh\n我 O\n们 O\n在 O\n上 B-LOC\n海 I-LOC\n站 B-FACILITY\n" in conll
    assert load_corpus([str(tmp_path / "c" / "tasks.conll")]).sentences[0].tags[-3:] == [
        "B-FACILITY",
        "I-FACILITY",
        "O",
    ]
    code, out, err = run_cli([*argv[:-1], "spans"], monkeypatch, capsys)
    assert code == 2 and "is not empty" in err
    code, out, err = run_cli([*argv[:-4], "--output", str(tmp_path / "s"), "--format", "spans"], monkeypatch, capsys)
    assert code == 0, err
    back = load_corpus([str(tmp_path / "s" / "tasks.spans.jsonl")])
    assert back.sentences[2].tags == ["O", "O", "O", "B-LOC", "I-LOC", "B-FACILITY", "O", "O", "O"]
