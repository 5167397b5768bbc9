"""Every check of the argument classes, without a model: the errors a user sees before anything loads."""

from __future__ import annotations

import pytest

from labelgrow.configuration import EvalArguments, ExtendArguments
from labelgrow.diffing import DiffArguments
from labelgrow.errors import LabelgrowError

BASE = {"base": "some/model", "new_labels": "FACILITY", "train": ["train.txt"], "output": "out"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"warmup_ratio": 1.0}, r"--warmup-ratio must be in \[0, 1\), not 1.0"),
        ({"warmup_ratio": -0.1}, r"--warmup-ratio must be in \[0, 1\)"),
        ({"weight_decay": -0.01}, "--weight-decay must be >= 0"),
        ({"eval_batch_size": 0}, "--eval-batch-size must be >= 1"),
        ({"logging_steps": 0}, "--logging-steps must be >= 1"),
        ({"eval_steps": 0}, "--eval-steps must be >= 1, not 0"),
        ({"save_steps": -5}, "--save-steps must be >= 1, not -5"),
        (
            {"validation": ["dev.txt"], "eval_steps": 30, "save_steps": 50},
            "--save-steps 50 must be a multiple of --eval-steps 30 when --validation selects the best checkpoint",
        ),
        ({"freeze_layers": "some"}, "--freeze-layers must be a number >= 0, all, or a fraction .*, not 'some'"),
        ({"freeze_layers": -1}, "--freeze-layers must be >= 0, not -1"),
        ({"freeze_layers": "4/3"}, "--freeze-layers must be .* a fraction of the layers such as 1/3, not '4/3'"),
        ({"freeze_layers": "1/0"}, "not '1/0'"),
        ({"freeze_layers": "-1/3"}, "not '-1/3'"),
        ({"kd_target": "folded"}, "--kd-target must be one of old-slice, unbiased"),
        ({"kd": "none", "rehearsal": ["text.txt"]}, "--rehearsal needs a teacher"),
        ({"rehearsal_parents": True, "parent": ["FACILITY=ORG"]}, "--rehearsal-parents relaxes .* give --rehearsal"),
        ({"rehearsal_parents": True, "rehearsal": ["text.txt"]}, "--rehearsal-parents .* and --parent"),
        ({"pseudo_label_scope": "annotated"}, "--pseudo-label-scope must be one of all, rehearsal"),
        (
            {"pseudo_label_scope": "rehearsal", "pseudo_label_threshold": 0.5},
            "--pseudo-label-scope rehearsal .* give --rehearsal",
        ),
        ({"pseudo_label_scope": "rehearsal", "rehearsal": ["t.txt"]}, "--pseudo-label-threshold > 0"),
        ({"parent": ["PHONE=ORG"]}, r"--parent PHONE=\.\.\.: not in --new-labels FACILITY"),
        ({"parent": ["FACILITY"]}, "expected NEW=OLD"),
        ({"epochs": 0}, "--epochs must be > 0"),
        ({"hidden_kd": -0.5}, r"--hidden-kd must be >= 0 \(0: off\), not -0.5"),
        ({"hidden_kd": 1.0, "kd": "none"}, "--hidden-kd compares with the teacher: not with --kd none"),
        ({"hidden_kd": 1.0, "teacher_cache": True}, "--hidden-kd needs the teacher's hidden states, which --teacher"),
        ({"min_steps": -1}, "--min-steps must be >= 0, not -1"),
        ({"bf16": True, "fp16": True}, "--bf16 and --fp16 exclude each other"),
    ],
)
def test_extend_arguments_refuse_bad_values(changes, message):
    with pytest.raises(LabelgrowError, match=message):
        ExtendArguments(**{**BASE, **changes})


def test_extend_arguments_accept_what_they_should():
    args = ExtendArguments(**BASE, freeze_layers="all", warmup_ratio=0.0, eval_steps=30, save_steps=60)
    assert args.freeze_layers == "all" and args.new_labels == ["FACILITY"]
    assert ExtendArguments(**BASE, freeze_layers="3").freeze_layers == 3  # from the command line, a string
    assert ExtendArguments(**BASE, freeze_layers=" 02/6").freeze_layers == "2/6"  # kept as written, resolved later
    assert ExtendArguments(**BASE, validation=["dev.txt"], eval_steps=30, save_steps=60).save_steps == 60
    # without validation nothing selects a best checkpoint, so any save interval is fine
    assert ExtendArguments(**BASE, eval_steps=30, save_steps=50).eval_steps == 30
    assert ExtendArguments(**BASE).kd_target == "old-slice"  # unbiased forgot more on wikiann→facility
    assert ExtendArguments(**BASE, rehearsal="text.txt").to_dict()["rehearsal"] == ["text.txt"]
    relaxed = ExtendArguments(**BASE, rehearsal="t.txt", parent=["FACILITY=ORG"], rehearsal_parents=True)
    assert relaxed.to_dict()["rehearsal_parents"] is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data": []}, "--data is required"),
        ({"mode": "loose"}, "--mode must be one of conlleval, strict"),
        ({"decode": "beam"}, "--decode must be one of bio, argmax"),
        ({"batch_size": 0}, "--batch-size must be >= 1"),
        ({"parent": ["FACILITY:LOC"]}, "expected NEW=OLD"),
    ],
)
def test_eval_arguments_refuse_bad_values(changes, message):
    with pytest.raises(LabelgrowError, match=message):
        EvalArguments(**{"model": "m", "data": ["d.txt"], **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data": []}, "--data is required"),
        ({"examples": -1}, "--examples must be >= 0"),
        ({"decode": "beam"}, "--decode must be one of bio, argmax"),
        ({"bf16": True, "fp16": True}, "--bf16 and --fp16 exclude each other"),
        ({"teacher_unsure_below": -0.1}, r"--teacher-unsure-below must be in \[0, 1\] \(0: off\), not -0.1"),
    ],
)
def test_diff_arguments_refuse_bad_values(changes, message):
    with pytest.raises(LabelgrowError, match=message):
        DiffArguments(**{"teacher": "t", "model": "m", "data": ["d.txt"], **changes})


@pytest.mark.parametrize(
    ("settings", "windows", "processes", "expected"),
    [
        ({}, 50, 1, 100),  # 4 steps an epoch x 3 epochs = 12 < 100: raised
        ({}, 1600, 1, None),  # 100 an epoch x 3 = 300: by epochs
        ({"epochs": 1.0}, 1584, 1, 100),  # 99 steps in one epoch, 1 under: raised
        ({"epochs": 1.0}, 1585, 1, None),  # 100 steps: by epochs
        ({"epochs": 1.0}, 1600, 2, 100),  # two processes halve the steps of an epoch
        ({"gradient_accumulation_steps": 4}, 1600, 1, 100),  # 25 updates an epoch x 3 = 75
        ({"min_steps": 0}, 50, 1, None),  # off
        ({"max_steps": 7}, 50, 1, 7),  # --max-steps wins
    ],
)
def test_min_steps_raises_the_training_length_on_small_data_only(settings, windows, processes, expected):
    from labelgrow.extension import max_steps_for

    steps, why = max_steps_for(ExtendArguments(**{**BASE, **settings}), windows, processes)
    assert steps == expected
    if expected is not None and "max_steps" not in settings:
        assert why is not None and f"training {expected} steps" in why and "--min-steps" in why
    else:
        assert why is None


@pytest.mark.parametrize(
    ("settings", "windows", "expected"),
    [
        ({}, 1600, None),  # 3 epochs of 100 steps: a checkpoint each epoch
        ({"epochs": 8.0}, 1600, None),  # 8 epochs of 100 steps: long epochs keep one each
        ({"epochs": 8.0}, 304, 38),  # 8 epochs of 19 steps (short): every 38 steps, 4 checkpoints
        ({"epochs": 8.0}, 320, None),  # 8 epochs of 20 steps: each epoch
        ({"epochs": 8.0}, 360, None),  # the demo's teacher: 8 epochs of 23 steps
        ({"epochs": 4.0, "min_steps": 0}, 160, None),  # short epochs, but only 4 of them
        ({}, 50, 25),  # 50 sentences: 100 steps (--min-steps) in 25 epochs of 4: every 25 steps, 4 checkpoints
        ({"max_steps": 1000}, 160, 250),  # --max-steps over 100 short epochs
        ({"max_steps": 1000}, 1600, None),  # over 10 long ones
        ({"save_steps": 10}, 50, None),  # an explicit cadence wins (training_arguments uses it)
        ({"eval_steps": 10}, 50, None),
    ],
)
def test_checkpoints_are_capped_when_epochs_are_short(settings, windows, expected, tmp_path):
    from labelgrow.extension import checkpoint_every, max_steps_for, training_arguments

    args = ExtendArguments(**{**BASE, **settings})
    every = checkpoint_every(args, windows)
    assert every == expected
    trainer_args = training_arguments(args, tmp_path, True, max_steps_for(args, windows)[0], every)
    if every:
        assert trainer_args.save_strategy == "steps" and trainer_args.save_steps == every
        assert trainer_args.eval_strategy == "steps" and trainer_args.eval_steps == every
    elif "save_steps" in settings or "eval_steps" in settings:
        assert trainer_args.save_steps == trainer_args.eval_steps == 10
    else:
        assert trainer_args.save_strategy == "epoch" and trainer_args.eval_strategy == "epoch"


@pytest.mark.parametrize(
    ("module", "face", "arguments"),
    [
        ("extension", "extend", "ExtendArguments"),
        ("adaptation", "adapt", "AdaptArguments"),
        ("compression", "compress", "CompressArguments"),
        ("annotating", "annotate", "AnnotateArguments"),
        ("diffing", "diff", "DiffArguments"),
        ("evaluation", "evaluate", "EvalArguments"),
        ("exporting", "export", "ExportArguments"),
        ("prediction", "predict", "PredictArguments"),
    ],
)
def test_every_python_face_refuses_a_dataclass_and_keywords_together(module, face, arguments):
    """Keywords beside a ready dataclass would be dropped without a word: every command's function refuses them
    before it loads or writes anything (the dataclass need not even be valid: it is not looked at)."""
    import importlib

    function = getattr(importlib.import_module(f"labelgrow.{module}"), face)
    article = "an" if arguments[0] in "AEIOU" else "a"
    with pytest.raises(TypeError, match=f"pass either {article} {arguments} or keyword arguments, not both"):
        function(object(), output="elsewhere")
