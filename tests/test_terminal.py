"""What a user sees while `extend` runs: one bar, a compact row per evaluation, expected events in labelgrow's own
words; the raw records go to OUTPUT/train_log.jsonl."""

from __future__ import annotations

import json
import subprocess
import sys

from labelgrow.terminal import evaluation_row
from tests.helpers import extend_args


def test_evaluation_row_is_one_compact_line():
    logs = {"epoch": 2.0, "step": 30, "eval_f1": 88.5, "eval_old_f1": 0.0, "eval_new_f1": 88.5, "eval_f1_de": 100.0}
    row = evaluation_row(logs, {"loss": 0.4501, "ce": 0.5869, "kd": 0.0783})
    assert row == "epoch 2  step 30  loss 0.45 (ce 0.587, kd 0.0783)  F1 88.5  old 0.0  new 88.5  de 100.0"


def test_a_group_without_gold_has_no_f1_rather_than_zero():
    from labelgrow.data import Sentence
    from labelgrow.metrics import score, training_metrics

    gold = [Sentence(["Heathrow", "!"], ["B-FACILITY", "O"], "en")]  # new-type data: no old entity in gold
    metrics = training_metrics(score(gold, [["B-FACILITY", "O"]], ["PER", "LOC"], ["FACILITY"]))
    assert metrics == {"f1": 100.0, "new_f1": 100.0, "f1_en": 100.0}
    assert evaluation_row({"epoch": 1.0, **{f"eval_{k}": v for k, v in metrics.items()}}, {}) == (
        "epoch 1  F1 100.0  new 100.0  en 100.0"
    )


def test_extend_shows_rows_not_raw_dicts_and_keeps_the_log(encoder_dir, data_dir, tmp_path):
    output = tmp_path / "teacher"
    args = extend_args(
        encoder_dir, data_dir, output, "--freeze-layers", "0", "--epochs", "2", new_labels="PER,LOC,FACILITY"
    )
    args += ["--validation", str(data_dir), "--logging-steps", "1"]
    done = subprocess.run([sys.executable, "-m", "labelgrow.cli", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = done.stdout + done.stderr
    assert "{'loss'" not in shown and "'eval_f1'" not in shown  # no raw Trainer dicts
    assert "Writing model shards" not in shown and "Loading weights" not in shown
    assert "MISSING" not in shown and "newly initialized" not in shown  # expected when bootstrapping
    assert "trains a first NER model" in shown  # said once, in labelgrow's words
    rows = [line for line in shown.splitlines() if line.startswith("epoch ")]
    assert [r.split("  ")[0] for r in rows][:2] == ["epoch 1", "epoch 2"] and all(" F1 " in r for r in rows)
    records = [json.loads(line) for line in (output / "train_log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in records) and any("eval_f1" in r for r in records)
