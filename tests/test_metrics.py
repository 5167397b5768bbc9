"""The change report, parent-aware scoring and --parent parsing on hand-made teacher/model/gold triples whose
counts are known exactly (no model, no torch)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from labelgrow.data import Sentence
from labelgrow.errors import LabelgrowError
from labelgrow.labels import check_parents, parse_parents
from labelgrow.metrics import change_report, change_totals, classify_change, forgetting, refine_to_parents, score

OLD, NEW = ["PER", "ORG", "LOC"], ["FACILITY"]


def tags(text: str) -> list[str]:
    return text.split()


# sentence 1 (en): the teacher is right on all four; the model keeps PER, refines ORG@3 into FACILITY, loses LOC@5
# and cuts ORG@7-8 short (boundary)
GOLD_1 = tags("B-PER I-PER O B-ORG O B-LOC O B-ORG I-ORG O")
TEACHER_1 = GOLD_1
MODEL_1 = tags("B-PER I-PER O B-FACILITY O O O B-ORG O O")
# sentence 2 (de): the teacher is right on LOC@0, misses PER@2 and calls ORG@4 a LOC; the model says ORG at 0
# (confused), finds PER@2 and ORG@4 (both gained: gold entities the teacher did not have)
GOLD_2 = tags("B-LOC O B-PER O B-ORG")
TEACHER_2 = tags("B-LOC O O O B-LOC")
MODEL_2 = tags("B-ORG O B-PER O B-ORG")


def corpus() -> list[Sentence]:
    return [
        Sentence([f"w{i}" for i in range(10)], GOLD_1, lang="en", path="a.txt", line=1),
        Sentence([f"v{i}" for i in range(5)], GOLD_2, lang="de", path="b.txt", line=7),
    ]


def test_classify_change_covers_every_case():
    model = [("PER", 0, 1), ("FACILITY", 3, 3), ("ORG", 7, 7), ("LOC", 9, 9)]
    assert classify_change(("PER", 0, 1), model, NEW) == ("kept", ("PER", 0, 1))
    assert classify_change(("ORG", 3, 3), model, NEW) == ("refined", ("FACILITY", 3, 3))
    assert classify_change(("LOC", 5, 5), model, NEW) == ("lost", None)
    assert classify_change(("ORG", 7, 8), model, NEW) == ("boundary", ("ORG", 7, 7))
    assert classify_change(("PER", 9, 9), model, NEW) == ("confused", ("LOC", 9, 9))
    # the most-overlapping model entity decides: two words of FACILITY beat one word of ORG
    assert classify_change(("LOC", 0, 2), [("ORG", 0, 0), ("FACILITY", 1, 2)], NEW)[0] == "refined"


def test_change_report_with_gold_follows_only_the_teachers_correct_entities():
    report = change_report(corpus(), [TEACHER_1, TEACHER_2], [MODEL_1, MODEL_2], OLD, NEW, use_gold=True)
    en, de = report["languages"]["en"], report["languages"]["de"]
    zero = dict.fromkeys(report["changes"], 0)
    assert report["changes"] == ["kept", "refined", "lost", "confused", "boundary", "gained"]
    assert en["PER"] == {**zero, "kept": 1}
    assert en["ORG"] == {**zero, "refined": 1, "boundary": 1}
    assert en["LOC"] == {**zero, "lost": 1}
    # de: LOC@0 confused; PER@2 and ORG@4 gained; the teacher's wrong LOC@4 is not followed
    assert de["LOC"] == {**zero, "confused": 1}
    assert de["PER"] == {**zero, "gained": 1} and de["ORG"] == {**zero, "gained": 1}
    assert change_totals(report["overall"], report["changes"]) == {
        "kept": 1, "refined": 1, "lost": 1, "confused": 1, "boundary": 1, "gained": 2
    }  # fmt: skip
    refined = report["examples"]["refined"][0]
    assert refined == {
        "lang": "en",
        "source": "a.txt:1",
        "text": " ".join(f"w{i}" for i in range(10)),
        "entity": "w3",
        "teacher": "ORG",
        "model": "FACILITY",
        "model_entity": "w3",
    }
    assert report["examples"]["boundary"][0]["model_entity"] == "w7"
    assert report["examples"]["lost"][0]["model"] == "O"


def test_change_report_without_gold_follows_every_teacher_entity_and_counts_added_ones():
    sentences = corpus()
    for s in sentences:
        s.tags = None
    report = change_report(sentences, [TEACHER_1, TEACHER_2], [MODEL_1, MODEL_2], OLD, NEW, use_gold=False)
    de = report["languages"]["de"]
    assert report["changes"][-1] == "added"
    assert de["LOC"]["confused"] == 2  # LOC@0 -> ORG and LOC@4 -> ORG: no gold says the teacher was wrong
    assert de["PER"]["added"] == 1  # the model's PER@2 overlaps none of the teacher's entities
    assert change_totals(report["overall"], report["changes"])["kept"] == 1
    assert change_totals({}, report["changes"]) == dict.fromkeys(report["changes"], 0)  # nothing followed: zeros


def test_teacher_near_ties_are_counted_apart_by_the_lowest_word_probability_of_each_entity():
    # sentence 1: PER@0-1 has a word at 0.55 (a near-tie, kept); ORG@3 0.9 (sure, refined); LOC@5 0.59 (near-tie,
    # lost); ORG@7-8 0.95 and 0.6 (0.6 is not below 0.6: sure, boundary). Sentence 2: LOC@0 at 0.3 (near-tie,
    # confused); gold-only entities (gained) are never followed, so never unsure.
    scores_1 = [0.55, 0.97, 0.99, 0.9, 0.99, 0.59, 0.99, 0.95, 0.6, 0.99]
    scores_2 = [0.3, 0.99, 0.2, 0.99, 0.4]
    report = change_report(
        corpus(), [TEACHER_1, TEACHER_2], [MODEL_1, MODEL_2], OLD, NEW, True, teacher_scores=[scores_1, scores_2]
    )
    unsure = report["teacher_unsure"]
    zero = dict.fromkeys(report["changes"], 0)
    assert unsure["below"] == 0.6
    assert unsure["languages"]["en"] == {"PER": {**zero, "kept": 1}, "LOC": {**zero, "lost": 1}}
    assert unsure["languages"]["de"] == {"LOC": {**zero, "confused": 1}}
    assert change_totals(unsure["overall"], report["changes"]) == {**zero, "kept": 1, "lost": 1, "confused": 1}
    # the counts of every change are those without probabilities: near-ties are a subset, not a reclassification
    plain = change_report(corpus(), [TEACHER_1, TEACHER_2], [MODEL_1, MODEL_2], OLD, NEW, True)
    assert "teacher_unsure" not in plain and plain["languages"] == report["languages"]
    assert report["examples"]["lost"][0]["teacher_probability"] == 0.59
    assert report["examples"]["boundary"][0]["teacher_probability"] == 0.6
    # another threshold; 0 turns it off (nothing is below 0)
    strict = change_report(corpus(), [TEACHER_1, TEACHER_2], [MODEL_1, MODEL_2], OLD, NEW, True,
                           teacher_scores=[scores_1, scores_2], unsure_below=0.96)  # fmt: skip
    assert change_totals(strict["teacher_unsure"]["overall"], report["changes"]) == {
        **zero, "kept": 1, "refined": 1, "lost": 1, "confused": 1, "boundary": 1
    }  # fmt: skip
    off = change_report(corpus(), [TEACHER_1, TEACHER_2], [MODEL_1, MODEL_2], OLD, NEW, True,
                        teacher_scores=[scores_1, scores_2], unsure_below=0.0)  # fmt: skip
    assert "teacher_unsure" not in off and off["examples"]["lost"][0]["teacher_probability"] == 0.59


def test_examples_are_capped_per_language_and_change():
    sentences = [Sentence(["a", "b"], ["B-ORG", "O"], lang="en", line=i) for i in range(10)]
    report = change_report(sentences, [["B-ORG", "O"]] * 10, [["B-FACILITY", "O"]] * 10, OLD, NEW, True, examples=2)
    assert report["overall"]["ORG"]["refined"] == 10
    assert [e["source"] for e in report["examples"]["refined"]] == ["<memory>:0", "<memory>:1"]


def test_refine_to_parents_relabels_only_exact_matches_of_a_declared_parent():
    parents = {"FACILITY": ["LOC", "ORG"]}
    gold = tags("B-LOC I-LOC O B-PER B-ORG")
    predicted = tags("B-FACILITY I-FACILITY O B-FACILITY B-FACILITY")
    # LOC@0-1 matches exactly -> LOC; PER is not a parent -> stays; ORG@4 -> ORG
    assert refine_to_parents(gold, predicted, parents) == tags("B-LOC I-LOC O B-FACILITY B-ORG")
    # another boundary is not a refinement of that entity
    assert refine_to_parents(gold, tags("B-FACILITY O O O O"), parents) == tags("B-FACILITY O O O O")
    assert refine_to_parents(gold, predicted, {}) == predicted


def test_parent_aware_forgetting_counts_a_refinement_as_kept():
    sentences = corpus()
    plain = score(sentences, [MODEL_1, MODEL_2], OLD, NEW)
    teacher = score(sentences, [TEACHER_1, TEACHER_2], OLD, [])
    refined = [
        refine_to_parents(s.tags, m, {"FACILITY": ["ORG"]}) for s, m in zip(sentences, [MODEL_1, MODEL_2], strict=True)
    ]
    parent = score(sentences, refined, OLD, NEW)
    assert plain["languages"]["en"]["labels"]["ORG"]["f1"] == 0.0  # FACILITY@3 and ORG@7 (wrong span): no hit
    assert parent["languages"]["en"]["labels"]["ORG"]["recall"] == 50.0  # ORG@3 back, ORG@7-8 still cut short
    plain_forgot = forgetting(plain, teacher, OLD)["en"]["labels"]["ORG"]
    parent_forgot = forgetting(parent, teacher, OLD)["en"]["labels"]["ORG"]
    assert plain_forgot == 100.0 and parent_forgot == 50.0  # ORG: tp 1, fp 1 (ORG@7), fn 1 (ORG@7-8): F1 50


def test_parse_parents_reads_the_option_and_recipe_forms():
    assert parse_parents(["FACILITY=LOC,ORG", "CORP=ORG"]) == {"FACILITY": ["LOC", "ORG"], "CORP": ["ORG"]}
    assert parse_parents("FACILITY=LOC") == {"FACILITY": ["LOC"]}
    assert parse_parents({"FACILITY": ["LOC", "ORG"]}) == {"FACILITY": ["LOC", "ORG"]}
    assert parse_parents({"FACILITY": "LOC,ORG"}) == {"FACILITY": ["LOC", "ORG"]}
    assert parse_parents(None) == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["FACILITY"], r"--parent 'FACILITY': expected NEW=OLD\[,OLD...\]"),
        (["=LOC"], "expected NEW=OLD"),
        (["FACILITY=LOC", "FACILITY=ORG"], "FACILITY is given twice"),
        (["FACILITY=,"], "name at least one old type"),
    ],
)
def test_parse_parents_errors(spec, message):
    with pytest.raises(LabelgrowError, match=message):
        parse_parents(spec)


def test_check_parents_names_what_is_not_a_label():
    check_parents({"FACILITY": ["LOC"]}, NEW, OLD)
    with pytest.raises(LabelgrowError, match=r"--parent PHONE=\.\.\.: PHONE is not a new label \(FACILITY\)"):
        check_parents({"PHONE": ["LOC"]}, NEW, OLD)
    with pytest.raises(LabelgrowError, match=r"FACILITY=LOC,MISC: MISC is not an old type \(LOC, ORG, PER\)"):
        check_parents({"FACILITY": ["LOC", "MISC"]}, NEW, OLD)


def test_metrics_and_report_import_without_torch():
    code = "import sys, labelgrow.metrics, labelgrow.report; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_f1_drops_compare_only_what_the_gold_has():
    from labelgrow.metrics import f1_drops

    reference = {"en": {"old": 90.0, "new": 80.0}, "zh": {"old": None, "new": 50.0}}
    exported = {"en": {"old": 89.5, "new": 80.0}, "zh": {"old": 0.0, "new": 40.0}}
    assert f1_drops(reference, exported) == {"en": {"old": 0.5, "new": 0.0}, "zh": {"new": 10.0}}
