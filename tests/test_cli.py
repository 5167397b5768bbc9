"""End-to-end runs of the command line on tiny models built in the fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import extend_args, run_cli
from tests.processes import torchrun_labelgrow


def test_help_is_instant_and_imports_no_torch():
    code = "import sys, labelgrow, labelgrow.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_extend_writes_an_ordinary_hf_checkpoint(teacher_dir, data_dir, tmp_path, monkeypatch, capsys):
    output = tmp_path / "out"
    code, out, err = run_cli(
        extend_args(teacher_dir, data_dir, output, "--validation", str(data_dir)), monkeypatch, capsys
    )
    assert code == 0, err
    assert "validation, entity-level F1" in out and "zh" in out
    assert sorted(p.name for p in output.iterdir()) == [
        "README.md",
        "config.json",
        "labelgrow.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "train_log.jsonl",  # the Trainer's raw records, kept out of the terminal
    ]
    config = json.loads((output / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(9)] == [
        "O",
        "B-PER",
        "I-PER",
        "B-ORG",
        "I-ORG",
        "B-LOC",
        "I-LOC",
        "B-FACILITY",
        "I-FACILITY",
    ]
    run = json.loads((output / "labelgrow.json").read_text())
    assert run["new_labels"] == ["B-FACILITY", "I-FACILITY"] and run["loss"]["mode"] == "o-aware"
    assert run["settings"]["freeze_layers"] == 2 and run["settings"]["learning_rate"] == 1e-3
    assert {Path(f["path"]).parent.name for f in run["data"]["train"]} == {"en", "de", "zh"}
    assert all(len(f["sha256"]) == 64 for f in run["data"]["train"])
    assert set(run["validation_report"]["languages"]) == {"en", "de", "zh"}
    assert "eval_f1" in run["metrics"]
    assert "# out" in (output / "README.md").read_text()

    from transformers import pipeline

    ner = pipeline("token-classification", model=str(output))
    entities = ner("Die Elbphilharmonie liegt in Hamburg.")
    assert all(e["entity"] in config["label2id"] for e in entities)


def test_existing_output_is_never_overwritten_silently(teacher_dir, data_dir, tmp_path, monkeypatch, capsys):
    output = tmp_path / "out"
    output.mkdir()
    (output / "precious.txt").write_text("keep me")
    code, _, err = run_cli(extend_args(teacher_dir, data_dir, output), monkeypatch, capsys)
    assert code == 2
    assert (
        err.strip() == f"labelgrow: error: --output {output} is not empty; pass --overwrite to replace it or "
        "--resume to continue its run"
    )
    code, _, err = run_cli(extend_args(teacher_dir, data_dir, output, "--overwrite"), monkeypatch, capsys)
    assert code == 2 and "does not look like a labelgrow output" in err
    assert (output / "precious.txt").read_text() == "keep me"


def test_overwrite_replaces_a_labelgrow_output(teacher_dir, data_dir, tmp_path, monkeypatch, capsys):
    output = tmp_path / "out"
    assert run_cli(extend_args(teacher_dir, data_dir, output), monkeypatch, capsys)[0] == 0
    (output / "stale.txt").write_text("old")
    assert run_cli(extend_args(teacher_dir, data_dir, output, "--overwrite"), monkeypatch, capsys)[0] == 0
    assert not (output / "stale.txt").exists()


def test_config_file_gives_defaults_and_the_command_line_wins(teacher_dir, data_dir, tmp_path, monkeypatch, capsys):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"base: {teacher_dir}\nnew-labels: [FACILITY]\ntrain: [{data_dir}]\nfreeze_layers: 2/3\n"
        "kd: seed\nepochs: 1\nbatch-size: 4\n"
    )
    output = tmp_path / "out"
    code, _, err = run_cli(
        ["extend", "--config", str(recipe), "--output", str(output), "--kd", "none"], monkeypatch, capsys
    )
    assert code == 0, err
    run = json.loads((output / "labelgrow.json").read_text())
    settings = run["settings"]
    assert settings["freeze_layers"] == "2/3" and settings["kd"] == "none" and settings["new_labels"] == ["FACILITY"]
    assert run["parameters"]["frozen_layers"] == 2  # two thirds of the tiny model's 3 layers
    bad = tmp_path / "bad.yaml"
    bad.write_text("bogus_option: 1\n")
    code, _, err = run_cli(["extend", "--config", str(bad)], monkeypatch, capsys)
    assert code == 2 and "unknown option(s) bogus_option" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--new-labels", "LOC"], "--new-labels: LOC already in the base model"),
        (["--new-labels", ""], "--new-labels is empty"),
        (["--new-labels", "FACILITY, PHONE"], "' PHONE' is not a valid entity type"),
        (["--new-labels", "PHONE"], "tags that are not in the label set: B-FACILITY (5x in"),
        (["--new-labels", "FACILITY,PHONE"], "--new-labels PHONE: no training sentence has a B-PHONE tag"),
        (["--freeze-layers", "7"], "--freeze-layers 7: the model has only 3 encoder layers"),
    ],
)
def test_errors_are_one_line_and_write_nothing(teacher_dir, data_dir, tmp_path, monkeypatch, capsys, args, message):
    output = tmp_path / "out"
    argv = extend_args(teacher_dir, data_dir, output)
    i = argv.index("--new-labels")
    argv[i + 1] = "FACILITY"
    code, _, err = run_cli([*argv, *args], monkeypatch, capsys)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("labelgrow: error: ") and message in last
    assert err.count("labelgrow: error:") == 1 and "Traceback" not in err
    assert not output.exists()


@pytest.mark.parametrize(
    ("command", "option", "choices"),
    [
        ("extend", "--kd", "'o-aware', 'seed', 'none'"),
        ("extend", "--teacher-precision", "'auto', 'fp32', 'bf16', 'fp16'"),
        ("eval", "--decode", "'bio', 'argmax'"),
        ("eval", "--mode", "'conlleval', 'strict'"),
        ("diff", "--format", "'auto', 'text', 'conll'"),
    ],
)
def test_choices_are_refused_before_anything_runs(command, option, choices, tmp_path, monkeypatch, capsys):
    """Click checks a choice against the enum (``--help`` lists the same): no model is loaded, nothing written."""
    argv = {
        "extend": ["extend", "--base", "/m", "--new-labels", "X", "--train", "t", "--output", str(tmp_path / "o")],
        "eval": ["eval", "--model", "/m", "--data", "d"],
        "diff": ["diff", "--teacher", "/t", "--model", "/m", "--data", "d"],
    }[command]
    code, _, err = run_cli([*argv, option, "bogus"], monkeypatch, capsys)
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", err).split())  # the message as one line, out of its box
    assert code == 2 and f"Invalid value for '{option}'" in text and choices in text and "Traceback" not in text
    assert not (tmp_path / "o").exists()


def test_a_plain_encoder_bootstraps_a_teacher(encoder_dir, data_dir, tmp_path, monkeypatch, capsys, caplog):
    output = tmp_path / "teacher"
    args = extend_args(encoder_dir, data_dir, output, "--freeze-layers", "0", new_labels="PER,LOC,FACILITY")
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "training uses --kd none" in caplog.text
    run = json.loads((output / "labelgrow.json").read_text())
    assert run["old_labels"] == ["O"] and run["loss"]["mode"] == "none"
    assert run["labels"] == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-FACILITY", "I-FACILITY"]


def test_resume_continues_from_the_last_checkpoint(teacher_dir, data_dir, tmp_path, monkeypatch, capsys, caplog):
    output = tmp_path / "out"
    first = extend_args(
        teacher_dir,
        data_dir,
        output,
        "--max-steps",
        "2",
        "--save-steps",
        "1",
        "--batch-size",
        "2",
        "--keep-checkpoints",
    )
    assert run_cli(first, monkeypatch, capsys)[0] == 0
    assert (output / "checkpoints" / "checkpoint-2").is_dir()
    second = extend_args(
        teacher_dir, data_dir, output, "--max-steps", "4", "--save-steps", "1", "--batch-size", "2", "--resume"
    )
    code, _, err = run_cli(second, monkeypatch, capsys)
    assert code == 0, err
    assert "resuming from" in caplog.text and "checkpoint-2" in caplog.text
    assert json.loads((output / "labelgrow.json").read_text())["training"]["global_steps"] == 4
    code, _, err = run_cli(extend_args(teacher_dir, data_dir, tmp_path / "fresh", "--resume"), monkeypatch, capsys)
    assert code == 2 and "nothing to resume" in err


@pytest.mark.parametrize("command", ["extend", "eval", "predict", "diff", "annotate", "compress"])
def test_cli_defaults_are_the_library_defaults(command):
    """The CLI and the Python API must not drift apart: every option's default equals the dataclass default."""
    import dataclasses

    import typer.main

    from labelgrow.annotating import AnnotateArguments
    from labelgrow.cli import app
    from labelgrow.compression import CompressArguments
    from labelgrow.configuration import EvalArguments, ExtendArguments
    from labelgrow.diffing import DiffArguments
    from labelgrow.prediction import PredictArguments

    classes = {"extend": ExtendArguments, "eval": EvalArguments, "predict": PredictArguments, "diff": DiffArguments}
    cls = {**classes, "annotate": AnnotateArguments, "compress": CompressArguments}[command]
    click_command = typer.main.get_command(app).commands[command]
    defaults = {p.name: p.default for p in click_command.params}
    for field in dataclasses.fields(cls):
        if field.default is dataclasses.MISSING:
            continue
        assert field.name in defaults, f"--{field.name.replace('_', '-')} is missing from the CLI"
        assert defaults[field.name] == field.default, field.name


def test_python_api_and_bf16(teacher_dir, data_dir, tmp_path):
    import labelgrow

    result = labelgrow.extend(
        base=str(teacher_dir),
        new_labels="FACILITY",
        train=[str(data_dir)],
        output=str(tmp_path / "out"),
        epochs=1,
        min_steps=0,
        batch_size=4,
        bf16=True,
        cpu=True,
    )
    assert result.labels[-2:] == ["B-FACILITY", "I-FACILITY"]
    assert json.loads((tmp_path / "out" / "labelgrow.json").read_text())["settings"]["bf16"] is True


def test_extend_under_two_processes_writes_once(teacher_dir, data_dir, tmp_path):
    """`torchrun --nproc_per_node 2` (two gloo ranks, MULTI_CPU): the run trains, validates on both shards and
    only the main process writes the checkpoint."""
    output = tmp_path / "ddp"
    done = torchrun_labelgrow(
        extend_args(teacher_dir, data_dir, output, "--validation", str(data_dir), "--cpu", "--batch-size", "2"),
        port=29519,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads((output / "labelgrow.json").read_text())
    assert run["training"]["processes"] == 2
    assert run["validation_report"]["overall"]["sentences"] == 6  # every validation sentence, scored once
    assert done.stderr.count("labelgrow: wrote") == 1
    assert not (output / "checkpoints").exists() and not (output / ".staging").exists()


def test_rehearsal_parents_flag_the_rehearsal_inputs_and_relax_the_loss(teacher_dir, data_dir, tmp_path):
    from accelerate import PartialState

    from labelgrow.configuration import ExtendArguments
    from labelgrow.extension import build_models, plan

    raw = tmp_path / "raw.txt"
    raw.write_text("Shares of Unilever rose .\nThe stadium in Hamburg was full .\n", encoding="utf-8")
    settings = {"base": str(teacher_dir), "new_labels": "FACILITY", "train": [str(data_dir)], "cpu": True}
    settings |= {"output": str(tmp_path / "out"), "rehearsal": [str(raw)], "parent": ["FACILITY=LOC,ORG"]}
    args = ExtendArguments(**settings, rehearsal_parents=True)
    planned = plan(args)
    assert planned.rehearsal_sentences == 2 and len(planned.train.sentences) == 8  # 6 annotated, then the raw text
    models = build_models(args, planned, PartialState(cpu=True), tmp_path / "out")
    assert [f["rehearsal"] for f in models.features] == [False] * 6 + [True] * 2
    ids = planned.labels.label2id
    assert set(models.loss_config.refinements) == {
        (ids[f"{p}-{old}"], ids[f"{p}-FACILITY"]) for old in ("LOC", "ORG") for p in ("B", "I")
    }
    plain = ExtendArguments(**settings)
    strict = build_models(plain, plan(plain), PartialState(cpu=True), tmp_path)
    assert strict.loss_config.refinements == () and "rehearsal" not in strict.features[0]
    scoped = ExtendArguments(**settings, pseudo_label_threshold=0.5, pseudo_label_scope="rehearsal")
    pseudo = build_models(scoped, plan(scoped), PartialState(cpu=True), tmp_path / "scoped")
    assert pseudo.loss_config.pseudo_label_scope == "rehearsal" and pseudo.loss_config.refinements == ()
    assert [f["rehearsal"] for f in pseudo.features] == [False] * 6 + [True] * 2


def test_extend_without_rehearsal_text_says_what_it_risks_and_with_it_does_not(teacher_dir, data_dir, tmp_path, caplog):
    from labelgrow.configuration import ExtendArguments
    from labelgrow.extension import plan

    raw = tmp_path / "raw.txt"
    raw.write_text("Shares of Unilever rose .\n", encoding="utf-8")
    settings = {"base": str(teacher_dir), "new_labels": "FACILITY", "train": [str(data_dir)], "cpu": True}
    settings["output"] = str(tmp_path / "out")
    caplog.set_level("INFO", logger="labelgrow")
    plan(ExtendArguments(**settings))
    assert "no --rehearsal text" in caplog.text and "may become the new type" in caplog.text
    caplog.clear()
    plan(ExtendArguments(**settings, rehearsal=[str(raw)]))
    assert "no --rehearsal text" not in caplog.text and "rehearsal (no new type" in caplog.text
    caplog.clear()
    plan(ExtendArguments(**settings, kd="none"))  # naive fine-tuning has no teacher to rehearse with
    assert "no --rehearsal text" not in caplog.text
