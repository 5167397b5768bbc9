from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from labelgrow.data import load_corpus

ROOT = Path(__file__).resolve().parents[1]


def test_committed_demo_data_is_what_the_generator_writes(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_data.py"), str(tmp_path)], check=True, capture_output=True
    )
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.txt"))
    assert written == sorted(p.relative_to(ROOT / "data") for p in (ROOT / "data").rglob("*.txt"))
    for rel in written:
        assert (tmp_path / rel).read_text(encoding="utf-8") == (ROOT / "data" / rel).read_text(encoding="utf-8"), rel


def test_demo_data_has_the_documented_shape():
    teacher = load_corpus([ROOT / "data" / "teacher"])
    facility = load_corpus([ROOT / "data" / "facility"])
    test = load_corpus([ROOT / "data" / "test"])
    assert teacher.languages() == facility.languages() == test.languages() == ["de", "en", "zh"]
    types = lambda c: {t[2:] for s in c.sentences for t in s.tags if t != "O"}  # noqa: E731
    assert types(teacher) == {"PER", "ORG", "LOC"}
    assert types(facility) == {"FACILITY"}  # the background shift: old entities are tagged O
    assert types(test) == {"PER", "ORG", "LOC", "FACILITY"}
    assert len(teacher.sentences) + len(facility.sentences) + len(test.sentences) >= 900
