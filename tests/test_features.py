from __future__ import annotations

from labelgrow.data import Sentence
from labelgrow.features import collate, encode, plan_windows, special_tokens

LABEL2ID = {"O": 0, "B-LOC": 1, "I-LOC": 2, "B-FACILITY": 3, "I-FACILITY": 4}


def test_labels_go_to_the_first_subword(tokenizer):
    sentence = Sentence(["Die", "Elbphilharmonie", "liegt", "in", "Hamburg"], ["O", "B-FACILITY", "O", "O", "B-LOC"])
    (window,), stats = encode([sentence], tokenizer, 128, LABEL2ID)
    pieces = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in sentence.tokens]
    assert window.input_ids[0] == tokenizer.cls_token_id and window.input_ids[-1] == tokenizer.sep_token_id
    expected = [-100]
    for word_pieces, tag in zip(pieces, sentence.tags, strict=True):
        expected += [LABEL2ID[tag]] + [-100] * (len(word_pieces) - 1)
    assert window.labels == [*expected, -100]
    assert len(pieces[1]) > 1  # the test would be vacuous otherwise
    assert [w for w, _ in window.words] == [0, 1, 2, 3, 4]
    assert stats.windows == 1 and stats.split_sentences == 0


def test_label_all_subwords_turns_b_into_i(tokenizer):
    sentence = Sentence(["Elbphilharmonie"], ["B-FACILITY"])
    (window,), _ = encode([sentence], tokenizer, 128, LABEL2ID, label_all_subwords=True)
    labelled = [x for x in window.labels if x != -100]
    assert labelled[0] == 3 and set(labelled[1:]) == {4}


def test_words_without_subwords_are_skipped_and_counted(tokenizer):
    sentence = Sentence(["a", "\u200b", "Hamburg"], ["O", "B-LOC", "B-LOC"])
    (window,), stats = encode([sentence], tokenizer, 128, LABEL2ID)
    assert stats.words_without_subwords == 1
    assert [w for w, _ in window.words] == [0, 2]


def test_long_sentences_are_windowed_and_every_word_is_owned_once(tokenizer):
    words = (["Hamburg", "liegt", "Elbphilharmonie", "in", "北", "京"] * 100)[:600]
    tags = ["B-LOC" if w == "Hamburg" else "O" for w in words]
    tags[599] = "B-FACILITY"
    windows, stats = encode([Sentence(words, tags)], tokenizer, 64, LABEL2ID)
    assert stats.split_sentences == 1 and len(windows) > 10
    owned = [w for window in windows for w, _ in window.words]
    assert owned == list(range(600))
    assert all(len(window.input_ids) <= 64 for window in windows)
    assert windows[-1].labels[windows[-1].words[-1][1]] == LABEL2ID["B-FACILITY"]
    # context words around owned ones are present but unlabelled
    assert sum(x != -100 for window in windows for x in window.labels) == 600


def test_plan_windows_with_context():
    plans = plan_windows([1] * 20, 8)
    assert [p[1:3] for p in plans] == [(0, 6), (6, 12), (12, 18), (18, 20)]
    assert plans[1] == (5, 6, 12, 13)
    assert plan_windows([3, 3], 8) == [(0, 0, 2, 2)]


def test_special_tokens_and_collate(tokenizer):
    prefix, suffix = special_tokens(tokenizer)
    assert prefix == [tokenizer.cls_token_id] and suffix == [tokenizer.sep_token_id]
    batch = collate([{"input_ids": [0, 5, 2], "labels": [-100, 1, -100]}, {"input_ids": [0, 2], "labels": []}], 1)
    assert batch["input_ids"].tolist() == [[0, 5, 2], [0, 2, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, 1, -100], [-100, -100, -100]]


def test_token_budget_batches_keep_long_windows_apart():
    from labelgrow.inference import token_budget_batches

    lengths = [388, 108, 95, 20, 20, 20, 20, 20, 10]
    batches = token_budget_batches(lengths, batch_size=4)  # at most 4 windows and 256 padded tokens
    assert batches == [[0], [1, 2], [3, 4, 5, 6], [7, 8]]
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
