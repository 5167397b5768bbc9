from __future__ import annotations

from types import SimpleNamespace

import pytest

from labelgrow.data import Sentence
from labelgrow.errors import DataError, LabelgrowError
from labelgrow.labels import LabelMap, LabelSet, check_known_tags, old_labels_from_config, parse_new_labels, repair_bio


def test_new_labels_parse_comma_separated_in_order():
    assert parse_new_labels("FACILITY,PHONE") == ["FACILITY", "PHONE"]
    assert parse_new_labels(["ADDR_ROAD"]) == ["ADDR_ROAD"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "--new-labels is empty"),
        (",", "--new-labels is empty"),
        ("FACILITY, PHONE", "' PHONE' is not a valid entity type (no spaces"),
        ("FAC ILITY", "'FAC ILITY' is not a valid entity type"),
        ("B-FACILITY", "give entity types, not tags: 'FACILITY' instead of 'B-FACILITY'"),
        ("1FAC", "'1FAC' is not a valid entity type"),
        ("FAC,FAC", "'FAC' is given twice"),
        ("FAC,", "'' is not a valid entity type"),
    ],
)
def test_new_labels_errors(spec, message):
    with pytest.raises(LabelgrowError) as info:
        parse_new_labels(spec)
    assert str(info.value).startswith("--new-labels")
    assert message in str(info.value)


def test_old_labels_keep_the_stored_order():
    order = ["B-LOC", "O", "I-PER", "B-PER", "I-LOC", "B-ORG", "I-ORG"]
    config = SimpleNamespace(
        id2label={str(i): lab for i, lab in enumerate(order)}, architectures=["XLMRobertaForTokenClassification"]
    )
    assert old_labels_from_config(config) == order
    labels = LabelSet(tuple(order), ("FACILITY", "PHONE"))
    assert labels.labels == (*order, "B-FACILITY", "I-FACILITY", "B-PHONE", "I-PHONE")
    assert labels.outside_id == 1
    assert labels.old_types == ["LOC", "PER", "ORG"]


def test_plain_encoder_has_only_outside():
    config = SimpleNamespace(id2label={0: "LABEL_0", 1: "LABEL_1"}, architectures=["XLMRobertaModel"])
    assert old_labels_from_config(config) == ["O"]


def test_new_label_clashing_with_an_old_type_is_an_error():
    with pytest.raises(LabelgrowError, match="--new-labels: LOC already in the base model"):
        LabelSet(("O", "B-LOC", "I-LOC"), ("LOC",))


def test_repair_bio_counts_each_repair():
    tags, n = repair_bio(["O", "I-PER", "I-PER", "O", "B-LOC", "I-ORG", "I-LOC"])
    assert tags == ["O", "B-PER", "I-PER", "O", "B-LOC", "B-ORG", "B-LOC"]
    assert n == 3


def test_label_map_reads_header_types_and_full_tags(tmp_path):
    path = tmp_path / "map.tsv"
    path.write_text(
        "source_type\tlabelgrow_target\nFacility\tFACILITY\nStation\tFACILITY\nArtist\tO\n# a comment\nB-odd\tB-LOC\n",
        encoding="utf-8",
    )
    mapping = LabelMap.read(path)
    assert [mapping(t) for t in ["B-Facility", "I-Station", "B-Artist", "I-Artist", "B-odd", "O", "B-PER"]] == [
        "B-FACILITY",
        "I-FACILITY",
        "O",
        "O",
        "B-LOC",
        "O",
        "B-PER",
    ]


def test_label_map_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "map.tsv"
    path.write_text("Facility\tFACILITY\nStation\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{path}:2: expected 'source<TAB>target', got 1 field"):
        LabelMap.read(path)


def test_unknown_tags_are_listed_with_counts_and_files():
    sentences = [
        Sentence(["a", "b"], ["B-FOO", "O"], path="x.txt"),
        Sentence(["c"], ["B-FOO"], path="y.txt"),
        Sentence(["d"], ["I-BAR"], path="y.txt"),
    ]
    with pytest.raises(LabelgrowError) as info:
        check_known_tags(sentences, ["O", "B-PER"], "the training data", "Map them.")
    assert str(info.value) == (
        "the training data has tags that are not in the label set: B-FOO (2x in x.txt (1x), y.txt (1x)); "
        "I-BAR (1x in y.txt (1x)). Map them."
    )


def test_refinements_pair_each_parent_label_with_its_child_prefix_by_prefix_in_the_base_order():
    labels = LabelSet(("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"), ("FACILITY", "PHONE"))
    assert labels.refinements({"FACILITY": ["LOC", "ORG"]}) == ((5, 7), (6, 8), (3, 7), (4, 8))
    assert labels.refinements({}) == ()
    odd = LabelSet(("B-LOC", "O", "I-LOC"), ("FACILITY",))  # the base's own order, never assumed
    assert odd.refinements({"FACILITY": ["LOC"]}) == ((0, 3), (2, 4))
