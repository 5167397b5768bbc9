"""Every kind of bad input from the issue list: one clear line naming the file and line or the option, exit code 2,
no traceback, nothing written. Valid-but-odd input runs and says what it did."""

from __future__ import annotations

import pytest

from tests.helpers import extend_args, run_cli

GOOD = "Die O\nElbphilharmonie B-FACILITY\nliegt O\nin O\nHamburg B-LOC\n\nAngela B-PER\nMerkel I-PER\n"


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# (case id, training file content, extra options, expected message, where: "file:line" / "file" / None)
ERRORS = [
    ("empty file", "", [], "no sentences (the file is empty or has only blank lines)", "file"),
    ("only blank lines", "\n\n \n\n", [], "no sentences", "file"),
    ("binary file", b"Die O\n\x00\x01\x02\x03", [], "binary file (NUL byte), not text", "file:2"),
    ("not UTF-8", "Die O\n\nMünchen B-LOC\n".encode("latin-1"), [], "not UTF-8 (byte 0xfc)", "file:3"),
    ("one column", "Die O\nHamburg\n", [], "expected 'token TAG' (tag in the last column), got one column", "file:2"),
    ("not BIO", "Die O\nHamburg S-LOC\n", [], "tag 'S-LOC' is not a BIO tag", "file:2"),
    ("unknown tag", GOOD + "\nBerlin B-CITY\n", [], "tags that are not in the label set: B-CITY (1x in", None),
    ("new label clashes", GOOD, ["--new-labels", "LOC"], "--new-labels: LOC already in the base model", None),
    ("new labels empty", GOOD, ["--new-labels", ""], "--new-labels is empty", None),
    ("new labels with spaces", GOOD, ["--new-labels", "FACILITY, PHONE"], "' PHONE' is not a valid entity type", None),
    (
        "span overlap",
        '{"text": "北京城", "label": {"LOC": {"北京": [[0, 1]]}, "ORG": {"京城": [[1, 2]]}}}\n',
        [],
        "spans overlap: LOC [0, 1] and ORG [1, 2]",
        "file:1",
    ),
    (
        "span out of range",
        '{"text": "北京", "label": {"LOC": {"北京": [[0, 5]]}}}\n',
        [],
        "span [0, 5] is out of range for a text of 2 characters",
        "file:1",
    ),
    (
        "span text mismatch",
        '{"text": "北京", "label": {"LOC": {"上海": [[0, 1]]}}}\n',
        [],
        "LOC span [0, 1] is '北京' in the text, not '上海'",
        "file:1",
    ),
]


@pytest.mark.parametrize(("content", "extra", "message", "where"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_training_input(teacher_dir, tmp_path, monkeypatch, capsys, content, extra, message, where):
    suffix = ".jsonl" if isinstance(content, str) and content.startswith("{") else ".txt"
    path = write(tmp_path, f"de/train{suffix}", content)
    output = tmp_path / "out"
    argv = extend_args(teacher_dir, path, output)
    for option in range(0, len(extra), 2):
        argv[argv.index(extra[option]) + 1] = extra[option + 1]
    code, _, err = run_cli(argv, monkeypatch, capsys)
    last = err.strip().splitlines()[-1]
    assert code == 2, err
    assert last.startswith("labelgrow: error: ") and message in last
    if where == "file":
        assert last.startswith(f"labelgrow: error: {path}: ")
    elif where is not None:
        assert last.startswith(f"labelgrow: error: {path}:{where.split(':')[1]}: ")
    assert "Traceback" not in err and not output.exists()


OPTION_ERRORS = [
    ("base does not exist", lambda t, d: ["--base", str(t / "nope")], "no such directory"),
    ("base without config", lambda t, d: ["--base", str(d)], "has no config.json, so it is not a model checkpoint"),
    ("output not writable", lambda t, d: ["--output", "/proc/labelgrow-out"], "not writable"),
    ("output is a file", lambda t, d: ["--output", str(d / "train.txt")], "exists and is not a directory"),
    ("label map missing", lambda t, d: ["--label-map", str(t / "none.tsv")], "--label-map: "),
]


@pytest.mark.parametrize(("options", "message"), [e[1:] for e in OPTION_ERRORS], ids=[e[0] for e in OPTION_ERRORS])
def test_bad_options(teacher_dir, tmp_path, monkeypatch, capsys, options, message):
    path = write(tmp_path, "de/train.txt", GOOD)
    argv = extend_args(teacher_dir, path, tmp_path / "out")
    extra = options(tmp_path, path.parent)
    if extra[0] in argv:
        argv[argv.index(extra[0]) + 1] = extra[1]
    else:
        argv += extra
    code, _, err = run_cli(argv, monkeypatch, capsys)
    assert code == 2 and message in err.strip().splitlines()[-1] and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_base_that_is_not_a_token_classifier(tmp_path, tokenizer, monkeypatch, capsys):
    from transformers import ViTConfig, ViTModel

    base = tmp_path / "vit"
    ViTModel(
        ViTConfig(
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            image_size=32,
            patch_size=16,
        )
    ).save_pretrained(str(base))
    tokenizer.save_pretrained(str(base))
    path = write(tmp_path, "de/train.txt", GOOD)
    argv = extend_args(base, path, tmp_path / "out", new_labels="PER,LOC,FACILITY")
    code, _, err = run_cli(argv, monkeypatch, capsys)
    assert code == 2 and "cannot load a token-classification model" in err, err
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback(teacher_dir, tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "de/train.txt", "Die O\nHamburg\n")
    monkeypatch.setattr("sys.argv", ["labelgrow", "--debug", *extend_args(teacher_dir, path, tmp_path / "out")])
    from labelgrow.cli import main
    from labelgrow.errors import DataError

    with pytest.raises(DataError):
        main()


VALID = [
    ("three columns, tag last", "Die ART O\nElbphilharmonie NN B-FACILITY\nliegt VV O\n", None),
    ("tabs and spaces mixed", "Die\tO\nElbphilharmonie  \t B-FACILITY\nliegt O\n", None),
    ("I-X after O is repaired", "Die O\nElbphilharmonie I-FACILITY\nliegt O\n", "repaired 1 tag(s)"),
    (
        "a 5,000-word sentence",
        "".join(f"w{i % 50} O\n" for i in range(5000)) + "Elbphilharmonie B-FACILITY\n",
        "split into overlapping windows",
    ),
    ("words without sub-words", "Die O\n\u200b O\nElbphilharmonie B-FACILITY\n", "give no sub-word and are skipped"),
]


@pytest.mark.parametrize(("content", "log"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_odd_input_runs_and_says_what_it_did(teacher_dir, tmp_path, monkeypatch, capsys, caplog, content, log):
    path = write(tmp_path, "de/train.txt", content)
    code, _, err = run_cli(extend_args(teacher_dir, path, tmp_path / "out", "--max-steps", "1"), monkeypatch, capsys)
    assert code == 0, err
    if log:
        assert log in caplog.text


def test_validation_label_never_seen_in_training_is_a_warning(teacher_dir, tmp_path, monkeypatch, capsys, caplog):
    train = write(tmp_path, "de/train.txt", "Die O\nElbphilharmonie B-FACILITY\n")
    dev = write(tmp_path, "de/dev.txt", "Angela B-PER\nMerkel I-PER\n")
    argv = extend_args(teacher_dir, train, tmp_path / "out", "--max-steps", "1", "--validation", str(dev))
    assert run_cli(argv, monkeypatch, capsys)[0] == 0
    assert "the validation data has type(s) never seen in training: PER" in caplog.text
