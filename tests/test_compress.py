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
