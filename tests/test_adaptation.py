"""``labelgrow adapt``: whole-word masking, the LM head over the tied embeddings (and one taken from a masked-LM
checkpoint), the loss on hand-made tensors, the head warm-up, distillation keeping the tags, and the command end
to end (ordinary checkpoint, labelgrow.json, the re-check) with its errors."""

from __future__ import annotations

import json
import random

import pytest
import torch
import torch.nn.functional as F

from labelgrow.adaptation import adapt_loss, mask_whole_words, mlm_head_for, word_spans
from labelgrow.data import Sentence
from labelgrow.errors import LabelgrowError
from labelgrow.features import encode
from labelgrow.losses import IGNORE_INDEX
from tests.helpers import run_cli
from tests.tiny_models import OLD_LABELS, build_token_classifier, tiny_config

RAW = [
    "Angela Merkel visited the Elbphilharmonie in Hamburg with Siemens engineers .",
    "Barack Obama flew from Heathrow Airport to Berlin Hauptbahnhof yesterday .",
    "Der Flughafen München ist ein großer Flughafen in Bayern .",
    "马云在杭州创立了阿里巴巴公司。",
    "Marie Curie worked at the Sorbonne University in Paris .",
    "Volkswagen baut eine Fabrik in Wolfsburg bei Hannover .",
]


class FixedRoll(random.Random):
    """random() always returns ``roll``: picks one branch of the 80/10/10 rule."""

    def __init__(self, roll: float) -> None:
        super().__init__(0)
        self.roll = roll

    def random(self) -> float:
        return self.roll


def test_whole_words_are_masked_together_and_only_inside_words():
    ids = [0, 10, 11, 12, 20, 30, 31, 2]  # <s> w1(3 pieces) w2(1) w3(2) </s>
    spans = [(1, 4), (4, 5), (5, 7)]
    masked, labels = mask_whole_words(ids, spans, 0.5, FixedRoll(0.1), mask_id=99, vocab_size=100)
    chosen = [span for span in spans if labels[span[0]] != IGNORE_INDEX]
    assert len(chosen) == 2  # round(0.5 * 3 words)
    for start, end in spans:
        picked = (start, end) in chosen
        for p in range(start, end):  # all of a word's sub-words, or none
            assert (labels[p] == ids[p]) is picked and (masked[p] == 99) is picked
    assert labels[0] == labels[-1] == IGNORE_INDEX and masked[0] == 0 and masked[-1] == 2  # specials untouched
    # 10 % keep the word (still a target), 10 % random tokens
    kept, labels_kept = mask_whole_words(ids, spans, 0.5, FixedRoll(0.95), 99, 100)
    assert kept == ids and sum(x != IGNORE_INDEX for x in labels_kept) >= 2
    # at least one word even where the share rounds to none
    _, few = mask_whole_words(ids, spans, 0.01, FixedRoll(0.1), 99, 100)
    assert sum(x != IGNORE_INDEX for x in few) >= 1
    assert mask_whole_words(ids, [], 0.5, FixedRoll(0.1), 99, 100) == (ids, [IGNORE_INDEX] * len(ids))


def test_windows_know_where_each_word_ends(tokenizer):
    sentence = Sentence(["Elbphilharmonie", "in", "Hamburg", "."], None)
    (window,), _ = encode([sentence], tokenizer, 64)
    pieces = [len(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in sentence.tokens]
    starts = [p for _, p in window.words]
    assert [e - s for s, e in zip(starts, window.ends, strict=True)] == pieces
    assert starts[0] == 1 and window.ends[-1] == len(window.input_ids) - 1  # between <s> and </s>
    assert word_spans([window])[0]["spans"] == list(zip(starts, window.ends, strict=True))


def test_the_lm_head_reads_out_through_the_tied_embeddings_and_owns_none(tokenizer):
    model = build_token_classifier(None, tokenizer)
    head = mlm_head_for(model, None)
    assert not any(p is model.get_input_embeddings().weight for p in head.parameters())
    assert set(head.state_dict()) == {"dense.weight", "dense.bias", "layer_norm.weight", "layer_norm.bias", "bias"}
    hidden = torch.randn(5, model.config.hidden_size)
    logits = head(hidden)
    assert logits.shape == (5, len(tokenizer))
    expected = F.linear(head.layer_norm(F.gelu(head.dense(hidden))), model.get_input_embeddings().weight, head.bias)
    assert torch.allclose(logits, expected)


def test_the_lm_head_comes_from_a_masked_lm_checkpoint_of_the_same_vocabulary(tokenizer, tmp_path):
    from transformers import XLMRobertaForMaskedLM

    torch.manual_seed(3)
    donor = XLMRobertaForMaskedLM(tiny_config(len(tokenizer)))
    donor.save_pretrained(str(tmp_path / "mlm"))
    head = mlm_head_for(build_token_classifier(None, tokenizer), str(tmp_path / "mlm"))
    assert torch.equal(head.dense.weight, donor.lm_head.dense.weight)
    assert torch.equal(head.layer_norm.bias, donor.lm_head.layer_norm.bias)
    assert torch.equal(head.bias, donor.lm_head.bias)
    other = XLMRobertaForMaskedLM(tiny_config(len(tokenizer) + 8))
    other.save_pretrained(str(tmp_path / "other"))
    with pytest.raises(LabelgrowError, match=r"--mlm-head .*other: its head is \(32, 32\) over a vocabulary of"):
        mlm_head_for(build_token_classifier(None, tokenizer), str(tmp_path / "other"))
    with pytest.raises(LabelgrowError, match=r"--mlm-head .*missing: cannot load a masked-LM model"):
        mlm_head_for(build_token_classifier(None, tokenizer), str(tmp_path / "missing"))


def test_adapt_loss_by_hand():
    ner = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]]])  # [1, 3, 3]; position 2 is padding
    teacher = torch.tensor([[[2.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 9.0]]])
    attention = torch.tensor([[1, 1, 0]])
    mlm_labels = torch.tensor([[IGNORE_INDEX, 4, IGNORE_INDEX]])
    mlm_logits = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0]])
    loss, mlm, kd = adapt_loss(ner, mlm_logits, mlm_labels, teacher, attention, ner_kd=0.5, temperature=2.0)
    expected_mlm = -(4.0 - torch.logsumexp(torch.arange(5.0), 0))
    p = F.softmax(teacher[0, 1] / 2, -1)
    expected_kd = 4 * (p * (p.log() - F.log_softmax(ner[0, 1] / 2, -1))).sum() / 2  # position 0 agrees: 0
    assert torch.isclose(mlm, expected_mlm) and torch.isclose(kd, expected_kd)
    assert torch.isclose(loss, expected_mlm + 0.5 * expected_kd)
    # without a teacher (or --ner-kd 0) it is masked-LM alone
    loss, _, kd = adapt_loss(ner, mlm_logits, mlm_labels, None, attention, 0.5, 2.0)
    assert kd == 0 and torch.isclose(loss, expected_mlm)


def adapt_cli(model, raw, output, *extra) -> list[str]:
    return [
        "adapt",
        "--model",
        str(model),
        "--raw",
        str(raw),
        "--output",
        str(output),
        "--batch-size",
        "2",
        "--check-sentences",
        "10",
        *extra,
    ]


@pytest.fixture
def raw_file(tmp_path):
    path = tmp_path / "raw" / "en.txt"
    path.parent.mkdir()
    path.write_text("\n".join(RAW * 5) + "\n", encoding="utf-8")  # 30 texts: 6 held out, 24 train
    return path


def test_adapt_writes_an_ordinary_checkpoint_with_its_record_and_recheck(
    teacher_dir, raw_file, tmp_path, monkeypatch, capsys
):
    from safetensors.torch import load_file
    from transformers import pipeline

    out = tmp_path / "adapted"
    args = adapt_cli(teacher_dir, raw_file, out, "--max-steps", "6", "--head-warmup-steps", "2", "--lang", "en")
    code, stdout, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "held-out text (6 sentences)" in stdout and "entities kept" in stdout
    run = json.loads((out / "labelgrow.json").read_text())
    assert run["kind"] == "adapt" and run["labels"] == OLD_LABELS and run["old_types"] == ["PER", "ORG", "LOC"]
    assert run["new_types"] == [] and run["history"][-1]["kind"] == "adapt" and run["history"][-1]["new_types"] == []
    assert run["loss"]["mode"] == "mlm" and "masked-LM" in run["loss"]["description"]
    assert run["training"]["global_steps"] == 6 and run["data"]["train"][0]["path"] == str(raw_file)
    check = json.loads((out / "adapt.json").read_text())
    assert check["check_sentences"] == 6 and set(check["changes"]["changes"]) >= {"kept", "lost", "boundary"}
    assert 0.0 <= check["summary"]["check_same_tags"] <= 1.0
    before, after = load_file(str(teacher_dir / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert set(after) == set(before)  # the same classifier: no LM head in the checkpoint
    assert not torch.equal(
        before["roberta.encoder.layer.2.output.dense.weight"], after["roberta.encoder.layer.2.output.dense.weight"]
    )  # the encoder moved after the warm-up
    assert torch.equal(
        before["roberta.embeddings.word_embeddings.weight"], after["roberta.embeddings.word_embeddings.weight"]
    )
    tagger = pipeline("token-classification", model=str(out), aggregation_strategy="simple")
    assert isinstance(tagger("Angela Merkel visited Hamburg ."), list)


def test_during_the_head_warm_up_the_classifier_does_not_move(teacher_dir, raw_file, tmp_path, monkeypatch, capsys):
    from safetensors.torch import load_file

    out = tmp_path / "warm"
    args = adapt_cli(teacher_dir, raw_file, out, "--max-steps", "3", "--head-warmup-steps", "3", "--weight-decay", "0")
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    before, after = load_file(str(teacher_dir / "model.safetensors")), load_file(str(out / "model.safetensors"))
    for name, tensor in before.items():
        assert torch.equal(tensor, after[name]), name
    check = json.loads((out / "adapt.json").read_text())
    assert check["summary"]["check_same_tags"] == 1.0 and check["summary"]["check_kept"] == 1.0


def tag_distance(original_dir, adapted_dir, tokenizer) -> float:
    from transformers import AutoModelForTokenClassification

    inputs = tokenizer(RAW, return_tensors="pt", padding=True)
    with torch.no_grad():
        a = AutoModelForTokenClassification.from_pretrained(str(original_dir)).eval()(**inputs).logits
        b = AutoModelForTokenClassification.from_pretrained(str(adapted_dir)).eval()(**inputs).logits
    mask = inputs["attention_mask"].bool()
    p = F.log_softmax(a[mask], -1)
    return float((p.exp() * (p - F.log_softmax(b[mask], -1))).sum(-1).mean())


def test_distillation_keeps_the_tags_that_masked_lm_alone_moves(
    teacher_dir, raw_file, tokenizer, tmp_path, monkeypatch, capsys
):
    common = ["--max-steps", "15", "--head-warmup-steps", "0", "--learning-rate", "3e-3", "--check-sentences", "0"]
    for name, weight in (("plain", "0"), ("kd", "5")):
        code, _, err = run_cli(
            [*adapt_cli(teacher_dir, raw_file, tmp_path / name), *common, "--ner-kd", weight], monkeypatch, capsys
        )
        assert code == 0, err
    plain, kept = (
        tag_distance(teacher_dir, tmp_path / "plain", tokenizer),
        tag_distance(teacher_dir, tmp_path / "kd", tokenizer),
    )
    assert kept < 0.5 * plain, (plain, kept)


def test_adapt_with_gold_scores_both_models_side_by_side(
    teacher_dir, raw_file, data_dir, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "adapted"
    args = adapt_cli(teacher_dir, raw_file, out, "--max-steps", "2", "--eval-data", str(data_dir))
    code, stdout, err = run_cli([*args, "--label-map", str(write_drop_facility(tmp_path))], monkeypatch, capsys)
    assert code == 0, err
    check = json.loads((out / "adapt.json").read_text())
    models = check["models"]
    assert set(models) == {"original", "adapted"} and set(models["adapted"]["f1"]) == {"en", "de", "zh"}
    drop = models["adapted"]["drop"]["en"]["old"]
    assert drop == models["original"]["f1"]["en"]["old"] - models["adapted"]["f1"]["en"]["old"]
    assert "old-label F1 (language mean)" in stdout


def write_drop_facility(tmp_path):
    path = tmp_path / "map.tsv"
    path.write_text("FACILITY\tO\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mlm-probability", "1.5"], r"--mlm-probability must be in \(0, 1\), not 1.5"),
        (["--ner-kd", "-1"], "--ner-kd must be >= 0, not -1.0"),
        (["--head-warmup-steps", "-1"], "--head-warmup-steps must be >= 0"),
        (["--freeze-layers", "9"], "--freeze-layers 9: the model has only 3 encoder layers"),
    ],
)
def test_adapt_refuses_bad_options_in_one_line(teacher_dir, raw_file, tmp_path, monkeypatch, capsys, extra, message):
    import re

    code, _, err = run_cli([*adapt_cli(teacher_dir, raw_file, tmp_path / "o"), *extra], monkeypatch, capsys)
    assert code == 2 and re.search(message, err), err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_adapt_refuses_a_plain_encoder_and_names_an_empty_file(encoder_dir, teacher_dir, tmp_path, monkeypatch, capsys):
    raw = tmp_path / "raw.txt"
    raw.write_text("some text here\n", encoding="utf-8")
    code, _, err = run_cli(adapt_cli(encoder_dir, raw, tmp_path / "o"), monkeypatch, capsys)
    assert code == 2 and "has no trained BIO NER head" in err and "extend it directly" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    code, _, err = run_cli(adapt_cli(teacher_dir, empty, tmp_path / "o"), monkeypatch, capsys)
    assert code == 2 and str(empty) in err, err


def test_adapt_under_two_processes_warms_up_then_trains_and_writes_once(teacher_dir, raw_file, tmp_path):
    """torchrun, two gloo ranks: the head warm-up (the encoder without gradient: DDP must allow unused parameters)
    and then the encoder steps; only the main process re-checks and writes."""
    from tests.processes import torchrun_labelgrow

    out = tmp_path / "ddp"
    args = adapt_cli(teacher_dir, raw_file, out, "--max-steps", "4", "--head-warmup-steps", "2", "--cpu")
    done = torchrun_labelgrow(args, port=29531)
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads((out / "labelgrow.json").read_text())
    assert run["training"]["processes"] == 2 and run["training"]["global_steps"] == 4
    assert done.stderr.count("labelgrow: wrote") == 1 and done.stdout.count("held-out text") == 1
    assert not (out / "checkpoints").exists() and not (out / ".staging").exists()


def test_adapt_resumes_from_its_last_checkpoint(teacher_dir, raw_file, tmp_path, monkeypatch, capsys):
    """The Trainer's checkpoints hold the LM head beside the classifier (plain safetensors: the head owns no
    embedding); --resume continues from the last one."""
    out = tmp_path / "adapted"
    base = adapt_cli(teacher_dir, raw_file, out, "--head-warmup-steps", "1", "--save-steps", "2", "--keep-checkpoints")
    base += ["--logging-steps", "1"]
    code, _, err = run_cli([*base, "--max-steps", "2"], monkeypatch, capsys)
    assert code == 0, err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["checkpoint-2"]
    code, _, err = run_cli([*base, "--max-steps", "4", "--resume"], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads((out / "labelgrow.json").read_text())["training"]["global_steps"] == 4
    logged = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    # train_log.jsonl grows across the two runs: steps 1-2, then 3-4 (a fresh start would log 1-2 again)
    assert [r["step"] for r in logged if "mlm" in r] == [1, 2, 3, 4]


def test_a_new_lm_head_is_the_same_on_every_run_of_one_seed(teacher_dir, raw_file, tmp_path, monkeypatch, capsys):
    """Without --mlm-head the LM head's transform is drawn at random: one --seed, whatever the global generator did
    before, must train the same weights."""
    from safetensors.torch import load_file

    for name, noise in (("one", 5), ("two", 11)):
        torch.rand(noise)
        args = adapt_cli(teacher_dir, raw_file, tmp_path / name, "--head-warmup-steps", "0", "--max-steps", "3")
        code, _, err = run_cli(args, monkeypatch, capsys)
        assert code == 0, err
    one, two = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("one", "two"))
    for name in one:
        torch.testing.assert_close(one[name], two[name], rtol=0, atol=0, msg=name)
