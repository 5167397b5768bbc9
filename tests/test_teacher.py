"""The cheap teacher: shared frozen trunk (exact logits, fewer parameters, same training) and its precision."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from labelgrow.configuration import ExtendArguments
from labelgrow.errors import LabelgrowError
from labelgrow.labels import LabelSet
from labelgrow.modeling import encoder_layers, expand_classifier, freeze, input_embeddings_module
from labelgrow.teacher import share_frozen_trunk, teacher_dtype
from tests.tiny_models import OLD_LABELS, build_token_classifier

LABELS = LabelSet(tuple(OLD_LABELS), ("FACILITY",))


def _pair(tokenizer, model_type: str, layers: int = 2, embeddings: bool = True):
    """A teacher with dropout (so that train/eval mode matters) and its grown, partly frozen student."""
    teacher = build_token_classifier(
        None, tokenizer, model_type=model_type, hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3
    ).eval()
    student = expand_classifier(copy.deepcopy(teacher), LABELS).train()
    summary = freeze(student, layers, embeddings)
    return teacher, student, summary


def _batch(tokenizer) -> dict[str, torch.Tensor]:
    enc = tokenizer(["Anna works at Acme in Berlin", "Bob"], padding=True, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


@pytest.mark.parametrize(
    ("model_type", "layers"), [("xlm-roberta", 2), ("bert", 2), ("deberta-v2", 2), ("xlm-roberta", 0)]
)
def test_shared_trunk_gives_the_full_teachers_logits_without_its_lower_half(tokenizer, model_type, layers):
    teacher, student, summary = _pair(tokenizer, model_type, layers)
    batch = _batch(tokenizer)
    with torch.no_grad():
        reference = teacher(**batch).logits
    full = sum(p.numel() for p in teacher.parameters())
    lower = sum(p.numel() for m in summary.modules for p in m.parameters())

    shared = share_frozen_trunk(teacher, student, layers, summary.modules, batch)

    assert shared is not None
    assert sum(p.numel() for p in teacher.parameters()) == full - lower  # embeddings (+ layers) not held twice
    assert len(encoder_layers(teacher)) == 3 - layers
    for _ in range(2):  # the student trains (dropout on above the trunk); its frozen trunk runs in eval mode
        for module in summary.modules:
            module.eval()
        student(**batch)
        with torch.no_grad():
            torch.testing.assert_close(teacher(**batch).logits, reference, rtol=0, atol=1e-5)
    with pytest.raises(RuntimeError, match="teacher ran before the student"):
        teacher(**batch)  # each captured trunk output is used once
    shared.close()
    student(**batch)
    with pytest.raises(RuntimeError, match="teacher ran before the student"):
        teacher(**batch)  # after close() nothing is captured any more


def test_no_sharing_when_the_embeddings_train_or_the_trunks_differ(tokenizer):
    teacher, student, summary = _pair(tokenizer, "xlm-roberta", embeddings=False)
    batch = _batch(tokenizer)
    full = sum(p.numel() for p in teacher.parameters())
    assert share_frozen_trunk(teacher, student, 2, summary.modules, batch) is None
    assert sum(p.numel() for p in teacher.parameters()) == full

    teacher, student, summary = _pair(tokenizer, "xlm-roberta")
    with torch.no_grad():
        encoder_layers(student)[1].output.dense.weight.add_(1e-3)  # a student that is not the teacher's copy
    assert share_frozen_trunk(teacher, student, 2, summary.modules, batch) is None
    assert len(encoder_layers(teacher)) == 3
    assert input_embeddings_module(teacher) is not None


def test_teacher_precision():
    cpu = torch.device("cpu")
    assert teacher_dtype("fp32", cpu, torch.bfloat16) == torch.float32
    assert teacher_dtype("bf16", cpu, None) == torch.bfloat16
    assert teacher_dtype("fp16", cpu, None) == torch.float16
    assert teacher_dtype("auto", cpu, torch.float16) == torch.float16  # --fp16: the teacher follows
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("labelgrow.teacher.fast_bf16", lambda device: True)
        assert teacher_dtype("auto", cpu, None) == torch.bfloat16
        mp.setattr("labelgrow.teacher.fast_bf16", lambda device: False)
        assert teacher_dtype("auto", cpu, None) == torch.float32
    with pytest.raises(LabelgrowError, match="--teacher-precision must be one of auto, fp32, bf16, fp16, not 'fp8'"):
        ExtendArguments(base="b", new_labels=["X"], train=["t"], output="o", teacher_precision="fp8")


def train_shared_and_full(tmp_path, caplog, teacher_dir, data_dir, **changes) -> None:
    """extend a few steps on the tiny teacher twice, with the teacher sharing the student's frozen trunk (OUT/shared)
    and with the full teacher (OUT/full): both must train the same weights."""
    from safetensors.torch import load_file

    import labelgrow

    settings = dict(
        base=str(teacher_dir),
        new_labels=["FACILITY"],
        train=[str(data_dir)],
        max_steps=4,
        batch_size=4,
        cpu=True,
        teacher_precision="fp32",
        logging_steps=1,
    )
    settings.update(changes)
    caplog.clear()
    with caplog.at_level("INFO", logger="labelgrow"):
        labelgrow.extend(**settings, output=str(tmp_path / "shared"))
    assert "teacher: shares the student's frozen embeddings and 2 layer(s)" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="labelgrow"):
        labelgrow.extend(**settings, output=str(tmp_path / "full"), share_frozen_layers=False)
    assert "teacher: shares" not in caplog.text

    shared, full = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("shared", "full"))
    assert shared.keys() == full.keys()
    for name in shared:
        torch.testing.assert_close(shared[name], full[name], rtol=0, atol=1e-6, msg=name)


def test_training_with_the_shared_trunk_equals_training_with_the_full_teacher(tmp_path, teacher_dir, data_dir, caplog):
    train_shared_and_full(tmp_path, caplog, teacher_dir, data_dir)
    runs = [json.loads((tmp_path / d / "labelgrow.json").read_text()) for d in ("shared", "full")]
    curves = [run["training"]["loss_curve"] for run in runs]
    assert curves[0] == curves[1] and len(curves[0]) == 4


def test_hidden_kd_trains_the_same_with_the_shared_trunk_and_keeps_the_last_layer_nearer_the_teacher(
    tmp_path, teacher_dir, data_dir, caplog
):
    """--hidden-kd reads the last layer of both models (index -1), which a teacher cut down to its upper layers still
    has: sharing the frozen trunk must not change training. And the leash does what it is for: after the same steps
    the student's last layer is nearer the teacher's than without it, on the words it covers."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    import labelgrow
    from labelgrow.losses import hidden_state_distance

    settings = dict(max_steps=8, learning_rate=1e-2, warmup_ratio=0.0)
    train_shared_and_full(tmp_path, caplog, teacher_dir, data_dir, hidden_kd=10.0, **settings)
    labelgrow.extend(
        base=str(teacher_dir),
        new_labels=["FACILITY"],
        train=[str(data_dir)],
        batch_size=4,
        cpu=True,
        teacher_precision="fp32",
        **settings,
        output=str(tmp_path / "free"),
    )
    record = json.loads((tmp_path / "shared" / "labelgrow.json").read_text())
    assert record["loss"]["hidden_kd"] == 10.0 and "--hidden-kd" in record["loss"]["description"]
    log = [json.loads(line) for line in (tmp_path / "shared" / "train_log.jsonl").read_text().splitlines()]
    assert any(entry.get("hidden", 0) > 0 for entry in log)

    tokenizer = AutoTokenizer.from_pretrained(teacher_dir)
    sentences = [line.split()[0] for line in (data_dir / "en" / "train.txt").read_text().splitlines() if line.strip()]
    batch = tokenizer(" ".join(sentences[:40]), return_tensors="pt")

    def distance(directory):
        models = [AutoModelForTokenClassification.from_pretrained(d).eval() for d in (directory, teacher_dir)]
        with torch.no_grad():
            last = [m(**batch, output_hidden_states=True).hidden_states[-1] for m in models]
        return hidden_state_distance([last[0]], [last[1]]).mean().item()

    leashed, free = distance(tmp_path / "shared"), distance(tmp_path / "free")
    assert 0 < leashed < free / 2, (leashed, free)


def test_a_head_made_afresh_is_the_same_on_every_run_of_one_seed(tmp_path, encoder_dir, data_dir):
    """Bootstrapping a teacher from an encoder without a NER head draws the head's rows at random: with one --seed
    two runs in one process (the global generator already used in between) must train the same weights."""
    from safetensors.torch import load_file

    import labelgrow

    settings = dict(base=str(encoder_dir), new_labels=["PER", "LOC", "FACILITY"], train=[str(data_dir)], max_steps=3)
    settings.update(batch_size=4, cpu=True, seed=7)
    torch.rand(5)  # whatever the generator did before
    labelgrow.extend(**settings, output=str(tmp_path / "one"))
    torch.rand(11)
    labelgrow.extend(**settings, output=str(tmp_path / "two"))
    one, two = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("one", "two"))
    for name in one:
        torch.testing.assert_close(one[name], two[name], rtol=0, atol=0, msg=name)
