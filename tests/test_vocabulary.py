"""--add-tokens: domain words added to the tokenizer, their embedding rows from their old sub-words, trained alone."""

from __future__ import annotations

import json

import pytest
import torch

from labelgrow.errors import LabelgrowError
from labelgrow.labels import LabelSet
from labelgrow.modeling import build_student, freeze, load_base
from labelgrow.vocabulary import add_domain_words, grow_embeddings, read_word_list, train_added_rows
from tests.helpers import extend_args, run_cli

WORDS = "Elbphilharmonie\nHeathrow\n\nHa\nHeathrow\n"  # Ha: already one token ('▁Ha'); Heathrow twice


def fresh_tokenizer(tokenizer_dir):
    """Its own copy: adding words must not change the session's tokenizer."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


def word_file(tmp_path, text=WORDS):
    path = tmp_path / "words.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_word_list_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(LabelgrowError, match="no such file"):
        read_word_list(tmp_path / "missing.txt")
    with pytest.raises(LabelgrowError, match="the file has no words"):
        read_word_list(word_file(tmp_path, "\n  \n"))
    with pytest.raises(LabelgrowError, match=r"words.txt:2: 'Deutsche Post' has a space in it"):
        read_word_list(word_file(tmp_path, "DHL\nDeutsche Post\n"))
    assert read_word_list(word_file(tmp_path, "DHL\n\n  Hermes \n")) == [(1, "DHL"), (3, "Hermes")]


def test_words_become_single_tokens_and_known_or_repeated_words_are_skipped(tmp_path, tokenizer_dir):
    tokenizer = fresh_tokenizer(tokenizer_dir)
    vocab = len(tokenizer)
    old = {w: tokenizer([w], is_split_into_words=True, add_special_tokens=False)["input_ids"] for w in WORDS.split()}
    assert len(old["Ha"]) == 1 and len(old["Heathrow"]) > 1  # the fixture's vocabulary, as the test needs it
    domain = add_domain_words(tokenizer, word_file(tmp_path))
    assert domain.added == ["Elbphilharmonie", "Heathrow"] and domain.first_id == vocab
    assert domain.pieces == {"Elbphilharmonie": old["Elbphilharmonie"], "Heathrow": old["Heathrow"]}
    assert len(domain.skipped) == 2
    assert domain.skipped[0].endswith("words.txt:4 'Ha': already one token of the vocabulary ('▁Ha')")
    assert domain.skipped[1].endswith("words.txt:5 'Heathrow': repeats an earlier line")
    assert len(tokenizer) == vocab + 2
    words = ["flew", "from", "Heathrow", "to", "Elbphilharmonie", "."]
    split = tokenizer(words, is_split_into_words=True)
    assert tokenizer.convert_ids_to_tokens(split["input_ids"]).count("Heathrow") == 1
    assert [split.word_ids()[split["input_ids"].index(vocab + k)] for k in (0, 1)] == [4, 2]
    # running text (what pipeline() tokenises) gives the same ids as the words do, the word's offsets exactly it
    text = " ".join(words)
    running = tokenizer(text, return_offsets_mapping=True)
    assert running["input_ids"] == split["input_ids"]
    start, end = running["offset_mapping"][running["input_ids"].index(vocab + 1)]
    assert text[start:end] == "Heathrow"
    # only whole words: a longer word keeps its old sub-words
    longer = tokenizer(["Heathrows"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    assert vocab + 1 not in longer and len(longer) > 1
    record = domain.record()
    assert record["added"] == 2 and record["words"] == ["Elbphilharmonie", "Heathrow"]
    assert record["mean_subwords_before"] == pytest.approx((len(old["Elbphilharmonie"]) + len(old["Heathrow"])) / 2)


def test_nothing_to_add_is_an_error(tmp_path, tokenizer_dir):
    with pytest.raises(LabelgrowError, match=r"nothing to add: .*words.txt:1 'Ha': already one token"):
        add_domain_words(fresh_tokenizer(tokenizer_dir), word_file(tmp_path, "Ha\n"))


def test_added_rows_are_the_mean_of_the_old_subwords_and_nothing_else_changes(tmp_path, tokenizer_dir, teacher_dir):
    tokenizer = fresh_tokenizer(tokenizer_dir)
    base = load_base(str(teacher_dir))
    original = base.teacher.get_input_embeddings().weight.clone()
    plain = "Angela Merkel visited the Louvre Museum in Paris .".split()  # no added word in it
    before = tokenizer(plain, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        reference = base.teacher(**before).logits
    domain = add_domain_words(tokenizer, word_file(tmp_path))
    student = build_student(base, LabelSet(tuple(base.old_labels), ("FACILITY",))).eval()
    for model in (student, base.teacher):
        grow_embeddings(model, domain)
    rows = base.teacher.get_input_embeddings().weight
    assert rows.shape[0] == len(tokenizer) and base.teacher.config.vocab_size == len(tokenizer)
    assert torch.equal(rows[: domain.first_id], original)
    for row, ids in enumerate(domain.pieces.values(), start=domain.first_id):
        assert torch.allclose(rows[row], original[ids].mean(0))
    assert not rows.requires_grad  # the teacher stays frozen
    after = tokenizer(plain, is_split_into_words=True, return_tensors="pt")
    assert torch.equal(after["input_ids"], before["input_ids"])
    with torch.no_grad():
        assert torch.equal(base.teacher(**after).logits, reference)  # text without the words: exactly as before
        # the student's larger head may round differently in the last bit (as in test_modeling's step-0 test)
        assert (student(**after).logits[..., :7] - reference).abs().max() <= 1e-5
        text = tokenizer("Barack Obama flew from Heathrow to the Elbphilharmonie .".split(), is_split_into_words=True)
        ids = torch.tensor([text["input_ids"]])
        assert domain.first_id in ids and domain.first_id + 1 in ids
        # and with them, student and teacher still agree exactly at step 0
        grown_teacher = base.teacher(input_ids=ids).logits
        assert (student(input_ids=ids).logits[..., :7] - grown_teacher).abs().max() <= 1e-5


def test_a_padded_embedding_matrix_lends_its_unused_rows(tmp_path, tokenizer_dir):
    from tests.tiny_models import build_token_classifier

    tokenizer = fresh_tokenizer(tokenizer_dir)
    model = build_token_classifier(None, tokenizer)
    model.resize_token_embeddings(len(tokenizer) + 8, mean_resizing=False)  # vocab_size rounded up, as some are
    before = model.get_input_embeddings().weight.clone()
    domain = add_domain_words(tokenizer, word_file(tmp_path))
    grow_embeddings(model, domain)
    after = model.get_input_embeddings().weight
    assert after.shape[0] == domain.first_id + 8  # no new rows needed
    assert torch.equal(after[: domain.first_id], before[: domain.first_id])
    assert torch.allclose(after[domain.first_id + 1], before[domain.pieces["Heathrow"]].mean(0))
    assert torch.equal(after[domain.first_id + 2 :], before[domain.first_id + 2 :])


def test_only_the_added_rows_train_under_weight_decay(tmp_path, tokenizer_dir, teacher_dir):
    tokenizer = fresh_tokenizer(tokenizer_dir)
    base = load_base(str(teacher_dir))
    domain = add_domain_words(tokenizer, word_file(tmp_path))
    student = build_student(base, LabelSet(tuple(base.old_labels), ("FACILITY",)))
    grow_embeddings(student, domain)
    frozen = freeze(student, 1)
    trainable_before = frozen.trainable
    train_added_rows(student, frozen, domain)
    weight = student.get_input_embeddings().weight
    hidden = weight.shape[1]
    assert frozen.added_rows == 2 and frozen.trainable == trainable_before + 2 * hidden
    assert frozen.fixed_rows == ["roberta.embeddings.word_embeddings.weight"]
    assert "frozen: embeddings but the 2 added token rows, 1 encoder layer(s)" in str(frozen)
    embeddings_block = student.roberta.embeddings
    assert all(m is not embeddings_block for m in frozen.modules)  # no longer a fixed block (no shared teacher)

    from transformers import TrainingArguments

    from labelgrow.trainer import LabelgrowTrainer

    args = TrainingArguments(str(tmp_path / "t"), learning_rate=0.1, weight_decay=0.5, use_cpu=True, report_to=[])
    from labelgrow.losses import LossConfig

    trainer = LabelgrowTrainer(
        model=student, args=args, teacher=None, loss_config=LossConfig("none"), fixed_rows=frozen.fixed_rows
    )
    optimizer = trainer.create_optimizer()
    decayed = {id(p) for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    assert id(weight) not in decayed and decayed  # other parameters still decay
    old_rows, new_rows = weight[: domain.first_id].clone(), weight[domain.first_id :].clone()
    ids = torch.tensor([[0, domain.first_id, 5, domain.first_id + 1, 7, 2]])
    for _ in range(3):
        student(input_ids=ids).logits.logsumexp(-1).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    assert torch.equal(weight[: domain.first_id], old_rows)
    assert not torch.equal(weight[domain.first_id :], new_rows)


def test_extend_add_tokens_end_to_end(teacher_dir, data_dir, tmp_path, monkeypatch, capsys, caplog):
    output = tmp_path / "out"
    words = word_file(tmp_path)
    code, _, err = run_cli(extend_args(teacher_dir, data_dir, output, "--add-tokens", str(words)), monkeypatch, capsys)
    assert code == 0, err
    assert "--add-tokens: 2 word(s) added to the vocabulary" in caplog.text and "'Ha': already one token" in caplog.text
    run = json.loads((output / "labelgrow.json").read_text())
    assert run["settings"]["add_tokens"] == str(words)
    assert run["added_tokens"]["words"] == ["Elbphilharmonie", "Heathrow"] and len(run["added_tokens"]["skipped"]) == 2
    assert "but the 2 added token rows" in run["parameters"]["summary"]
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, pipeline

    first = run["added_tokens"]["first_id"]
    grown = load_file(str(output / "model.safetensors"))["roberta.embeddings.word_embeddings.weight"]
    base = load_file(str(teacher_dir / "model.safetensors"))["roberta.embeddings.word_embeddings.weight"]
    assert grown.shape[0] == first + 2 and torch.equal(grown[:first], base)  # weight decay 0.01 did not touch them
    assert len(AutoTokenizer.from_pretrained(str(output))) == first + 2
    entities = pipeline("token-classification", model=str(output))("Barack Obama flew from Heathrow to Berlin .")
    assert all(e["end"] <= len("Barack Obama flew from Heathrow to Berlin .") for e in entities)


def test_extend_add_tokens_bad_file(teacher_dir, data_dir, tmp_path, monkeypatch, capsys):
    output = tmp_path / "out"
    code, _, err = run_cli(
        extend_args(teacher_dir, data_dir, output, "--add-tokens", str(tmp_path / "none.txt")), monkeypatch, capsys
    )
    assert code != 0 and "--add-tokens" in err and "none.txt: no such file" in err and not output.exists()
    code, _, err = run_cli(
        extend_args(teacher_dir, data_dir, output, "--add-tokens", str(word_file(tmp_path, "Ha\n"))),
        monkeypatch,
        capsys,
    )
    assert code != 0 and "nothing to add" in err and "words.txt:1 'Ha'" in err and not output.exists()
