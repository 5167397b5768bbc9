from __future__ import annotations

import random

import pytest
from seqeval.metrics import classification_report

from labelgrow.data import Sentence
from labelgrow.metrics import score

TYPES = ["PER", "LOC", "FAC"]


def random_tags(rng, n):
    tags = []
    for _ in range(n):
        r = rng.random()
        tags.append("O" if r < 0.5 else f"{rng.choice('BI')}-{rng.choice(TYPES)}")
    return tags


@pytest.mark.parametrize("mode", ["conlleval", "strict"])
def test_counts_match_seqeval_classification_report(mode):
    from seqeval.scheme import IOB2

    rng = random.Random(0)
    gold = [random_tags(rng, 12) for _ in range(200)]
    pred = [random_tags(rng, 12) for _ in range(200)]
    sentences = [Sentence([f"w{i}" for i in range(12)], g, lang="xx") for g in gold]
    report = score(sentences, pred, ["PER", "LOC"], ["FAC"], mode)
    kwargs = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    ref = classification_report(gold, pred, output_dict=True, zero_division=0, **kwargs)
    for type_ in TYPES:
        ours = report["overall"]["labels"][type_]
        assert ours["f1"] == pytest.approx(100 * ref[type_]["f1-score"])
        assert ours["precision"] == pytest.approx(100 * ref[type_]["precision"])
        assert ours["support"] == ref[type_]["support"]
    assert report["overall"]["micro"]["f1"] == pytest.approx(100 * ref["micro avg"]["f1-score"])
    assert report["overall"]["macro_f1"] == pytest.approx(100 * ref["macro avg"]["f1-score"])


def test_known_scores_per_language_and_old_new_split():
    s = [
        # en: PER found, FAC missed, spurious LOC
        Sentence(["a", "b", "c", "d"], ["B-PER", "O", "B-FAC", "O"], lang="en"),
        # de: LOC found, FAC found
        Sentence(["a", "b", "c"], ["B-LOC", "O", "B-FAC"], lang="de"),
    ]
    pred = [["B-PER", "B-LOC", "O", "O"], ["B-LOC", "O", "B-FAC"]]
    report = score(s, pred, old_types=["PER", "LOC", "ORG"], new_types=["FAC"])
    en, de, overall = report["languages"]["en"], report["languages"]["de"], report["overall"]
    assert en["old"] == {"precision": 50.0, "recall": 100.0, "f1": pytest.approx(200 / 3), "support": 1}
    assert en["new"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert de["old"]["f1"] == 100.0 and de["new"]["f1"] == 100.0
    assert overall["old"]["precision"] == pytest.approx(200 / 3) and overall["old"]["recall"] == 100.0
    assert overall["new"]["recall"] == 50.0 and overall["new"]["precision"] == 100.0
    assert overall["labels"]["LOC"]["support"] == 1 and overall["sentences"] == 2
    assert list(report["languages"]) == ["de", "en"]


def test_annotated_micro_ignores_types_the_gold_never_has():
    s = [Sentence(["a", "b"], ["B-FAC", "O"], lang="en")]
    report = score(s, [["B-FAC", "B-PER"]], old_types=["PER"], new_types=["FAC"])
    assert report["overall"]["micro"]["precision"] == 50.0
    assert report["overall"]["annotated"] == {"precision": 100.0, "recall": 100.0, "f1": 100.0, "support": 1}
