"""The benchmark protocol's plumbing, end to end, on tiny models and a tiny corpus laid out like ../shared/datasets.
(The benchmark itself is not part of CI; its numbers are in docs/benchmarks.md.)"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.tiny_models import TRAIN

ROOT = Path(__file__).resolve().parents[1]
MULTICONER_LANGS = ("bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh")  # harness.corpora's
MULTICONER = (
    "the B-Facility\nheathrow I-Facility\nairport I-Facility\nin O\nhamburg B-HumanSettlement\n\n"
    "angela B-Politician\nmerkel I-Politician\nvisited O\nsiemens B-PublicCorp\n"
)


def fake_shared(tmp_path: Path) -> Path:
    """A tiny ../shared/datasets/wikiann: every language's train, dev and test."""
    shared = tmp_path / "shared" / "datasets"
    for lang in ("en", "de", "zh", "es", "fr", "ru"):
        for split in ("train", "dev", "test"):
            (shared / "wikiann" / lang).mkdir(parents=True, exist_ok=True)
            (shared / "wikiann" / lang / f"{split}.txt").write_text(
                TRAIN.get(lang, TRAIN["en"]).replace("FACILITY", "LOC") + "\nSiemens B-ORG\nin O\nHamburg B-LOC\n",
                encoding="utf-8",
            )
    return shared


def fake_multiconer(shared: Path, text: str) -> None:
    """A tiny ../shared/datasets/multiconer2: ``text`` as every language's train and dev."""
    for lang in MULTICONER_LANGS:
        (shared / "multiconer2" / lang).mkdir(parents=True)
        for split in ("train", "dev"):
            (shared / "multiconer2" / lang / f"{split}.txt").write_text(text, encoding="utf-8")


def run_benchmark(cmd: list[str]) -> subprocess.CompletedProcess:
    """A scenario's command on one thread, which must succeed."""
    done = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_wikiann_facility_protocol_runs_on_tiny_models(tokenizer, encoder_dir, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "teacher-sentences: 2\nnew-sentences: 2\neval-sentences: 2\nnew-eval-sentences: 2\nrehearsal-sentences: 2\n"
        "epochs: 1\nteacher-epochs: 1\nteacher-seeds: [42, 45]\nseeds: [42]\n"
        "methods: [naive, default, rehearsal, rehearsal-all, rehearsal-parents, add-tokens, new-rows, interp50]\n"
    )
    shared = fake_shared(tmp_path)
    fake_multiconer(shared, MULTICONER)
    out = tmp_path / "bench"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "wikiann_facility.py"),
        "--config",
        str(recipe),
        "--shared",
        str(tmp_path / "shared"),
        "--encoder",
        str(encoder_dir),
        "--out",
        str(out),
        "--teacher-seeds",
        "3",
        "--teacher-sentences",
        "50",
        "--seeds",
        "1",
        "2",
        "--cpu",
        "--max-length",
        "64",
        "--min-steps",  # the tiny runs count epochs; --min-steps has tests of its own
        "0",
    ]
    run_benchmark(cmd)
    result = json.loads((out / "results.json").read_text())
    # typed options win over the recipe; the recipe fills the rest
    assert result["settings"]["teacher_seeds"] == [3] and result["settings"]["seeds"] == [1, 2]
    assert result["settings"]["teacher_sentences"] == 50 and result["settings"]["new_sentences"] == 2
    cells = [(r["method"], r["teacher_seed"], r["seed"]) for r in result["cells"]]
    assert cells == [
        ("naive fine-tuning (grown head, CE only)", 3, 1),
        ("labelgrow default", 3, 1),
        ("labelgrow + rehearsal on WikiANN text", 3, 1),
        ("labelgrow + rehearsal on raw text of every scored language", 3, 1),
        ("labelgrow + rehearsal on raw text of every scored language, parent types may refine", 3, 1),
        ("labelgrow + --add-tokens (FACILITY words of the training data in 3+ sub-words)", 3, 1),
        ("frozen encoder and old rows: new rows only (Learn or Recall?)", 3, 1),
        ("labelgrow default averaged with the teacher, 0.5", 3, 1),
        ("labelgrow default", 3, 2),  # the first seed of every teacher first, then the other seeds
        ("labelgrow + rehearsal on raw text of every scored language, parent types may refine", 3, 2),
        ("joint training upper bound", 3, 3),
    ]
    for row in result["cells"]:
        assert set(row["old_f1"]) == {"en", "de", "zh", "es", "fr", "ru"}
        assert len(row["new_f1"]) == 12
        assert set(row["argmax"]["old_f1"]) == set(row["old_f1"])
    for row in result["cells"][:-1]:  # against the teacher: both kinds of forgetting and the change counts
        assert {"forgetting_mean", "not_refinement_max", "changes"} <= set(row)
        assert row["not_refinement_mean"] <= row["forgetting_mean"] + 1e-9  # a refinement is never a loss
        assert set(row["changes"]) == {"kept", "refined", "lost", "confused", "boundary", "gained"}
        # the teacher's near-ties are a subset of every change count, from its cached probabilities
        assert all(row["near_ties"][k] <= n for k, n in row["changes"].items()), row["near_ties"]
        assert "near_ties" not in row["argmax"]
    teacher_cache = json.loads((out / "teacher-s3" / "benchmark-tags.json").read_text())["tags"]
    probabilities = teacher_cache["bio_probabilities"]["retention"]
    assert [len(p) for p in probabilities] == [len(t) for t in teacher_cache["bio"]["retention"]]
    assert all(0.0 <= x <= 1.0 for p in probabilities for x in p)
    assert result["cells"][0]["cost"]["peak_rss_mb"] > 0 and "cost" not in result["cells"][7]  # interpolated
    joint = json.loads((out / "methods" / "joint" / "labelgrow.json").read_text())
    assert joint["settings"]["epochs"] == 2  # --teacher-epochs + --epochs: the passes a grown model has had
    new_rows = json.loads((out / "methods" / "t3" / "new-rows-s1" / "labelgrow.json").read_text())
    assert new_rows["settings"]["freeze_old_rows"] and new_rows["settings"]["freeze_layers"] == "all"
    assert new_rows["parents"] == {"FACILITY": ["LOC", "ORG"]}
    rehearsal = json.loads((out / "methods" / "t3" / "rehearsal-s1" / "labelgrow.json").read_text())
    assert len(rehearsal["settings"]["rehearsal"]) == 3
    everywhere = json.loads((out / "methods" / "t3" / "rehearsal-all-s1" / "labelgrow.json").read_text())
    assert [Path(f).parent.name for f in everywhere["settings"]["rehearsal"]] == ["en", "de", "zh", "es", "fr", "ru"]
    assert not everywhere["settings"]["rehearsal_parents"]
    relaxed = json.loads((out / "methods" / "t3" / "rehearsal-parents-s1" / "labelgrow.json").read_text())
    assert relaxed["settings"]["rehearsal_parents"]
    assert relaxed["settings"]["rehearsal"] == everywhere["settings"]["rehearsal"]
    assert "child new type is allowed" in relaxed["loss"]["description"]
    grown = json.loads((out / "methods" / "t3" / "add-tokens-s1" / "labelgrow.json").read_text())
    words = (out / "data" / "facility-words.txt").read_text(encoding="utf-8").split()
    assert grown["settings"]["add_tokens"] == str(out / "data" / "facility-words.txt") and words
    assert grown["added_tokens"]["words"] == words  # facility words of the training data, each in 3+ sub-words
    assert (out / "methods" / "t3" / "default-s2" / "benchmark-tags.json").exists()  # tags kept for a re-run
    stamp = json.loads((out / "methods" / "t3" / "default-s1" / "benchmark-settings.json").read_text())
    assert len(stamp["_labelgrow_code"]) == 16  # runs made by other code are not reused
    assert result["inference"]["speedup"] > 0
    md = (out / "results.md").read_text()
    assert "| labelgrow default | 2 |" in md  # two cells: the spread over seeds
    assert "not kept: teacher near-ties" in md and "not kept (teacher near-ties)" in md
    assert "decoded by per-word argmax" in md
    assert (out / "results.png").stat().st_size > 10000
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    # nothing trains again: the teacher, naive, default x2, rehearsal x4, add-tokens, new rows and the joint bound
    assert again.returncode == 0 and again.stderr.count("reusing") == 11 and "training ->" not in again.stderr
    written = (out / "results.md").read_text()  # the second run's (its throughput timings differ from the first's)
    (out / "results.md").unlink()
    rendered = subprocess.run([*cmd, "--render-only"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert (out / "results.md").read_text() == written and "training" not in rendered.stderr
    # a teacher made by other training code is trained again, unless --reuse-other-code says to keep it (and says so)
    settings = out / "teacher-s3" / "benchmark-settings.json"
    settings.write_text(json.dumps({**json.loads(settings.read_text()), "_labelgrow_code": "0" * 16}))
    kept = subprocess.run(
        [*cmd, "--methods", "default", "--no-joint", "--no-throughput", "--reuse-other-code"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert f"reusing {out / 'teacher-s3'} (trained by labelgrow code {'0' * 16}" in kept.stderr
    assert "training ->" not in kept.stderr
    assert json.loads((out / "results.json").read_text())["teachers"][0]["code"] == "0" * 16
    # the compress benchmark on this run's grown model and data: full, distilled and direct side by side
    small = tmp_path / "compress"
    script = [sys.executable, str(ROOT / "benchmarks" / "compress_facility.py"), "--layers", "2", "--cpu"]
    model = str(out / "methods" / "t3" / "default-s1")
    script += ["--model", model, "--data", str(out / "data"), "--out", str(small), "--quick", "--hidden-kd", "1"]
    script += ["--raw-sentences", "1", "--shared", str(tmp_path / "shared")]
    # distilled+raw's text: train where ../shared has it (four languages), else dev less the scored sentences
    for lang in MULTICONER_LANGS:
        corpus = tmp_path / "shared" / "datasets" / "multiconer2" / lang
        if lang in ("de", "en", "sv", "zh"):
            (corpus / "train.txt").write_text(f"{lang}train O\n", encoding="utf-8")
        else:
            (corpus / "train.txt").unlink()
            (corpus / "dev.txt").write_text(f"{MULTICONER}\n{lang}held O\n", encoding="utf-8")
    run_benchmark(script)
    compressed = json.loads((small / "results.json").read_text())
    assert list(compressed["models"]) == ["full", "distilled", "distilled+hidden", "distilled+raw", "direct"]
    assert [m["layers"] for m in compressed["models"].values()] == [3, 2, 2, 2, 2]
    raw = json.loads((small / "distilled-raw" / "labelgrow.json").read_text())
    raw_langs = sorted(Path(path).parent.name for path in raw["settings"]["raw"])
    assert raw_langs == sorted(["en", "de", "zh", "es", "fr", "ru", *MULTICONER_LANGS])  # WikiANN's 6, MultiCoNER's 12
    for lang in MULTICONER_LANGS:  # never a sentence FACILITY is scored on
        expected = f"{lang}train O" if lang in ("de", "en", "sv", "zh") else f"{lang}held O"
        assert (small / "data" / "raw" / lang / "train.txt").read_text().strip() == expected
    distilled = json.loads((small / "distilled" / "labelgrow.json").read_text())
    assert distilled["kind"] == "compress" and distilled["training"]["global_steps"] == 10
    assert distilled["loss"]["hidden_kd"] == 0.0
    hidden = json.loads((small / "distilled-hidden" / "labelgrow.json").read_text())
    assert hidden["loss"]["hidden_kd"] == 1.0
    assert set(compressed["models"]["distilled"]["old_f1"]) == {"en", "de", "zh", "es", "fr", "ru"}
    assert "| direct | 2 |" in (small / "results.md").read_text()
    again = run_benchmark(script)  # the four small models are reused (harness.runs.train_once)
    assert again.stderr.count("reusing") == 4 and "training ->" not in again.stderr
    run_benchmark([*script, "--small", "direct"])  # one small model beside the full one
    assert list(json.loads((small / "results.json").read_text())["models"]) == ["full", "direct"]


def test_phone_numbers_scenario_runs_on_tiny_models(teacher_dir, encoder_dir, tmp_path):
    """The second scenario on the same harness: generated span-JSON data, a given teacher, the span check."""
    fake_shared(tmp_path)
    out = tmp_path / "phones"
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "phone_numbers.py"),
        "--shared",
        str(tmp_path / "shared"),
        "--encoder",
        str(encoder_dir),
        "--teacher",
        str(teacher_dir),
        "--out",
        str(out),
        "--teacher-sentences",
        "3",
        "--new-sentences",
        "6",
        "--eval-sentences",
        "2",
        "--new-eval-sentences",
        "3",
        "--rehearsal-sentences",
        "2",
        "--seeds",
        "1",
        "--cpu",
        "--no-throughput",
        "--max-length",
        "64",
        "--min-steps",  # the tiny runs count epochs; --min-steps has tests of its own
        "0",
    ]
    run_benchmark(cmd)
    result = json.loads((out / "results.json").read_text())
    methods = [r["method"] for r in result["cells"]]
    assert methods == [
        "naive fine-tuning (grown head, CE only)",
        "labelgrow default",
        "labelgrow --freeze-layers 1/3",
        "labelgrow + rehearsal on raw text of every scored language",
        "labelgrow, fully annotated new data",
        "joint training upper bound",
    ]
    default = result["cells"][1]
    assert len(default["new_f1"]) == 8  # every generated language, four of them unseen in training
    assert set(default["extra"]) >= {"exact span F1", "inner space/punct. whole %", "sub-words per number"}
    assert default["extra"]["sub-words per number"] > 1
    run = json.loads((out / "methods" / "tNone" / "default-s1" / "labelgrow.json").read_text())
    assert run["new_types"] == ["PHONE"] and run["languages"] == ["de", "en", "ru", "zh"]
    full = json.loads((out / "methods" / "tNone" / "full-s1" / "labelgrow.json").read_text())
    assert not any(full["data"]["label_map_changes"].values())  # PER/ORG/LOC kept as they are
    rehearsal = json.loads((out / "methods" / "tNone" / "rehearsal-all-s1" / "labelgrow.json").read_text())
    rehearsed = [Path(p).parent.name for p in rehearsal["settings"]["rehearsal"]]
    assert rehearsed == ["en", "de", "zh", "es", "fr", "ru"]  # raw WikiANN text of every scored language
    assert "Scenario checks" in (out / "results.md").read_text()


def test_grow_again_scenario_scores_round_one_type_on_the_new_type_set(teacher_dir, encoder_dir, tmp_path):
    """Round 2 on a round-1 model: FACILITY is an old type now, scored where its gold is (the new-type set)."""
    import labelgrow

    shared = fake_shared(tmp_path)
    products = (
        "the B-Facility\nheathrow I-Facility\nairport I-Facility\nsells O\ncoca B-Drink\ncola I-Drink\n\n"
        "angela B-Politician\nmerkel I-Politician\ndrives O\na O\ngolf B-Vehicle\n\n"
        "siemens B-PublicCorp\nmakes O\nthe O\nice B-Vehicle\ntrain I-Vehicle\n\n"
        "hamburg B-HumanSettlement\nserves O\nfranzbrötchen B-Food\n"
    )
    fake_multiconer(shared, products)
    round1 = tmp_path / "round1"
    facility = tmp_path / "facility.txt"
    facility.write_text(TRAIN["en"], encoding="utf-8")
    labelgrow.extend(
        base=str(teacher_dir), new_labels="FACILITY", train=[str(facility)], output=str(round1), max_steps=1, cpu=True
    )
    out = tmp_path / "again"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "grow_again.py"), "--shared", str(tmp_path / "shared")]
    cmd += ["--encoder", str(encoder_dir), "--teacher", str(round1), "--out", str(out), "--seeds", "1", "--cpu"]
    cmd += ["--teacher-sentences", "3", "--round1-sentences", "1", "--new-sentences", "3", "--eval-sentences", "2"]
    cmd += ["--new-eval-sentences", "4", "--no-throughput", "--max-length", "64", "--min-steps", "0"]
    run_benchmark(cmd)
    result = json.loads((out / "results.json").read_text())
    teacher, default = result["teachers"][0], result["cells"][1]
    assert set(teacher["carried_f1"]) == {"FACILITY"} and len(teacher["carried_f1"]["FACILITY"]) == 12
    assert set(default["carried_forgetting"]["FACILITY"]) == set(default["carried_f1"]["FACILITY"])
    assert set(default["old_labels"]) == {"PER", "ORG", "LOC"}  # FACILITY is not scored on WikiANN
    run = json.loads((out / "methods" / "tNone" / "default-s1" / "labelgrow.json").read_text())
    assert [h["new_types"] for h in run["history"]] == [["FACILITY"], ["PRODUCT"]]  # both rounds recorded
    assert run["old_labels"][-2:] == ["B-FACILITY", "I-FACILITY"] and run["new_labels"] == ["B-PRODUCT", "I-PRODUCT"]
    rehearsed = json.loads((out / "methods" / "tNone" / "rehearsal-round1-s1" / "labelgrow.json").read_text())
    assert [Path(p).parts[-3:] for p in rehearsed["settings"]["rehearsal"]] == [
        ("round1", lang, "train.txt") for lang in ("en", "de", "zh")
    ]  # round 1's own sentences, beside round 2's
    everywhere = json.loads((out / "methods" / "tNone" / "rehearsal-all-s1" / "labelgrow.json").read_text())
    assert [Path(p).parent.name for p in everywhere["settings"]["rehearsal"]] == ["en", "de", "zh", "es", "fr", "ru"]
    joint = json.loads((out / "methods" / "joint" / "labelgrow.json").read_text())
    assert joint["new_types"] == ["PER", "ORG", "LOC", "FACILITY", "PRODUCT"]
    # round 2 trains on sentences round 1 did not use
    for lang in ("en", "de", "zh"):
        first = (out / "data" / "round1" / lang / "train.txt").read_text().split("\n\n")
        second = (out / "data" / "new" / lang / "train.txt").read_text().split("\n\n")
        assert not {b.strip() for b in first} & {b.strip() for b in second}
    assert "Old types scored on the new-type set" in (out / "results.md").read_text()


def test_carve_corp_scenario_scores_the_parent_on_both_sets(teacher_dir, encoder_dir, tmp_path):
    """CORP out of ORG: retention plain and parent-aware on WikiANN, the other organisations as ORG on MultiCoNER."""
    shared = fake_shared(tmp_path)
    companies = (
        "siemens B-PublicCorp\nbuilds O\ntrains O\nin O\nhamburg B-HumanSettlement\n\n"
        "the O\nbeatles B-MusicalGRP\nsigned O\nwith O\nemi B-PrivateCorp\n\n"
        "unesco B-ORG\npraised O\nbosch B-PrivateCorp\n"
    )
    fake_multiconer(shared, companies)
    out = tmp_path / "corp"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "carve_corp.py"), "--shared", str(tmp_path / "shared")]
    cmd += ["--encoder", str(encoder_dir), "--teacher", str(teacher_dir), "--out", str(out), "--seeds", "1", "--cpu"]
    cmd += ["--teacher-sentences", "3", "--new-sentences", "3", "--eval-sentences", "2", "--new-eval-sentences", "3"]
    cmd += ["--no-throughput", "--no-joint", "--methods", "default", "parent-rows", "--max-length", "64"]
    run_benchmark([*cmd, "--min-steps", "0"])
    result = json.loads((out / "results.json").read_text())
    teacher, default = result["teachers"][0], result["cells"][0]
    rows = json.loads((out / "methods" / "tNone" / "parent-rows-s1" / "labelgrow.json").read_text())
    assert rows["settings"]["new_rows_from"] == "parent" and rows["parents"] == {"CORP": ["ORG"]}
    assert set(teacher["carried_f1"]["ORG"]) == {"bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh"}
    assert set(default["carried_forgetting"]["ORG"]) == set(teacher["carried_f1"]["ORG"])
    assert default["not_refinement_mean"] <= default["forgetting_mean"] + 1e-9
    run = json.loads((out / "methods" / "tNone" / "default-s1" / "labelgrow.json").read_text())
    assert run["parents"] == {"CORP": ["ORG"]} and run["new_types"] == ["CORP"]
    corp_map = (out / "data" / "corp-only.tsv").read_text()
    assert "PublicCorp\tCORP" in corp_map and "MusicalGRP\tO" in corp_map and "ORG\tO" in corp_map
    scored = (out / "data" / "corp-and-other-org.tsv").read_text()
    assert "MusicalGRP\tORG" in scored and "PrivateCorp\tCORP" in scored


def test_zh_address_scenario_scores_four_new_types_and_the_teachers_types_on_the_same_sentences(
    teacher_dir, encoder_dir, tmp_path
):
    """Several new types at once: trained on the new types only (person and places O), scored per new type, with
    PER and LOC scored against the teacher on the address test sentences themselves."""
    shared = fake_shared(tmp_path)
    addresses = (
        "浙 B-prov\n江 I-prov\n省 I-prov\n杭 B-city\n州 I-city\n市 I-city\n文 B-road\n一 I-road\n路 I-road\n"
        "12 B-roadno\n号 I-roadno\n\n"
        "西 B-district\n湖 I-district\n区 I-district\n泰 B-poi\n和 I-poi\n小 I-poi\n区 I-poi\n3 B-houseno\n"
        "幢 I-houseno\n王 B-person\n明 I-person\n\n"
        "龙 B-town\n港 I-town\n镇 I-town\n- B-redundant\n1097 B-roomno\n"
    )
    (shared / "zh_address" / "zh").mkdir(parents=True)
    for split in ("train", "test"):
        (shared / "zh_address" / "zh" / f"{split}.txt").write_text(addresses, encoding="utf-8")
    out = tmp_path / "address"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "zh_address.py"), "--shared", str(tmp_path / "shared")]
    cmd += ["--encoder", str(encoder_dir), "--teacher", str(teacher_dir), "--out", str(out), "--seeds", "1", "--cpu"]
    cmd += ["--teacher-sentences", "3", "--new-sentences", "3", "--eval-sentences", "2", "--new-eval-sentences", "3"]
    cmd += [
        "--no-throughput",
        "--no-joint",
        "--methods",
        "default",
        "rehearsal-all",
        "adapted",
        "--max-length",
        "64",
        "--min-steps",
        "0",
    ]
    run_benchmark(cmd)
    result = json.loads((out / "results.json").read_text())
    teacher, default = result["teachers"][0], result["cells"][0]
    adapted = next(r for r in result["cells"] if r["method"].startswith("labelgrow default on the teacher adapted"))
    assert set(adapted["adapted_teacher"]["forgetting"]) == set(default["forgetting"])  # scored against the teacher
    grown = json.loads((out / "methods" / "tNone" / "adapted-s1" / "labelgrow.json").read_text())
    assert grown["base"] == str(out / "methods" / "tNone" / "adapted-adapt_raw")
    assert [h["kind"] for h in grown["history"]][-2:] == ["adapt", "extend"]
    assert grown["history"][-2]["train"][0]["path"] == str(shared / "zh_address" / "zh" / "train.txt")
    assert set(teacher["carried_f1"]) == {"PER", "LOC"} and set(teacher["carried_f1"]["LOC"]) == {"zh"}
    assert set(default["carried_forgetting"]["PER"]) == {"zh"}
    assert list(default["new_labels"]) == ["POI", "ROAD", "ROADNO", "HOUSENO"]
    run = json.loads((out / "methods" / "tNone" / "default-s1" / "labelgrow.json").read_text())
    assert run["new_types"] == ["POI", "ROAD", "ROADNO", "HOUSENO"]
    trained = (out / "data" / "new-types-only.tsv").read_text()
    assert "poi\tPOI" in trained and "person\tO" in trained and "district\tO" in trained and "roomno\tO" in trained
    scored = (out / "data" / "scored.tsv").read_text()
    assert "person\tPER" in scored and "district\tLOC" in scored and "town\tLOC" in scored and "redundant\tO" in scored
    rehearsal = json.loads((out / "methods" / "tNone" / "rehearsal-all-s1" / "labelgrow.json").read_text())
    assert len(rehearsal["settings"]["rehearsal"]) == 6  # raw text of every scored language
    assert "New-type F1 per type" in (out / "results.md").read_text()


def test_learning_curve_cuts_nested_sets_and_measures_the_min_steps_default(teacher_dir, encoder_dir, tmp_path):
    """Sizes x seeds x methods: small sizes run every seed, labelgrow's default trains --min-steps steps where 3
    epochs would be fewer, "short" does not, and the fresh model has no old labels to forget."""
    shared = fake_shared(tmp_path)
    fake_multiconer(shared, MULTICONER)
    out = tmp_path / "curve"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "learning_curve.py"), "--shared", str(tmp_path / "shared")]
    cmd += ["--encoder", str(encoder_dir), "--teacher", str(teacher_dir), "--out", str(out), "--cpu"]
    cmd += ["--sizes", "1", "0", "--seeds", "1", "2", "--many-seeds-up-to", "1", "--eval-sentences", "2"]
    cmd += ["--new-eval-sentences", "2", "--max-length", "64", "--rehearsal-sentences", "2"]
    run_benchmark([*cmd, "--methods", "rehearsal", "--sizes", "1", "--seeds", "1"])  # one point: its settings
    rehearsed = json.loads((out / "curve" / "rehearsal-n1-s1" / "labelgrow.json").read_text())
    langs = [Path(f).parent.name for f in rehearsed["settings"]["rehearsal"]]
    assert langs == ["en", "de", "zh", "es", "fr", "ru"] and rehearsed["settings"]["rehearsal_parents"]
    assert rehearsed["parents"] == {"FACILITY": ["LOC", "ORG"]}
    # natural: the point's sentence with the type, and the corpus' share without it (1 of each in the fake corpus)
    other = tmp_path / "curve-natural"
    run_benchmark([*cmd, "--methods", "natural", "--sizes", "1", "--seeds", "1", "--out", str(other)])
    point = json.loads((other / "results.json").read_text())["points"][0]
    assert point["size"] == 1 and point["sentences"] == 2
    natural = json.loads((other / "curve" / "natural-n1-s1" / "labelgrow.json").read_text())
    (trained,) = natural["settings"]["train"]
    blocks = Path(trained).read_text(encoding="utf-8").strip().split("\n\n")
    assert sorted("Facility" in b for b in blocks) == [False, True] and "s1/n1-natural/" in trained
    run_benchmark([*cmd, "--methods", "default", "fresh", "short"])
    result = json.loads((out / "results.json").read_text())
    by_key = {(r["output"].rsplit("/", 1)[-1]): r for r in result["points"]}
    # one facility sentence per training language (en, de, zh): the whole pool is 3
    assert sorted(by_key) == sorted(
        [f"{m}-n1-s{s}" for m in ("default", "fresh", "short") for s in (1, 2)]
        + [f"{m}-n3-s1" for m in ("default", "fresh", "short")]
    )
    assert by_key["default-n1-s1"]["steps"] == 100  # 3 epochs of 1 step, raised to --min-steps
    assert by_key["short-n1-s1"]["steps"] == 3
    assert "not_refinement_mean" in by_key["default-n1-s1"] and "not_refinement_mean" not in by_key["fresh-n1-s1"]
    run = json.loads((out / "curve" / "fresh-n1-s1" / "labelgrow.json").read_text())
    assert run["base"] == str(encoder_dir) and run["old_types"] == []
    first = (out / "data" / "curve" / "s1" / "n1").rglob("train.txt")
    whole = "".join(p.read_text() for p in (out / "data" / "curve" / "s1" / "n3").rglob("train.txt"))
    assert all(p.read_text().strip() in whole for p in first)  # a smaller set is part of the larger one
    text = (out / "results.md").read_text()
    assert "New-type F1:" in text and "1 sentences" in text and (out / "results.png").exists()
    # --render-only --also: another run's points in the same tables (here the natural point of its own --out)
    run_benchmark([*cmd, "--render-only", "--also", str(other)])
    both = (out / "results.md").read_text()
    assert "annotated as the text comes" in both and "annotated as the text comes" not in text


def test_freeze_sweep_puts_each_figure_against_the_depth(teacher_dir, encoder_dir, tmp_path):
    """One extension per --freeze-layers depth; depth.md/png from the runs (trainable parameters from each
    labelgrow.json, fewer the deeper the freeze), again with --render-only."""
    shared = fake_shared(tmp_path)
    fake_multiconer(shared, MULTICONER)
    out = tmp_path / "sweep"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "freeze_sweep.py"), "--shared", str(tmp_path / "shared")]
    cmd += ["--encoder", str(encoder_dir), "--teacher", str(teacher_dir), "--out", str(out), "--seeds", "1", "--cpu"]
    cmd += ["--new-sentences", "2", "--eval-sentences", "2", "--new-eval-sentences", "2", "--no-throughput"]
    cmd += ["--methods", "freeze0", "freeze2", "--max-length", "64", "--min-steps", "0"]
    run_benchmark(cmd)
    rows = [line for line in (out / "depth.md").read_text().splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split("|")[1].strip() for r in rows] == ["--freeze-layers", "0", "2"]
    trainable = [int(r.split("|")[-2].split(" of ")[0].replace(",", "")) for r in rows[1:]]
    assert trainable[0] > trainable[1] > 0
    assert (out / "depth.png").exists() and (out / "results.md").exists()
    (out / "depth.md").unlink()
    run_benchmark([*cmd, "--render-only"])
    assert (out / "depth.md").exists()


def test_freeze_sweep_splits_the_new_type_by_training_language(monkeypatch):
    """depth.md's "en/de/zh / other languages": the languages the new data has text in against the zero-shot ones."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from freeze_sweep import split_by_training

    assert split_by_training({"en": 10.0, "de": 20.0, "zh": 30.0, "es": 0.0, "fr": 4.0}) == (20.0, 2.0)


def test_a_finished_run_replaced_by_other_settings_says_what_differs(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.runs import changed_settings

    run = tmp_path / "teacher-s45"
    run.mkdir()
    stamp = {"base": "/work/wt/runs/me5s-xlmr", "seed": 45, "_labelgrow_code": "a" * 16}
    (run / "benchmark-settings.json").write_text(json.dumps({**stamp, "base": "/work/main/runs/me5s-xlmr"}))
    assert changed_settings(run, stamp) == ""  # unfinished (no labelgrow.json): nothing is being replaced
    (run / "labelgrow.json").write_text("{}")
    assert changed_settings(run, stamp) == "base: '/work/main/runs/me5s-xlmr' -> '/work/wt/runs/me5s-xlmr'"
    assert changed_settings(run, {**stamp, "base": "/work/main/runs/me5s-xlmr"}) == ""


def test_a_finished_run_that_grew_an_earlier_teacher_of_the_same_name_is_trained_again(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.runs import finished, other_base

    teacher, run = tmp_path / "teacher-s45", tmp_path / "default-s42"
    teacher.mkdir()
    run.mkdir()
    (teacher / "labelgrow.json").write_text(json.dumps({"created": "2026-11-30T08:16:49+00:00"}))
    stamp = {"base": str(teacher), "seed": 42, "_labelgrow_code": "a" * 16}
    (run / "benchmark-settings.json").write_text(json.dumps(stamp))
    history = [{"created": "2026-11-30T05:00:00+00:00"}, {"created": "2026-11-30T08:16:49+00:00"}, {"created": "x"}]
    (run / "labelgrow.json").write_text(json.dumps({"history": history}))
    assert other_base(run, stamp) == "" and finished(run, stamp)  # copied or not, the same teacher
    (teacher / "labelgrow.json").write_text(json.dumps({"created": "2026-11-30T09:30:00+00:00"}))  # trained again
    assert other_base(run, stamp) == str(teacher) and not finished(run, stamp)
    assert other_base(run, {**stamp, "base": str(tmp_path / "plain-encoder")}) == ""  # no record: not judged


def test_check_gpu_script_runs_every_command_and_reports_each_step(tmp_path):
    """scripts/check_gpu.py (run on GPU machines, never in CI) keeps working: the same steps on the CPU."""
    report = tmp_path / "check.json"
    script = [sys.executable, str(ROOT / "scripts" / "check_gpu.py"), "--work", str(tmp_path / "work")]
    done = subprocess.run(
        [*script, "--allow-cpu", "--steps", "2", "--json", str(report)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    steps = json.loads(report.read_text())["steps"]
    assert [s["step"] for s in steps if s["ok"]] == [
        "build base",
        "step 0 on the device",
        "extend (default precision)",
        "extend --teacher-cache",
        "extend --kd none",
        "eval --teacher",
        "predict",
        "pipeline(device=0)",
        "diff",
        "adapt",
        "compress",
    ]
    assert steps[1]["max_old_logit_difference"] <= 1e-5
    assert "11/11 checks passed on cpu" in done.stdout
    no_gpu = subprocess.run([*script], capture_output=True, text=True, cwd=ROOT)
    if no_gpu.returncode != 0:  # this machine has no GPU: the script refuses unless --allow-cpu
        assert "no CUDA device" in no_gpu.stderr


def test_figure_colours_follow_the_methods_that_ran_in_both_panels():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from harness.render import method_colors

    rows = [{"method": "b"}, {"method": "c"}, {"method": "b"}]
    colors = method_colors(rows, ["a", "b", "c", "joint"])
    assert list(colors) == ["b", "c"]  # "a" and "joint" ran on no cell: they take no colour
    assert colors["b"] != colors["c"]
    assert method_colors([{"method": "c"}], ["a", "b", "c"])["c"] == colors["b"]  # the first present is always first


def test_the_joint_bound_is_a_line_in_the_trade_off_panel_with_its_95_percent(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.render import figure
    from matplotlib.axes import Axes

    lines = []
    monkeypatch.setattr(Axes, "axhline", lambda self, y, **kw: lines.append((y, kw["linestyle"])))
    old = {"en": 70.0}
    rows = [
        {"method": "default", "not_refinement_mean": 0.1, "new_f1_mean": 30.0, "old_f1": old},
        {"method": "joint", "new_f1_mean": 40.0, "old_f1": old},  # trained without a teacher: no forgetting
    ]
    figure(rows, [{"old_f1": old}], ["default", "joint"], ["en"], tmp_path / "f.png")
    assert lines == [(40.0, "--"), (38.0, ":")]
    assert (tmp_path / "f.png").stat().st_size > 10000


def test_a_cell_that_forgot_everything_sits_at_the_edge_of_the_trade_off_panel(tmp_path, monkeypatch):
    """Naive fine-tuning's ~70 points of forgetting would squash every other cell against zero."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.render import FORGETTING_AXIS_LIMIT, figure
    from matplotlib.axes import Axes

    notes, limits = [], []
    monkeypatch.setattr(Axes, "annotate", lambda self, text, xy, **kw: notes.append((text, xy)))
    set_xlim = Axes.set_xlim
    monkeypatch.setattr(Axes, "set_xlim", lambda self, *a, **kw: limits.append(kw) or set_xlim(self, *a, **kw))
    old = {"en": 70.0}
    rows = [
        {"method": "naive", "not_refinement_mean": 68.2, "new_f1_mean": 32.0, "old_f1": old},
        {"method": "default", "not_refinement_mean": 0.1, "new_f1_mean": 30.0, "old_f1": old},
    ]
    figure(rows, [{"old_f1": old}], ["naive", "default"], ["en"], tmp_path / "f.png")
    assert notes == [("68", (FORGETTING_AXIS_LIMIT, 32.0))]
    assert {"right": FORGETTING_AXIS_LIMIT + 0.3} in limits
    notes.clear(), limits.clear()
    figure(rows[1:], [{"old_f1": old}], ["default"], ["en"], tmp_path / "g.png")
    assert notes == [] and {"right": FORGETTING_AXIS_LIMIT + 0.3} not in limits  # the axis is matplotlib's own


def test_a_sentence_an_evaluation_set_repeats_is_scored_once_and_the_header_says_which(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.cli import repeats_note
    from harness.scoring import load_sets, repeated_copies

    stub = "San B-LOC\nFrancisco I-LOC\n, O\nCalifornia B-LOC\n"
    es = tmp_path / "es" / "test.txt"
    en = tmp_path / "en" / "test.txt"
    for path in (es, en):
        path.parent.mkdir()
    es.write_text(f"{stub}\nAna B-PER\n\n{stub}\n{stub}\n", encoding="utf-8")
    en.write_text(stub, encoding="utf-8")  # the same words in another language are another sentence
    files = {"retention": [en, es]}
    scored = load_sets(files)["retention"].sentences
    assert [(s.lang, len(s.tokens)) for s in scored] == [("en", 4), ("es", 4), ("es", 1)]
    assert len(load_sets(files, repeats=True)["retention"].sentences) == 5
    assert repeated_copies(files) == {"retention": {"es": 2}}
    result = {"settings": {"score_repeats": False}, "repeats_not_scored": {"retention": {"es": 2}}}
    assert "copies not scored — retention: es 2" in repeats_note(result)
    assert repeats_note({"settings": {}, "repeats_not_scored": {}}) == "No evaluation sentence repeats another."
    assert "as often as they occur" in repeats_note({"settings": {"score_repeats": True}, "repeats_not_scored": {}})
    assert repeats_note({"settings": {}}) == ""  # results from before the option: nothing claimed


def test_a_failed_run_names_itself_and_shows_labelgrows_error(tmp_path):
    """harness.measure runs each training in a process forked from a warm server; its output goes to a log that the
    benchmark shows when the run fails, and only then."""
    bad = {"base": str(tmp_path / "no-such-model"), "new_labels": ["X"], "train": [], "output": str(tmp_path / "o")}
    script = (
        "import json, sys; sys.path.insert(0, 'benchmarks'); from harness.measure import extend_measured\n"
        f"extend_measured(json.loads({json.dumps(json.dumps(bad))}), 'a bad run')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1
    assert "a bad run failed (exit code 1)" in done.stderr
    assert "LabelgrowError: --train is required: give at least one training file" in done.stderr
    assert done.stdout == ""  # nothing of the run itself leaks into the benchmark's own output


def test_a_finished_run_asked_for_by_another_spelling_of_its_paths_is_reused(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.runs import changed_settings, finished

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.txt").write_text("Hamburg B-LOC\n")
    (tmp_path / "link").symlink_to(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    (run / "labelgrow.json").write_text("{}")
    stamp = {"train": ["data/train.txt"], "seed": 42, "_labelgrow_code": "a" * 16}
    (run / "benchmark-settings.json").write_text(json.dumps(stamp))
    monkeypatch.chdir(tmp_path)
    absolute = {**stamp, "train": [str(tmp_path / "data" / "train.txt")]}
    linked = {**stamp, "train": [str(tmp_path / "link" / "train.txt")]}
    for asked in (absolute, linked):
        assert finished(run, asked) and changed_settings(run, asked) == ""
    other = {**stamp, "train": [str(tmp_path / "data" / "other.txt")]}  # another file: not the same run
    assert not finished(run, other)
    assert changed_settings(run, other) == f"train: ['data/train.txt'] -> ['{tmp_path}/data/other.txt']"


def test_a_run_made_under_another_labelgrow_default_is_not_reused(tmp_path, monkeypatch):
    """The stamp holds only what a benchmark sets; a run whose labelgrow.json records another value for an option
    the benchmark leaves to labelgrow (a default changed since) is trained again, even with --reuse-other-code."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from harness.runs import changed_defaults, finished

    from labelgrow.configuration import ExtendArguments

    defaults = {f.name: f.default for f in dataclasses.fields(ExtendArguments) if f.name in ("freeze_layers", "kd")}
    run = tmp_path / "run"
    run.mkdir()
    stamp = {"seed": 42, "epochs": 2.0, "_labelgrow_code": "a" * 16}
    (run / "benchmark-settings.json").write_text(json.dumps(stamp))
    settings = {"seed": 42, "epochs": 2.0, **defaults, "an_option_removed_since": 1}
    (run / "labelgrow.json").write_text(json.dumps({"settings": settings}))
    assert changed_defaults(run, stamp) == "" and finished(run, stamp)
    (run / "labelgrow.json").write_text(json.dumps({"settings": {**settings, "freeze_layers": 7, "kd": "seed"}}))
    assert changed_defaults(run, stamp) == (
        f"freeze_layers: 7 -> {defaults['freeze_layers']!r} (labelgrow's default now); "
        f"kd: 'seed' -> {defaults['kd']!r} (labelgrow's default now)"
    )
    assert not finished(run, stamp) and not finished(run, stamp, any_code=True)
    chosen = {**stamp, "freeze_layers": 7, "kd": "seed"}  # set by the benchmark: the stamp decides
    (run / "benchmark-settings.json").write_text(json.dumps(chosen))
    assert changed_defaults(run, chosen) == "" and finished(run, chosen)
    assert changed_defaults(run, stamp, command=None) == ""  # not a training run (an interpolation's copy)


def test_decoding_variants_lower_only_the_new_labels(monkeypatch):
    """benchmarks/decoding_variants.py: the bias and the parent gate move the new labels' log-probabilities and
    nothing else; a word without sub-words (O with certainty) is left alone; the parent mass is the parents' share
    of the renormalised old slice."""
    import numpy as np

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from decoding_variants import adjusted, parent_mass

    old = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    logits = np.log(np.array([[0.5, 0.1, 0.1, 0.2, 0.1], [0.2, 0.2, 0.2, 0.2, 0.2]]))
    assert np.allclose(parent_mass(logits + 3.0, old, {"LOC"}), [0.3, 0.4])  # unnormalised input, same shares
    student = np.array([[-1.0, -2.0, -3.0, -4.0, -5.0, -0.5, -6.0], [0.0, *[-np.inf] * 6]])
    out = adjusted(student, [5, 6], bias=1.0, gate=np.array([-0.5, -0.5]))
    assert np.array_equal(out[0], [-1.0, -2.0, -3.0, -4.0, -5.0, -2.0, -7.5])
    assert np.array_equal(out[1], student[1])


def test_decoding_variants_runs_on_a_tiny_grown_model(tokenizer, teacher_dir, data_dir, tmp_path):
    from tests.tiny_models import OLD_LABELS, build_token_classifier

    grown = tmp_path / "grown"
    build_token_classifier(grown, tokenizer, labels=[*OLD_LABELS, "B-FACILITY", "I-FACILITY"], seed=1)
    out = tmp_path / "variants.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "decoding_variants.py"), "--model", str(grown)]
    cmd += ["--teacher", str(teacher_dir), "--data", str(data_dir), "--trained", "en", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert list(results)[:2] == ["labelgrow (bio)", "new-label bias 0.5"] and len(results) == 10
    plain = results["labelgrow (bio)"]
    assert set(plain["languages"]) == {"en", "de", "zh"}
    assert plain["all"]["support"] == 5  # the FACILITY entities of tests.tiny_models.TRAIN
    assert plain["trained"]["support"] == 2 and plain["others"]["support"] == 3
