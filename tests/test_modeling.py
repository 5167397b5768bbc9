from __future__ import annotations

import pytest
import torch

from labelgrow.errors import LabelgrowError
from labelgrow.labels import LabelSet
from labelgrow.modeling import build_student, expand_classifier, freeze, frozen_count, load_base
from tests.tiny_models import build_token_classifier

SHUFFLED = ["B-LOC", "O", "I-PER", "B-PER", "I-LOC", "B-ORG", "I-ORG"]


def random_batch(vocab: int, seed: int, batch: int = 8, length: int = 40):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (batch, length), generator=g)
    mask = torch.ones_like(ids)
    mask[: batch // 2, length // 2 :] = 0
    return ids, mask


def test_step_zero_student_equals_teacher_on_any_input(tmp_path, tokenizer):
    build_token_classifier(tmp_path, tokenizer, labels=SHUFFLED, seed=3)
    base = load_base(str(tmp_path))
    labels = LabelSet(tuple(base.old_labels), ("FACILITY", "PHONE"))
    student = build_student(base, labels).eval()
    assert base.old_labels == SHUFFLED
    assert [student.config.id2label[i] for i in range(11)] == [
        *SHUFFLED,
        "B-FACILITY",
        "I-FACILITY",
        "B-PHONE",
        "I-PHONE",
    ]
    assert student.config.label2id["B-PHONE"] == 9
    for seed in range(20):
        ids, mask = random_batch(len(tokenizer), seed)
        with torch.no_grad():
            old = base.teacher(input_ids=ids, attention_mask=mask).logits
            new = student(input_ids=ids, attention_mask=mask).logits
        assert new.shape[-1] == 11
        assert (new[..., :7] - old).abs().max().item() <= 1e-5
        assert torch.equal(new.argmax(-1), old.argmax(-1))
    # the teacher is frozen and in eval mode; the student trains
    assert not base.teacher.training and not any(p.requires_grad for p in base.teacher.parameters())


def test_old_rows_are_copied_exactly_and_new_rows_sit_below_outside(tokenizer):
    model = build_token_classifier(None, tokenizer, labels=SHUFFLED)
    old_w, old_b = model.classifier.weight.clone(), model.classifier.bias.clone()
    labels = LabelSet(tuple(SHUFFLED), ("FACILITY",))
    expand_classifier(model, labels)
    assert torch.equal(model.classifier.weight[:7], old_w) and torch.equal(model.classifier.bias[:7], old_b)
    assert torch.equal(model.classifier.weight[7], old_w[1]) and torch.equal(model.classifier.weight[8], old_w[1])
    assert model.classifier.bias[7].item() == pytest.approx(old_b[1].item() - 4.0)
    assert model.config.num_labels == 9


def test_extreme_hidden_states_never_flip_the_argmax(tokenizer):
    model = build_token_classifier(None, tokenizer, labels=SHUFFLED)
    head_before = torch.nn.Linear(32, 7)
    head_before.load_state_dict(model.classifier.state_dict())
    expand_classifier(model, LabelSet(tuple(SHUFFLED), ("FACILITY",)))
    hidden = torch.randn(10000, 32) * 100
    with torch.no_grad():
        assert torch.equal(model.classifier(hidden).argmax(-1), head_before(hidden).argmax(-1))


def test_new_rows_from_parents_start_from_their_rows_and_never_flip_the_argmax(tokenizer):
    """--new-rows-from parent: CORP=ORG starts as ORG's rows (B to B, I to I), FACILITY=LOC,ORG as their mean, both
    4 below; a type without a parent stays a copy of O. Step 0 is the teacher's on any hidden state."""
    model = build_token_classifier(None, tokenizer, labels=SHUFFLED)
    w, b = model.classifier.weight.clone(), model.classifier.bias.clone()
    head_before = torch.nn.Linear(32, 7)
    head_before.load_state_dict(model.classifier.state_dict())
    labels = LabelSet(tuple(SHUFFLED), ("CORP", "FACILITY", "PHONE"))
    expand_classifier(model, labels, {"CORP": ["ORG"], "FACILITY": ["LOC", "ORG"]})
    row = {label: i for i, label in enumerate(labels.labels)}
    head = model.classifier
    ids = {t: SHUFFLED.index(t) for t in SHUFFLED}
    assert torch.equal(head.weight[row["B-CORP"]], w[ids["B-ORG"]]) and torch.equal(
        head.weight[row["I-CORP"]], w[ids["I-ORG"]]
    )
    assert head.bias[row["B-CORP"]].item() == pytest.approx(b[ids["B-ORG"]].item() - 4.0)
    mean_b = (w[ids["B-LOC"]] + w[ids["B-ORG"]]) / 2
    assert torch.allclose(head.weight[row["B-FACILITY"]], mean_b)
    assert head.bias[row["I-FACILITY"]].item() == pytest.approx((b[ids["I-LOC"]] + b[ids["I-ORG"]]).item() / 2 - 4.0)
    assert torch.equal(head.weight[row["B-PHONE"]], w[ids["O"]])  # no parent: O's row, as without parents
    assert torch.equal(head.weight[:7], w) and torch.equal(head.bias[:7], b)
    hidden = torch.randn(10000, 32) * 100
    with torch.no_grad():
        assert torch.equal(head(hidden).argmax(-1), head_before(hidden).argmax(-1))


def test_new_rows_from_parent_needs_a_parent(tmp_path):
    from labelgrow.configuration import ExtendArguments

    common = {"base": "b", "new_labels": ["CORP"], "train": ["t.txt"], "output": str(tmp_path / "o")}
    with pytest.raises(LabelgrowError, match=r"--new-rows-from parent .* declare them with --parent"):
        ExtendArguments(**common, new_rows_from="parent")
    with pytest.raises(LabelgrowError, match="--new-rows-from must be one of o, parent, not 'mean'"):
        ExtendArguments(**common, new_rows_from="mean")
    assert ExtendArguments(**common, new_rows_from="parent", parent=["CORP=ORG"]).new_rows_from == "parent"


def test_plain_encoder_bootstraps_a_first_ner_model(encoder_dir, caplog):
    base = load_base(str(encoder_dir))
    assert base.teacher is None and base.old_labels == ["O"]
    assert "no trained BIO NER head" in caplog.text
    student = build_student(base, LabelSet(("O",), ("PER", "LOC")))
    assert student.config.id2label == {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    assert student.classifier.out_features == 5


@pytest.mark.parametrize("model_type", ["xlm-roberta", "bert", "deberta-v2"])
def test_freeze_embeddings_and_first_layers(tokenizer, model_type):
    model = build_token_classifier(None, tokenizer, model_type=model_type)
    summary = freeze(model, 2, embeddings=True)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    base = model.base_model_prefix
    assert frozen, "something must be frozen"
    for name, param in model.named_parameters():
        expect_frozen = name.startswith(f"{base}.embeddings.") or any(
            name.startswith(f"{base}.encoder.layer.{i}.") for i in (0, 1)
        )
        assert (not param.requires_grad) == expect_frozen, name
    assert summary.trainable == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert "frozen: embeddings, 2 encoder layer(s)" in str(summary)


def test_freeze_nothing_and_too_many_layers(tokenizer):
    model = build_token_classifier(None, tokenizer)
    summary = freeze(model, 0, embeddings=False)
    assert summary.trainable == summary.total
    with pytest.raises(LabelgrowError, match="--freeze-layers 9: the model has only 3 encoder layers"):
        freeze(model, 9)


@pytest.mark.parametrize(
    ("layers", "total", "expected"),
    [(4, 12, 4), ("all", 12, 12), ("1/3", 12, 4), ("1/3", 24, 8), ("1/3", 3, 1), ("1/2", 3, 2), ("0/5", 12, 0)],
)
def test_a_fraction_of_the_layers_scales_with_the_depth(layers, total, expected):
    assert frozen_count(layers, total) == expected


def test_freeze_a_fraction_of_the_encoder(tokenizer):
    """--freeze-layers 2/3 of the tiny 3-layer model: layers 0 and 1, as --freeze-layers 2 would."""
    model = build_token_classifier(None, tokenizer)
    summary = freeze(model, "2/3", embeddings=False)
    assert summary.frozen_layers == 2 and "frozen: 2 encoder layer(s)" in str(summary)
    frozen = {n.split(".")[3] for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"0", "1"}


def test_base_errors(tmp_path, teacher_dir, tokenizer):
    with pytest.raises(LabelgrowError, match="no such directory"):
        load_base(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabelgrowError, match=r"has no config\.json, so it is not a model checkpoint"):
        load_base(str(tmp_path / "empty"))


def test_tokenizer_that_does_not_match_the_model(tmp_path, tokenizer):
    build_token_classifier(tmp_path, tokenizer, vocab_size=50)
    with pytest.raises(LabelgrowError, match=r"tokenizer has \d+ tokens but the model's embeddings have 50 rows"):
        load_base(str(tmp_path))


def test_pickle_weights_need_allow_pickle(tmp_path, tokenizer):
    model = build_token_classifier(None, tokenizer)
    model.config.save_pretrained(str(tmp_path))
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")  # an old-style pickle checkpoint
    tokenizer.save_pretrained(str(tmp_path))
    with pytest.raises(LabelgrowError, match="--allow-pickle"):
        load_base(str(tmp_path))
    assert load_base(str(tmp_path), allow_pickle=True).teacher is not None


def test_reset_head_discards_every_row(tokenizer):
    from labelgrow.modeling import reset_classifier

    model = build_token_classifier(None, tokenizer, labels=SHUFFLED)
    expand_classifier(model, LabelSet(tuple(SHUFFLED), ("FACILITY",)))
    before = model.classifier.weight.clone()
    reset_classifier(model)
    assert not torch.equal(model.classifier.weight[:7], before[:7])
    assert model.classifier.bias.abs().sum() == 0 and model.classifier.weight.std() < 0.05


def test_freeze_old_rows_keeps_them_exact_through_training_steps(tokenizer):
    from labelgrow.modeling import freeze_old_rows

    model = build_token_classifier(None, tokenizer, labels=SHUFFLED)
    expand_classifier(model, LabelSet(tuple(SHUFFLED), ("FACILITY",)))
    freeze_old_rows(model, 7)
    old_w, old_b = model.classifier.weight[:7].clone(), model.classifier.bias[:7].clone()
    new_w = model.classifier.weight[7:].clone()
    optimizer = torch.optim.AdamW(model.classifier.parameters(), lr=0.1, weight_decay=0.0)
    ids, mask = random_batch(len(tokenizer), 0)
    for _ in range(3):
        model(input_ids=ids, attention_mask=mask).logits.logsumexp(-1).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    assert torch.equal(model.classifier.weight[:7], old_w) and torch.equal(model.classifier.bias[:7], old_b)
    assert not torch.equal(model.classifier.weight[7:], new_w)  # the new rows learned


def test_interpolate_with_teacher_mixes_shared_weights_and_keeps_new_rows(tokenizer):
    from labelgrow.modeling import interpolate_with_teacher

    teacher = build_token_classifier(None, tokenizer, labels=SHUFFLED, seed=1)
    student = build_token_classifier(None, tokenizer, labels=SHUFFLED, seed=2)
    expand_classifier(student, LabelSet(tuple(SHUFFLED), ("FACILITY",)))
    before = {n: p.clone() for n, p in student.named_parameters()}
    interpolate_with_teacher(student, teacher, 0.25)
    mine = dict(student.named_parameters())
    for name, theirs in teacher.named_parameters():
        rows = theirs.shape[0] if theirs.dim() else None
        expected = 0.25 * before[name][:rows] + 0.75 * theirs
        assert torch.allclose(mine[name][:rows], expected, atol=1e-6), name
    assert torch.equal(mine["classifier.weight"][7:], before["classifier.weight"][7:])
    with pytest.raises(LabelgrowError, match=r"interpolation weight must be in \[0, 1\]"):
        interpolate_with_teacher(student, teacher, 1.5)


def test_fixed_rows_are_kept_out_of_weight_decay_with_or_without_a_head_rate(tmp_path, tokenizer):
    """Decoupled weight decay would shrink rows whose gradient is zeroed: the trainer must not decay them, whether
    it builds its own groups (a head learning rate) or the Trainer's (none)."""
    from transformers import TrainingArguments

    from labelgrow.losses import LossConfig
    from labelgrow.modeling import freeze_old_rows
    from labelgrow.trainer import LabelgrowTrainer

    for head_rate in (3e-3, None):
        model = build_token_classifier(None, tokenizer, labels=SHUFFLED)
        expand_classifier(model, LabelSet(tuple(SHUFFLED), ("FACILITY",)))
        fixed = freeze_old_rows(model, 7)
        assert fixed == ["classifier.weight", "classifier.bias"]
        args = TrainingArguments(str(tmp_path), learning_rate=0.1, weight_decay=0.5, use_cpu=True, report_to=[])
        trainer = LabelgrowTrainer(
            model=model,
            args=args,
            teacher=None,
            loss_config=LossConfig("none"),
            head_learning_rate=head_rate,
            fixed_rows=fixed,
        )
        optimizer = trainer.create_optimizer()
        decayed = {id(p) for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
        assert decayed and id(model.classifier.weight) not in decayed
        old = model.classifier.weight[:7].clone()
        ids, mask = random_batch(len(tokenizer), 0)
        for _ in range(2):
            model(input_ids=ids, attention_mask=mask).logits.logsumexp(-1).sum().backward()
            optimizer.step()
            optimizer.zero_grad()
        assert torch.equal(model.classifier.weight[:7], old)
