"""Faults: a run killed with SIGKILL resumes to the same result; a non-finite loss stops with the step named;
two processes follow the single-process loss curve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.helpers import extend_args
from tests.processes import torchrun_labelgrow

ROOT = Path(__file__).resolve().parents[1]
KILLER = textwrap.dedent("""
    import os, signal, sys
    from labelgrow import trainer
    original = trainer.LabelgrowTrainer.training_step
    def training_step(self, *args, **kwargs):
        if self.state.global_step == int(os.environ["KILL_AT_STEP"]):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no atexit: like a pre-empted node
        return original(self, *args, **kwargs)
    trainer.LabelgrowTrainer.training_step = training_step
    sys.argv = ["labelgrow", *sys.argv[1:]]
    from labelgrow.cli import main
    main()
""")


def run(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLER, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", "KILL_AT_STEP": "-1", **(env or {})},
        timeout=300,
    )


def test_sigkill_mid_epoch_then_resume_gives_the_same_model(teacher_dir, data_dir, tmp_path):
    options = ["--max-steps", "9", "--save-steps", "2", "--batch-size", "2", "--validation", str(data_dir), "--cpu"]
    # 6 sentences, batch 2: 3 steps an epoch; the kill at step 5 is in the middle of the second epoch
    straight = run(extend_args(teacher_dir, data_dir, tmp_path / "straight", *options))
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = run(extend_args(teacher_dir, data_dir, tmp_path / "resumed", *options), {"KILL_AT_STEP": "5"})
    assert killed.returncode == -9
    assert not (tmp_path / "resumed" / "labelgrow.json").exists()  # no finished model where one is expected
    assert (tmp_path / "resumed" / "checkpoints" / "checkpoint-4").is_dir()
    resumed = run(extend_args(teacher_dir, data_dir, tmp_path / "resumed", *options, "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from" in resumed.stderr and "checkpoint-4" in resumed.stderr
    a = json.loads((tmp_path / "straight" / "labelgrow.json").read_text())
    b = json.loads((tmp_path / "resumed" / "labelgrow.json").read_text())
    assert a["training"]["global_steps"] == b["training"]["global_steps"] == 9
    assert b["metrics"] == pytest.approx(a["metrics"])
    wa, wb = (
        load_file(tmp_path / "straight" / "model.safetensors"),
        load_file(tmp_path / "resumed" / "model.safetensors"),
    )
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.allclose(wa[key], wb[key], atol=1e-5), key


def test_a_non_finite_loss_stops_with_the_step_and_keeps_the_checkpoints(teacher_dir, data_dir, tmp_path, monkeypatch):
    import labelgrow
    from labelgrow import trainer
    from labelgrow.errors import LabelgrowError

    calls = {"n": 0}
    original = trainer.compute_loss

    def exploding(*args, **kwargs):
        out = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            out.loss = out.loss * float("nan")
        return out

    monkeypatch.setattr(trainer, "compute_loss", exploding)
    output = tmp_path / "out"
    with pytest.raises(LabelgrowError, match=r"the loss is nan at step 3 .*continue with --resume"):
        labelgrow.extend(
            base=str(teacher_dir),
            new_labels="FACILITY",
            train=[str(data_dir)],
            output=str(output),
            max_steps=5,
            save_steps=1,
            batch_size=2,
            cpu=True,
        )
    last = output / "checkpoints" / "checkpoint-2"
    assert last.is_dir() and not (output / "labelgrow.json").exists()
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(str(last))
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_two_processes_follow_the_single_process_loss_curve(teacher_dir, data_dir, tmp_path):
    """Same global batch (1 process x 2 windows, 2 processes x 1), same seed. In the first epoch both see the same
    windows in the same order and every step's loss agrees to 1e-4 (the loss is normalised by the words of the
    whole step, across processes). Later epochs are shuffled differently per process count, so only each epoch's
    mean loss is compared, within 5%."""
    common = ["--epochs", "4", "--logging-steps", "1", "--cpu"]
    single = run(extend_args(teacher_dir, data_dir, tmp_path / "one", *common, "--batch-size", "2"))
    assert single.returncode == 0, single.stderr[-2000:]
    double = torchrun_labelgrow(
        extend_args(teacher_dir, data_dir, tmp_path / "two", *common, "--batch-size", "1"), port=29521
    )
    assert double.returncode == 0, double.stderr[-2000:]
    one = json.loads((tmp_path / "one" / "labelgrow.json").read_text())["training"]["loss_curve"]
    two = json.loads((tmp_path / "two" / "labelgrow.json").read_text())["training"]["loss_curve"]
    assert [s for s, _ in one] == [s for s, _ in two] == list(range(1, 13))  # 6 sentences / 2 = 3 steps x 4
    for (_, a), (_, b) in zip(one[:3], two[:3], strict=True):
        assert b == pytest.approx(a, rel=1e-4)
    for epoch in range(4):
        mean_one = sum(loss for _, loss in one[3 * epoch : 3 * epoch + 3]) / 3
        mean_two = sum(loss for _, loss in two[3 * epoch : 3 * epoch + 3]) / 3
        assert mean_two == pytest.approx(mean_one, rel=0.05), epoch


def test_teacher_cache_trains_like_the_live_teacher_and_is_reused(teacher_dir, data_dir, tmp_path, caplog):
    """The cache holds the teacher's logits in float16: the result matches the live teacher closely (not bit for
    bit), and --resume reuses the cache instead of recomputing it."""
    import logging

    import labelgrow

    caplog.set_level(logging.INFO)
    common = dict(
        base=str(teacher_dir),
        new_labels="FACILITY",
        train=[str(data_dir)],
        max_steps=6,
        batch_size=2,
        cpu=True,
        validation=[str(data_dir)],
    )
    live = labelgrow.extend(output=str(tmp_path / "live"), **common)
    cached = labelgrow.extend(
        output=str(tmp_path / "cached"), teacher_cache=True, save_steps=3, keep_checkpoints=True, **common
    )
    assert "teacher cache: 6 windows" in caplog.text
    assert cached.metrics["eval_f1"] == pytest.approx(live.metrics["eval_f1"], abs=1e-6)
    wa = load_file(tmp_path / "live" / "model.safetensors")
    wb = load_file(tmp_path / "cached" / "model.safetensors")
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-3
    caplog.clear()
    labelgrow.extend(
        output=str(tmp_path / "cached"), teacher_cache=True, save_steps=3, resume=True, **{**common, "max_steps": 8}
    )
    assert "teacher cache: reusing" in caplog.text
