"""The benchmark protocol's plumbing, end to end, on tiny models and a tiny corpus laid out like ../shared/datasets.
(The benchmark itself is not part of CI; its numbers are in docs/benchmarks.md.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.tiny_models import TRAIN, build_token_classifier

ROOT = Path(__file__).resolve().parents[1]
MULTICONER = (
    "the B-Facility\nheathrow I-Facility\nairport I-Facility\nin O\nhamburg B-HumanSettlement\n\n"
    "angela B-Politician\nmerkel I-Politician\nvisited O\nsiemens B-PublicCorp\n"
)


def test_wikiann_facility_protocol_runs_on_tiny_models(tokenizer, encoder_dir, tmp_path):
    teacher_dir = tmp_path / "teacher"  # 5 layers: one variant freezes 4
    build_token_classifier(teacher_dir, tokenizer, num_hidden_layers=5)
    shared = tmp_path / "shared" / "datasets"
    for lang in ("en", "de", "zh", "es", "fr", "ru"):
        for split in ("train", "test"):
            (shared / "wikiann" / lang).mkdir(parents=True, exist_ok=True)
            (shared / "wikiann" / lang / f"{split}.txt").write_text(
                TRAIN.get(lang, TRAIN["en"]).replace("FACILITY", "LOC"), encoding="utf-8"
            )
    for lang in ("bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh"):
        (shared / "multiconer2" / lang).mkdir(parents=True)
        for split in ("train", "dev"):
            (shared / "multiconer2" / lang / f"{split}.txt").write_text(MULTICONER, encoding="utf-8")
    out = tmp_path / "bench"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "wikiann_facility.py"),
        "--shared",
        str(tmp_path / "shared"),
        "--encoder",
        str(encoder_dir),
        "--teacher",
        str(teacher_dir),
        "--out",
        str(out),
        "--teacher-sentences",
        "2",
        "--new-sentences",
        "2",
        "--eval-sentences",
        "2",
        "--new-eval-sentences",
        "2",
        "--epochs",
        "1",
        "--teacher-epochs",
        "1",
        "--cpu",
        "--max-length",
        "64",
        "--extra-seeds",
        "7",
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "results.json").read_text())
    names = [m["method"] for m in result["methods"]]
    assert len(names) == 9 and names[-1] == "joint training upper bound"
    for method in result["methods"]:
        assert set(method["old_f1"]) == {"en", "de", "zh", "es", "fr", "ru"}
        assert len(method["new_f1"]) == 12 and method["cost"]["peak_rss_mb"] > 0
        assert "forgetting_mean" in method and "forgetting_mean" in method["argmax"]
        assert set(method["argmax"]["old_f1"]) == set(method["old_f1"])
    assert [(r["method"], r["seed"]) for r in result["seeds"]] == [
        ("labelgrow default (o-aware)", 7),
        ("labelgrow --freeze-layers 4", 7),
    ]
    assert "| labelgrow default (o-aware) | mean |" in (out / "results.md").read_text()
    assert (out / "methods" / "m2-seed7" / "benchmark-eval.json").exists()  # scores kept for a re-run
    stamp = json.loads((out / "methods" / "m2" / "benchmark-settings.json").read_text())
    assert len(stamp["_labelgrow_code"]) == 16  # runs made by other code are not reused
    assert result["inference"]["speedup"] > 0
    assert "| labelgrow default (o-aware) |" in (out / "results.md").read_text()
    assert "decoded by per-word argmax" in (out / "results.md").read_text()
    assert (out / "results.png").stat().st_size > 10000
