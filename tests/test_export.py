"""`labelgrow export`: ONNX files that tag like the PyTorch model, and a check that refuses the ones that do not
(lexicon models, whose predictions are known exactly)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from labelgrow.errors import LabelgrowError
from labelgrow.exporting import ExportArguments, OnnxTokenClassifier, export, export_onnx, run_export
from tests.helpers import run_cli
from tests.tiny_models import OLD_LABELS, build_lexicon_model, build_lexicon_tokenizer, build_token_classifier

LABELS = [*OLD_LABELS, "B-FACILITY", "I-FACILITY"]
GROWN = {"Angela": "B-PER", "Merkel": "I-PER", "Hamburg": "B-LOC", "Elbphilharmonie": "B-FACILITY", "上": "B-FACILITY"}
GOLD = {
    "en": "Angela B-PER\nMerkel I-PER\nvisited O\nHamburg B-LOC\n. O\n\nthe O\nElbphilharmonie B-FACILITY\n",
    "de": "Die O\nElbphilharmonie B-FACILITY\nliegt O\nin O\nHamburg B-LOC\n",
    "zh": "上 B-FACILITY\n很 O\n大 O\n",
}


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    tokenizer = build_lexicon_tokenizer(root / "tokenizer", sorted(GROWN))
    build_lexicon_model(root / "grown", tokenizer, GROWN, LABELS)
    (root / "grown" / "labelgrow.json").write_text(json.dumps({"new_types": ["FACILITY"]}))
    for lang, text in GOLD.items():
        (root / "gold" / lang).mkdir(parents=True)
        (root / "gold" / lang / "test.txt").write_text(text, encoding="utf-8")
    return root


def test_onnx_logits_match_pytorch_on_padded_batches_of_another_shape(tokenizer, tmp_path):
    """Traced on a batch of 2, the ONNX file takes any batch and length, and padding changes nothing."""
    model = build_token_classifier(None, tokenizer).eval()
    export_onnx(model, tokenizer, tmp_path / "model.onnx")
    runner = OnnxTokenClassifier(tmp_path / "model.onnx", model.config)
    batch = tokenizer(
        ["Angela Merkel visited Hamburg .", "Die Elbphilharmonie", "上海火车站每天有很多旅客。"],
        padding=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        expected = model(**batch).logits.numpy()
    got = runner(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.numpy()
    real = batch["attention_mask"].numpy().astype(bool)
    assert got.shape == expected.shape
    assert np.abs(got[real] - expected[real]).max() < 1e-4


def test_export_writes_onnx_int8_and_a_passed_check_per_language(grown, tmp_path):
    out = tmp_path / "onnx"
    result = run_export(ExportArguments(model=str(grown / "grown"), data=[str(grown / "gold")], output=str(out)))
    assert result.passed and sorted(result.variants) == ["onnx", "onnx-int8", "pytorch"]
    assert result.old_types == ["PER", "ORG", "LOC"] and result.new_types == ["FACILITY"]
    pytorch = result.variants["pytorch"]["f1"]
    assert pytorch["en"] == {"old": 100.0, "new": 100.0} and pytorch["zh"] == {"old": None, "new": 100.0}
    assert result.variants["onnx"]["f1"] == pytorch  # fp32: the same tags
    assert result.variants["onnx"]["drop"]["zh"] == {"new": 0.0}  # no old gold in zh: no old drop either
    for name in ("model.onnx", "model_int8.onnx", "config.json", "tokenizer.json", "labelgrow.json", "export.json"):
        assert (out / name).exists(), name
    saved = json.loads((out / "export.json").read_text())
    assert saved["passed"] is True and saved["variants"]["onnx-int8"]["file"] == "model_int8.onnx"


def test_an_export_that_tags_differently_fails_the_check_and_says_so(grown, tmp_path, monkeypatch):
    """A stand-in for a quantisation that loses a type: the "int8" file is a model that no longer knows Hamburg."""
    import labelgrow.exporting as exporting

    tokenizer_dir = grown / "tokenizer"
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    broken = build_lexicon_model(tmp_path / "broken", tokenizer, {**GROWN, "Hamburg": "O"}, LABELS)
    monkeypatch.setattr(exporting, "quantize_int8", lambda source, target: export_onnx(broken, tokenizer, target))
    out = tmp_path / "onnx"
    with pytest.raises(LabelgrowError, match=r"model_int8.onnx loses up to 100.0 F1 points \(tolerance 1\)"):
        export(ExportArguments(model=str(grown / "grown"), data=[str(grown / "gold")], output=str(out)))
    saved = json.loads((out / "export.json").read_text())
    assert saved["passed"] is False
    assert saved["variants"]["onnx"]["passed"] is True and saved["variants"]["onnx-int8"]["passed"] is False
    assert saved["variants"]["onnx-int8"]["drop"]["de"]["old"] == 100.0  # de's only old entity is Hamburg


def test_the_command_shows_the_table_before_it_refuses(grown, tmp_path, monkeypatch, capsys):
    from transformers import AutoTokenizer

    import labelgrow.exporting as exporting

    tokenizer = AutoTokenizer.from_pretrained(str(grown / "tokenizer"))
    broken = build_lexicon_model(tmp_path / "broken", tokenizer, {**GROWN, "Elbphilharmonie": "O"}, LABELS)
    monkeypatch.setattr(exporting, "quantize_int8", lambda source, target: export_onnx(broken, tokenizer, target))
    args = ["export", "--model", str(grown / "grown"), "--data", str(grown / "gold"), "--output", str(tmp_path / "o")]
    code, stdout, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and "export check failed: model_int8.onnx loses up to" in err
    assert "onnx-int8" in stdout and "NO" in stdout and "export check passed" not in stdout


def test_export_cli_prints_the_check_and_refuses_bad_input(grown, tmp_path, monkeypatch, capsys):
    out = tmp_path / "cli"
    args = ["export", "--model", str(grown / "grown"), "--data", str(grown / "gold"), "--output", str(out)]
    code, stdout, err = run_cli([*args, "--no-quantize"], monkeypatch, capsys)
    assert code == 0, err
    assert "export check passed" in stdout and "onnx" in stdout and not (out / "model_int8.onnx").exists()
    code, _, err = run_cli([*args, "--no-quantize"], monkeypatch, capsys)
    assert code == 2 and "is not empty (--overwrite replaces an earlier export there)" in err
    code, _, err = run_cli([*args, "--overwrite", "--tolerance", "-1"], monkeypatch, capsys)
    assert code == 2 and "--tolerance must be >= 0, not -1.0" in err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    code, _, err = run_cli([*args[:-1], str(tmp_path / "mine"), "--overwrite"], monkeypatch, capsys)
    assert code == 2 and "holds no labelgrow export (no export.json); not deleting it" in err
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_weights_in_an_external_file_are_quantised_into_one_too(tokenizer, tmp_path):
    """Models over 2 GB (XLM-R large) keep their weights in MODEL.onnx.data; quantisation must read and write that
    layout (checked here on a tiny model saved that way, and once by hand on a random XLM-R-large-sized model:
    docs/benchmarks.md)."""
    import onnx

    from labelgrow.exporting import onnx_megabytes, quantize_int8

    model = build_token_classifier(None, tokenizer).eval()
    export_onnx(model, tokenizer, tmp_path / "inline.onnx")
    external = tmp_path / "external" / "model.onnx"
    external.parent.mkdir()
    onnx.save_model(
        onnx.load(str(tmp_path / "inline.onnx")),
        str(external),
        save_as_external_data=True,
        location="model.onnx.data",
        size_threshold=0,
    )
    assert (external.parent / "model.onnx.data").stat().st_size > external.stat().st_size
    target = external.parent / "model_int8.onnx"
    quantize_int8(external, target)
    assert (external.parent / "model_int8.onnx.data").exists()
    assert onnx_megabytes(target) > target.stat().st_size / 2**20
    batch = tokenizer(["Angela Merkel visited Hamburg ."], return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).logits.numpy()
    got = OnnxTokenClassifier(target, model.config)(**batch).logits.numpy()
    assert np.abs(got - expected).max() < 0.1 * np.abs(expected).max()  # int8: close, not equal
