"""`labelgrow eval` and `labelgrow predict` on lexicon models whose predictions are known exactly."""

from __future__ import annotations

import json

import pytest

from labelgrow.configuration import EvalArguments
from labelgrow.errors import LabelgrowError
from labelgrow.evaluation import run_eval
from labelgrow.prediction import predict
from tests.processes import torchrun_labelgrow
from tests.tiny_models import OLD_LABELS, build_lexicon_model, build_lexicon_tokenizer

NEW_LABELS = [*OLD_LABELS, "B-FACILITY", "I-FACILITY"]
# What the models predict for each word (its first sub-word decides); everything else is O.
STUDENT = {
    "Angela": "B-PER",
    "Merkel": "I-PER",
    "Hamburg": "B-LOC",
    "Elbphilharmonie": "B-FACILITY",
    "Heathrow": "B-FACILITY",
    "Airport": "I-FACILITY",
    "上": "B-FACILITY",
    "海": "I-FACILITY",
}
TEACHER = {
    "Angela": "B-PER",
    "Merkel": "I-PER",
    "Hamburg": "B-LOC",
    "Siemens": "B-ORG",
    "Heathrow": "B-LOC",
    "上": "B-LOC",
    "海": "I-LOC",
}

GOLD = {
    # en: PER right; FACILITY right; ORG (Siemens) missed by the student, found by the teacher
    "en": "Angela B-PER\nMerkel I-PER\nvisited O\nHeathrow B-FACILITY\nAirport I-FACILITY\n. O\n\n"
    "Siemens B-ORG\nin O\nHamburg B-LOC\n",
    # de: FACILITY right, LOC right
    "de": "Die O\nElbphilharmonie B-FACILITY\nliegt O\nin O\nHamburg B-LOC\n",
    # zh: gold LOC, the student says FACILITY (wrong), the teacher LOC (right)
    "zh": "上 B-LOC\n海 I-LOC\n很 O\n大 O\n",
}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("lexicon")
    tokenizer = build_lexicon_tokenizer(root / "tokenizer", sorted({*STUDENT, *TEACHER}))
    first = {w: tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in {*STUDENT, *TEACHER, "visited"}}
    assert len(set(first.values())) == len(first)  # every word owns its first sub-word
    build_lexicon_model(root / "student", tokenizer, STUDENT, NEW_LABELS)
    build_lexicon_model(root / "teacher", tokenizer, TEACHER, OLD_LABELS)
    (root / "student" / "labelgrow.json").write_text(json.dumps({"new_types": ["FACILITY"]}))
    return root


@pytest.fixture
def gold_dir(tmp_path):
    for lang, text in GOLD.items():
        (tmp_path / "gold" / lang).mkdir(parents=True)
        (tmp_path / "gold" / lang / "test.txt").write_text(text, encoding="utf-8")
    return tmp_path / "gold"


def test_scores_per_language_old_new_and_forgetting_are_exact(models, gold_dir, tmp_path):
    report = run_eval(
        EvalArguments(
            model=str(models / "student"),
            data=[str(gold_dir)],
            teacher=str(models / "teacher"),
            report=str(tmp_path / "report"),
        )
    )
    langs = report.scores["languages"]
    assert report.old_types == ["PER", "ORG", "LOC"] and report.new_types == ["FACILITY"]
    # en: old = PER (tp) + ORG (fn) + LOC (tp) -> P 100, R 66.7; new = FACILITY tp
    assert langs["en"]["old"]["precision"] == 100.0 and langs["en"]["old"]["recall"] == pytest.approx(200 / 3)
    assert langs["en"]["new"]["f1"] == 100.0
    assert langs["de"]["old"]["f1"] == 100.0 and langs["de"]["new"]["f1"] == 100.0
    # zh: the student predicts FACILITY where the gold says LOC: old recall 0, new precision 0
    assert langs["zh"]["old"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert langs["zh"]["new"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    teacher = report.teacher_scores["languages"]
    assert teacher["en"]["labels"]["ORG"]["f1"] == 100.0 and teacher["zh"]["old"]["f1"] == 100.0
    # the teacher predicts LOC on Heathrow: gold FACILITY is O for the teacher, so that LOC is a false positive
    assert teacher["en"]["labels"]["LOC"]["precision"] == 50.0
    forgetting = report.forgetting
    assert forgetting["zh"]["labels"] == {"LOC": 100.0}
    assert forgetting["en"]["labels"]["ORG"] == 100.0 and forgetting["en"]["labels"]["PER"] == 0.0
    assert forgetting["en"]["labels"]["LOC"] == pytest.approx(200 / 3 - 100.0)  # teacher 66.7, student 100
    written = json.loads((tmp_path / "report" / "report.json").read_text())
    assert written["scores"] == report.scores
    assert (tmp_path / "report" / "report.png").stat().st_size > 5000
    md = (tmp_path / "report" / "report.md").read_text()
    assert "| zh | 1 | 0.0 | - | 0.0 | 100.0 | 100.0 |" in md


def test_unknown_gold_tags_are_an_error_unless_mapped_or_scored_as_o(models, tmp_path):
    path = tmp_path / "en" / "test.txt"
    path.parent.mkdir()
    path.write_text("Siemens B-COMPANY\nin O\nHamburg B-LOC\n")
    with pytest.raises(LabelgrowError, match=r"B-COMPANY \(1x in .*--unknown-as-o"):
        run_eval(EvalArguments(model=str(models / "student"), data=[str(path)]))
    report = run_eval(EvalArguments(model=str(models / "student"), data=[str(path)], unknown_as_o=True))
    assert report.data["unknown_tags_scored_as_o"] == 1
    mapping = tmp_path / "map.tsv"
    mapping.write_text("COMPANY\tORG\n")
    report = run_eval(EvalArguments(model=str(models / "student"), data=[str(path)], label_map=str(mapping)))
    assert report.data["label_map_changes"] == 1 and report.scores["overall"]["labels"]["ORG"]["support"] == 1


def test_an_entity_at_word_600_is_found_in_a_long_sentence(models, tmp_path):
    words = ["visited"] * 700
    tags = ["O"] * 700
    words[600], tags[600] = "Hamburg", "B-LOC"
    path = tmp_path / "en.txt"
    path.write_text("".join(f"{w} {t}\n" for w, t in zip(words, tags, strict=True)))
    report = run_eval(EvalArguments(model=str(models / "student"), data=[str(path)]))
    assert report.scores["overall"]["labels"]["LOC"] == {
        "precision": 100.0,
        "recall": 100.0,
        "f1": 100.0,
        "support": 1,
    }


def test_predict_raw_text_gives_character_offsets_in_spaced_and_unspaced_languages(models):
    rows = predict(model=str(models / "student"), texts=["Angela Merkel visited Heathrow Airport.", "我们到了上海。"])
    assert rows[0]["entities"] == [
        {
            "type": "PER",
            "score": pytest.approx(rows[0]["entities"][0]["score"]),
            "text": "Angela Merkel",
            "start": 0,
            "end": 13,
        },
        {
            "type": "FACILITY",
            "score": pytest.approx(rows[0]["entities"][1]["score"]),
            "text": "Heathrow Airport",
            "start": 22,
            "end": 38,
        },
    ]
    assert [(e["type"], e["text"], e["start"], e["end"]) for e in rows[1]["entities"]] == [("FACILITY", "上海", 4, 6)]
    assert all(0 < e["score"] <= 1 for row in rows for e in row["entities"])


def test_predict_conll_input_returns_bio_tags(models, tmp_path):
    path = tmp_path / "in.conll"
    path.write_text("Angela\nMerkel\nvisited\nHamburg\n\n上\n海\n")
    rows = predict(model=str(models / "student"), input=str(path), format="conll")
    assert rows[0]["tags"] == ["B-PER", "I-PER", "O", "B-LOC"]
    assert rows[1]["tags"] == ["B-FACILITY", "I-FACILITY"]
    assert rows[1]["entities"][0] == {
        "type": "FACILITY",
        "score": pytest.approx(rows[1]["entities"][0]["score"]),
        "text": "上 海",
        "start_word": 0,
        "end_word": 2,
    }


def test_two_processes_give_the_same_totals_as_one(models, gold_dir, tmp_path):
    """`labelgrow eval` under torchrun (2 gloo ranks): each scores a shard, the totals equal one process."""
    single = run_eval(EvalArguments(model=str(models / "student"), data=[str(gold_dir)], cpu=True))
    args = [
        "-q",
        "eval",
        "--model",
        str(models / "student"),
        "--data",
        str(gold_dir),
        "--report",
        str(tmp_path / "ddp"),
        "--cpu",
    ]
    done = torchrun_labelgrow(args, port=29517)
    assert done.returncode == 0, done.stderr[-3000:]
    multi = json.loads((tmp_path / "ddp" / "report.json").read_text())
    assert multi["speed"]["processes"] == 2
    assert multi["scores"] == single.scores


def test_decoding_choice_reaches_predict_and_eval(models, gold_dir, tmp_path):
    """An orphan I- tag ("Merkel" alone is I-PER to the lexicon model): argmax keeps it, bio never opens a span with
    an I- tag. The report says which decoding it used."""
    path = tmp_path / "orphan.conll"
    path.write_text("visited\nMerkel\n")
    argmax = predict(model=str(models / "student"), input=str(path), format="conll", decode="argmax")
    bio = predict(model=str(models / "student"), input=str(path), format="conll")
    assert argmax[0]["tags"] == ["O", "I-PER"]
    assert bio[0]["tags"] == ["O", "O"]
    report = run_eval(EvalArguments(model=str(models / "student"), data=[str(gold_dir)], cpu=True, decode="argmax"))
    assert report.decode == "argmax"
    with pytest.raises(LabelgrowError, match="--decode must be one of bio, argmax, not 'beam'"):
        EvalArguments(model="m", data=["d"], decode="beam")


def test_eval_reports_what_became_of_each_old_entity_and_parent_aware_forgetting(models, gold_dir, tmp_path):
    report = run_eval(
        EvalArguments(
            model=str(models / "student"),
            data=[str(gold_dir)],
            teacher=str(models / "teacher"),
            report=str(tmp_path / "report"),
            parent=["FACILITY=LOC"],
        )
    )
    changes = report.changes
    # en: Angela Merkel (PER) and Hamburg (LOC) kept, Siemens (ORG) lost; the teacher's LOC on Heathrow is wrong
    # (gold FACILITY), so it is not followed. zh: 上海 LOC became FACILITY: refined.
    assert changes["languages"]["en"] == {
        "PER": {"kept": 1, "refined": 0, "lost": 0, "confused": 0, "boundary": 0, "gained": 0},
        "ORG": {"kept": 0, "refined": 0, "lost": 1, "confused": 0, "boundary": 0, "gained": 0},
        "LOC": {"kept": 1, "refined": 0, "lost": 0, "confused": 0, "boundary": 0, "gained": 0},
    }
    assert changes["languages"]["zh"]["LOC"]["refined"] == 1
    assert changes["examples"]["lost"][0]["source"].endswith("en/test.txt:8")  # the sentence starts on line 8
    # plain forgetting counts 上海 as a lost LOC; with FACILITY refining LOC it is kept
    assert report.forgetting["zh"]["labels"] == {"LOC": 100.0}
    assert report.parent_forgetting["zh"]["labels"] == {"LOC": 0.0}
    assert report.parent_forgetting["en"]["labels"]["ORG"] == 100.0  # a real loss stays a loss
    md = (tmp_path / "report" / "report.md").read_text()
    assert md.splitlines()[2].startswith("Learned: FACILITY")
    assert "| zh | LOC | 1 | 0 | 1 | 0 | 0 | 0 | 0 |" in md
    # the lexicon teacher is sure of every entity (no word below 0.6); the examples say how sure
    lost = changes["examples"]["lost"][0]
    assert changes["teacher_unsure"]["below"] == 0.6 and changes["teacher_unsure"]["overall"] == {}
    assert f"- lost: `Siemens` ORG (teacher p {lost['teacher_probability']:.2f}) -> O  [en, " in md
    assert "Not kept (lost, confused, other boundary): 1 of the teacher's entities, 0 of them where" in md
    # above the teacher's probabilities every followed entity is a near-tie, Siemens (lost) among them
    every = run_eval(
        EvalArguments(
            model=str(models / "student"), data=[str(gold_dir)], teacher=str(models / "teacher"), teacher_unsure_below=1
        )
    ).changes["teacher_unsure"]
    assert every["languages"]["en"]["ORG"]["lost"] == 1 and every["languages"]["zh"]["LOC"]["refined"] == 1
    assert sum(every["overall"]["LOC"].values()) == changes["overall"]["LOC"]["kept"] + 1  # Hamburg, 上海
    with pytest.raises(LabelgrowError, match=r"--teacher-unsure-below must be in \[0, 1\] \(0: off\), not 1.5"):
        EvalArguments(model="m", data=["d"], teacher_unsure_below=1.5)


def test_eval_parent_must_name_a_new_and_an_old_type(models, gold_dir):
    with pytest.raises(LabelgrowError, match="MISC is not an old type"):
        run_eval(EvalArguments(model=str(models / "student"), data=[str(gold_dir)], parent=["FACILITY=MISC"]))


def test_diff_without_gold_on_raw_text_and_conll(models, tmp_path):
    from labelgrow.diffing import DiffArguments, run_diff

    text = tmp_path / "en" / "production.txt"
    text.parent.mkdir()
    text.write_text("Angela Merkel visited Heathrow Airport .\n\nSiemens in Hamburg\n", encoding="utf-8")
    conll = tmp_path / "zh.txt"
    conll.write_text("上 B-LOC\n海 I-LOC\n很 O\n大 O\n", encoding="utf-8")
    report = run_diff(
        DiffArguments(
            teacher=str(models / "teacher"),
            model=str(models / "student"),
            data=[str(text), str(conll)],
            report=str(tmp_path / "diff"),
        )
    )
    assert report.data["sentences"] == 3 and report.data["languages"] == ["en", "zh"]
    en, zh = report.changes["languages"]["en"], report.changes["languages"]["zh"]
    # without gold every teacher entity is followed: Heathrow (teacher LOC) became FACILITY
    assert en["LOC"] == {"kept": 1, "refined": 1, "lost": 0, "confused": 0, "boundary": 0, "added": 0}
    assert en["ORG"]["lost"] == 1 and en["PER"]["kept"] == 1
    assert zh["LOC"]["refined"] == 1
    lost = report.changes["examples"]["lost"][0]
    assert lost["source"] == f"{text}:3" and lost["entity"] == "Siemens"
    refined = report.changes["examples"]["refined"][0]
    assert (
        f"refined: `Heathrow` LOC (teacher p {refined['teacher_probability']:.2f}) -> FACILITY (Heathrow Airport)"
        in (tmp_path / "diff" / "diff.md").read_text()
    )
    assert report.changes["teacher_unsure"]["overall"] == {}  # the lexicon teacher is sure of all it tags


def test_diff_needs_a_shared_type_and_existing_data(models, tmp_path):
    from labelgrow.diffing import DiffArguments, run_diff

    with pytest.raises(LabelgrowError, match=r"--data .*missing.txt: no such file"):
        run_diff(DiffArguments(teacher=str(models / "teacher"), model=str(models / "student"), data=["missing.txt"]))
    with pytest.raises(LabelgrowError, match="--format must be one of auto, text, conll"):
        DiffArguments(teacher="t", model="m", data=["x"], format="csv")


def test_errors_name_the_option_the_user_typed(models, gold_dir):
    with pytest.raises(LabelgrowError, match=r"^--model /nonexistent/model: no such directory"):
        predict(model="/nonexistent/model", texts=["text"])
    with pytest.raises(LabelgrowError, match=r"^--teacher /nonexistent/teacher: no such directory"):
        run_eval(EvalArguments(model=str(models / "student"), data=[str(gold_dir)], teacher="/nonexistent/teacher"))


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_silences_the_progress_bars(models, tmp_path, quiet):
    import subprocess
    import sys

    texts = tmp_path / "texts.txt"
    texts.write_text("Angela Merkel visited Hamburg .\n" * 120, encoding="utf-8")  # > 100 texts: a progress bar
    flags = ["-q"] if quiet else []
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "labelgrow.cli",
            *flags,
            "predict",
            "--model",
            str(models / "student"),
            "--input",
            str(texts),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("\n") == 120
    assert ("predicting" in done.stderr) is not quiet


def test_diff_command_prints_the_near_tie_columns_and_line(models, tmp_path, monkeypatch, capsys):
    """Above every probability the lexicon teacher gives, each followed entity is a near-tie: the terminal table has
    the two columns and the line under it counts the one lost entity (Siemens) among them."""
    from labelgrow.cli import main

    text = tmp_path / "en" / "production.txt"
    text.parent.mkdir()
    text.write_text("Angela Merkel visited Heathrow Airport .\n\nSiemens in Hamburg\n", encoding="utf-8")
    argv = ["diff", "--teacher", str(models / "teacher"), "--model", str(models / "student"), "--data", str(text)]
    monkeypatch.setattr("sys.argv", ["labelgrow", *argv, "--teacher-unsure-below", "1", "--cpu"])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr().out
    assert done.value.code in (0, None), out
    assert "teacher unsure (p<1)" in out.splitlines()[1] and "of them not kept" in out.splitlines()[1]
    assert "Not kept (lost, confused, other boundary): 1 of the teacher's entities, 1 of them where the teacher" in out
    assert "lost: 'Siemens' ORG (teacher p " in out
