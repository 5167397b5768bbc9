"""``labelgrow compress``: layer selection, the shrunk model's copied weights, the loss it trains with, and the
command end to end on a tiny grown model (ordinary checkpoint, labelgrow.json, the side-by-side comparison)."""

from __future__ import annotations

import json

import pytest
import torch

from labelgrow.errors import LabelgrowError
from labelgrow.modeling import encoder_layers, select_layers, shrink_encoder
from tests.helpers import extend_args, run_cli
from tests.tiny_models import build_token_classifier


@pytest.mark.parametrize(
    ("total", "count", "select", "expected"),
    [
        (12, 6, "every-other", [1, 3, 5, 7, 9, 11]),
        (12, 4, "every-other", [2, 5, 8, 11]),
        (12, 12, "every-other", list(range(12))),
        (3, 1, "every-other", [2]),  # one layer: the last, whose output the head was trained on
        (12, 3, "first", [0, 1, 2]),
        (12, 3, "last", [9, 10, 11]),
        (12, 99, "0,4,11", [0, 4, 11]),  # explicit indices: the count is theirs
    ],
)
def test_select_layers(total, count, select, expected):
    assert select_layers(total, count, select) == expected


@pytest.mark.parametrize(
    ("count", "select", "message"),
    [
        (13, "every-other", "--layers 13: must be between 1 and the model's 12 encoder layers"),
        (0, "first", "--layers 0: must be between 1"),
        (2, "0,12", r"--select 0,12: layer indices must be in 0\.\.11"),
        (2, "4,2", "give each layer once, in increasing order"),
        (2, "middle", "--select 'middle': one of every-other, first, last, or layer indices"),
    ],
)
def test_select_layers_refuses(count, select, message):
    with pytest.raises(LabelgrowError, match=message):
        select_layers(12, count, select)


def test_shrink_encoder_copies_the_kept_layers_embeddings_and_head_exactly(tokenizer, tmp_path):
    from transformers import AutoModelForTokenClassification

    full = build_token_classifier(None, tokenizer)
    small = shrink_encoder(full, [0, 2])
    assert small.config.num_hidden_layers == 2 and full.config.num_hidden_layers == 3  # the full model untouched
    for kept, source in zip(encoder_layers(small), [0, 2], strict=True):
        for (name, p), q in zip(
            kept.state_dict().items(), encoder_layers(full)[source].state_dict().values(), strict=True
        ):
            assert torch.equal(p, q), name
        assert kept is not encoder_layers(full)[source]  # a copy: training the student leaves the teacher as it is
    assert torch.equal(small.classifier.weight, full.classifier.weight)
    assert torch.equal(
        small.base_model.embeddings.word_embeddings.weight, full.base_model.embeddings.word_embeddings.weight
    )
    ids = tokenizer(["Angela Merkel visited Hamburg ."], return_tensors="pt")
    with torch.no_grad():  # every layer kept: the very same function
        assert torch.equal(shrink_encoder(full, [0, 1, 2])(**ids).logits, full(**ids).logits)
        small.save_pretrained(str(tmp_path))
        loaded = AutoModelForTokenClassification.from_pretrained(str(tmp_path)).eval()
        assert torch.equal(loaded(**ids).logits, small.eval()(**ids).logits)


def test_the_distillation_loss_is_zero_where_the_student_is_the_teacher_and_ce_only_on_gold_entities():
    from labelgrow.losses import LossConfig, compute_loss

    logits = torch.tensor([[[2.0, 0.5, -1.0, 0.3, 1.0], [0.0, 3.0, 0.0, -2.0, 0.5]]])
    every = LossConfig("o-aware", 0.5, 2.0, 0.0, num_old=5, outside_id=0)  # compress: every label is "old"
    raw = compute_loss(logits, torch.tensor([[0, 0]]), logits.clone(), every)
    assert raw.loss.item() == pytest.approx(0.0, abs=1e-6)  # gold O (raw text): KD on all labels, no CE
    gold = compute_loss(logits, torch.tensor([[0, 1]]), logits.clone(), every)
    ce = -torch.log_softmax(logits[0, 1], -1)[1].item()
    assert gold.loss.item() == pytest.approx(0.5 * ce / 2, rel=1e-5)  # (1 - alpha) * CE on the entity, mean of 2


def test_hidden_state_distance_on_hand_made_states():
    from labelgrow.losses import hidden_state_distance

    a = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]]])  # [B=1, L=3, H=2]
    same, opposite = a.clone() * 5, -a  # the scale does not count, the direction does
    orthogonal = torch.tensor([[[0.0, 1.0], [-2.0, 0.0], [-4.0, 3.0]]])
    assert torch.allclose(hidden_state_distance([a], [same]), torch.zeros(1, 3), atol=1e-6)
    assert torch.allclose(hidden_state_distance([a], [opposite]), torch.full((1, 3), 2.0))
    assert torch.allclose(hidden_state_distance([a], [orthogonal]), torch.ones(1, 3), atol=1e-6)
    # several layer pairs: their mean
    assert torch.allclose(hidden_state_distance([a, a], [same, opposite]), torch.ones(1, 3), atol=1e-6)


def test_hidden_kd_adds_its_weighted_distance_on_scored_words_only():
    from labelgrow.losses import LossConfig, compute_loss, hidden_state_distance

    logits = torch.tensor([[[2.0, 0.5, -1.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]]])
    teacher = logits + torch.tensor([0.5, -0.5, 0.0])
    labels = torch.tensor([[0, 1, -100]])  # the third position is not scored
    student_h = [torch.tensor([[[1.0, 0.0], [1.0, 1.0], [5.0, 5.0]]])]
    teacher_h = [torch.tensor([[[0.0, 1.0], [1.0, 1.0], [-5.0, -5.0]]])]
    plain = compute_loss(logits, labels, teacher, LossConfig("o-aware", 0.5, 2.0, 0.0, 3, 0))
    weighted = LossConfig("o-aware", 0.5, 2.0, 0.0, 3, 0, hidden_weight=0.3)
    with_hidden = compute_loss(logits, labels, teacher, weighted, hidden=(student_h, teacher_h))
    distance = hidden_state_distance(student_h, teacher_h)[0, :2]  # 1 (orthogonal) and 0 (the same)
    assert torch.allclose(distance, torch.tensor([1.0, 0.0]), atol=1e-6)
    assert with_hidden.loss.item() == pytest.approx(plain.loss.item() + 0.3 * distance.mean().item(), rel=1e-6)
    assert with_hidden.hidden.item() == pytest.approx(0.5) and plain.hidden is None
    assert compute_loss(logits, labels, teacher, weighted).loss.item() == pytest.approx(plain.loss.item())
    with pytest.raises(ValueError, match="--hidden-kd must be >= 0"):
        LossConfig(hidden_weight=-1.0)


@pytest.fixture(scope="module")
def grown(tmp_path_factory, teacher_dir):
    """A tiny model grown with FACILITY by extend (3 layers), and its training data."""
    from tests.tiny_models import TRAIN

    root = tmp_path_factory.mktemp("compress")
    for lang, text in TRAIN.items():
        (root / "data" / lang).mkdir(parents=True)
        (root / "data" / lang / "train.txt").write_text(text, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    try:
        import sys

        from labelgrow.cli import main

        mp.setattr(sys, "argv", ["labelgrow", *extend_args(teacher_dir, root / "data", root / "grown")])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code in (0, None)
    finally:
        mp.undo()
    return root


def test_compress_writes_a_small_ordinary_checkpoint_and_compares_it(grown, tmp_path, monkeypatch, capsys):
    from transformers import pipeline

    raw = tmp_path / "raw.txt"
    raw.write_text("Angela Merkel visited the Elbphilharmonie .\nHeathrow is big .\n", encoding="utf-8")
    out = tmp_path / "small"
    args = ["compress", "--model", str(grown / "grown"), "--train", str(grown / "data"), "--raw", str(raw)]
    args += ["--eval-data", str(grown / "data"), "--output", str(out), "--layers", "2", "--epochs", "1"]
    code, stdout, err = run_cli([*args, "--min-steps", "0", "--batch-size", "4"], monkeypatch, capsys)
    assert code == 0, err
    assert "encoder layers 1,2" in stdout and "student" in stdout and "words/s" in stdout
    run = json.loads((out / "labelgrow.json").read_text())
    full = json.loads((grown / "grown" / "labelgrow.json").read_text())
    assert run["kind"] == "compress" and run["labels"] == full["labels"] and run["new_types"] == ["FACILITY"]
    assert run["loss"]["mode"] == "distill" and "all labels" in run["loss"]["description"]
    assert [h.get("kind", "extend") for h in run["history"]] == ["extend", "compress"]
    assert run["history"][-1]["new_types"] == []  # compressing adds no label
    assert run["settings"]["select"] == "every-other" and run["settings"]["raw"] == [str(raw)]
    comparison = json.loads((out / "compress.json").read_text())
    models = comparison["models"]
    assert comparison["kept_layers"] == [1, 2] and models["full"]["layers"] == 3 and models["student"]["layers"] == 2
    assert models["student"]["parameters"] < models["full"]["parameters"]
    assert set(models["student"]["f1"]) == {"en", "de", "zh"} and models["student"]["speedup"] > 0
    assert (
        models["student"]["drop"]["en"]["new"]
        == models["full"]["f1"]["en"]["new"] - models["student"]["f1"]["en"]["new"]
    )
    tagger = pipeline("token-classification", model=str(out), aggregation_strategy="simple")
    assert isinstance(tagger("Angela Merkel visited Hamburg ."), list)
    assert tagger.model.config.num_hidden_layers == 2 and tagger.model.config.id2label[7] == "B-FACILITY"


def test_compress_without_distillation_is_the_direct_baseline(grown, tmp_path, monkeypatch, capsys):
    out = tmp_path / "direct"
    args = ["compress", "--model", str(grown / "grown"), "--train", str(grown / "data"), "--output", str(out)]
    code, _, err = run_cli(
        [*args, "--no-distill", "--select", "first", "--layers", "1", "--min-steps", "0"], monkeypatch, capsys
    )
    assert code == 0, err
    run = json.loads((out / "labelgrow.json").read_text())
    assert run["loss"]["mode"] == "direct" and run["settings"]["distill"] is False
    assert not (out / "compress.json").exists()  # nothing to compare without --eval-data


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layers", "4"], "--layers 4: must be between 1 and the model's 3 encoder layers"),
        (["--select", "0,5"], r"layer indices must be in 0\.\.2"),
        (["--layers", "2", "--select", "0,1,2"], "--layers 2 but --select 0,1,2 names 3 layers"),
        (["--no-distill", "--raw", "RAW"], "--raw is text for distillation; --no-distill cannot use it"),
        (["--no-distill", "--hidden-kd", "1"], "--hidden-kd distils hidden states; --no-distill has no teacher"),
        (["--hidden-kd", "-0.5"], "--hidden-kd must be >= 0, not -0.5"),
    ],
)
def test_compress_refuses_bad_input_in_one_line(grown, tmp_path, monkeypatch, capsys, extra, message):
    import re

    extra = [str(tmp_path / "raw.txt") if x == "RAW" else x for x in extra]
    (tmp_path / "raw.txt").write_text("some text\n", encoding="utf-8")
    args = [
        "compress",
        "--model",
        str(grown / "grown"),
        "--train",
        str(grown / "data"),
        "--output",
        str(tmp_path / "o"),
    ]
    code, _, err = run_cli([*args, *extra], monkeypatch, capsys)
    assert code == 2 and re.search(message, err), err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_compress_names_an_empty_raw_file_and_needs_some_text(grown, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    base = ["compress", "--model", str(grown / "grown"), "--output", str(tmp_path / "o"), "--layers", "2"]
    code, _, err = run_cli([*base, "--raw", str(empty)], monkeypatch, capsys)
    assert code == 2 and str(empty) in err, err
    code, _, err = run_cli(base, monkeypatch, capsys)
    assert code == 2 and "--train or --raw is required" in err


def test_compress_with_hidden_kd_pairs_each_kept_layer_with_its_original(grown, tmp_path, monkeypatch, capsys):
    from accelerate import PartialState

    from labelgrow.compression import CompressArguments, _build, _plan
    from labelgrow.extension import train

    args = CompressArguments(
        model=str(grown / "grown"),
        train=[str(grown / "data")],
        output=str(tmp_path / "small"),
        layers=2,
        select="0,2",
        hidden_kd=1.0,
        epochs=1,
        min_steps=0,
        batch_size=4,
        logging_steps=1,
        cpu=True,
    )
    planned = _plan(args)
    models, keep = _build(args, planned)
    assert keep == [0, 2] and models.hidden_pairs == ((1, 1), (2, 3))  # hidden_states[0]: the embeddings
    assert models.loss_config.hidden_weight == 1.0
    from labelgrow.losses import hidden_state_distance

    ids = torch.tensor([models.features[0]["input_ids"]])
    with torch.no_grad():
        student = models.student.eval()(input_ids=ids, output_hidden_states=True).hidden_states
        full = models.teacher(input_ids=ids, output_hidden_states=True).hidden_states
    first, second = (hidden_state_distance([student[s]], [full[t]]) for s, t in models.hidden_pairs)
    assert first.abs().max() < 1e-5  # the copy of layer 0 reads the same embeddings: the same output
    assert second.max() > 1e-4  # the copy of layer 2 now reads layer 0's output, not layer 1's
    models.student.train()
    trainer, *_ = train(args, planned, models, PartialState(cpu=True), tmp_path / "small")
    assert trainer.shared_trunk is None  # the full model needs its own hidden states
    logged = [e for e in trainer.state.log_history if "hidden" in e]
    assert logged and all(0.0 <= e["hidden"] <= 2.0 for e in logged)
    # end to end: the option reaches labelgrow.json
    out = tmp_path / "cli"
    cli = ["compress", "--model", str(grown / "grown"), "--train", str(grown / "data"), "--output", str(out)]
    code, _, err = run_cli([*cli, "--layers", "2", "--hidden-kd", "0.5", "--min-steps", "0"], monkeypatch, capsys)
    assert code == 0, err
    run = json.loads((out / "labelgrow.json").read_text())
    assert run["settings"]["hidden_kd"] == 0.5 and run["loss"]["hidden_kd"] == 0.5
    assert "0.5 x hidden-state distillation" in run["loss"]["description"]
