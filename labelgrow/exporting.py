"""``labelgrow export``: a grown model as ONNX (and dynamically quantised int8) for deployment, checked.

Quantised multilingual models can lose a language without a sound. So an export is only called a success after
each exported file has tagged the user's gold data the way the PyTorch model does: per language, old-label and
new-label F1 of the export against the PyTorch model's on the same sentences, the same windows and the same
decoding, and no drop larger than ``--tolerance`` points. Every figure goes to OUTPUT/export.json either way.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from labelgrow.configuration import (
    InferenceArguments,
    LanguageArguments,
    _as_list,
    _check,
    call_arguments,
    check_label_map,
)
from labelgrow.errors import LabelgrowError
from labelgrow.labels import entity_types

ONNX_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"


@dataclass(kw_only=True)
class ExportArguments(InferenceArguments, LanguageArguments):
    """Everything ``labelgrow export`` needs."""

    model: str
    output: str
    data: list[Any] = field(default_factory=list)  # gold data for the check (CoNLL / span JSON)
    label_map: str | None = None
    quantize: bool = True  # also write the int8 variant
    tolerance: float = 1.0  # F1 points an export may lose in any language and label group
    opset: int = 17
    overwrite: bool = False

    def __post_init__(self) -> None:
        self.data = _as_list(self.data)
        _check(
            bool(self.data),
            "--data is required: an export is checked against the PyTorch model on gold data (a few hundred "
            "sentences per language you serve)",
        )
        _check(self.tolerance >= 0, f"--tolerance must be >= 0, not {self.tolerance}")
        _check(self.opset >= 14, f"--opset must be >= 14 (scaled dot-product attention), not {self.opset}")
        _check(not (self.bf16 or self.fp16), "--bf16/--fp16: export writes float32 ONNX (and int8 with --quantize)")
        self.check_inference()
        self.check_languages()
        check_label_map(self.label_map)


@dataclass
class ExportResult:
    """What ``labelgrow export`` wrote and measured; ``to_dict()`` is export.json."""

    model: str
    output: str
    tolerance: float
    decode: str
    old_types: list[str]
    new_types: list[str]
    data: dict[str, Any]
    variants: dict[str, dict[str, Any]]  # "pytorch", "onnx", "onnx-int8" -> file, size, speed, F1, drops, passed

    @property
    def passed(self) -> bool:
        return all(v.get("passed", True) for v in self.variants.values())

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "passed": self.passed}


def _onnx_runtime():
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        raise LabelgrowError("labelgrow export needs onnx and onnxruntime: pip install 'labelgrow[export]'") from None
    return onnxruntime


class LogitsOnly(torch.nn.Module):
    """A token classifier's forward with positional (input_ids, attention_mask) in and logits out: what the
    exporter traces."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


class OnnxTokenClassifier(torch.nn.Module):
    """An ONNX Runtime session behind the interface labelgrow.inference expects of a model: ``config``,
    ``parameters()`` (for the device: the CPU), ``eval()`` and ``model(input_ids=, attention_mask=).logits``."""

    def __init__(self, path: Path, config) -> None:
        super().__init__()
        ort = _onnx_runtime()
        self.config = config
        self.anchor = torch.nn.Parameter(torch.zeros(0), requires_grad=False)
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        feeds = {
            "input_ids": input_ids.numpy().astype(np.int64),
            "attention_mask": attention_mask.numpy().astype(np.int64),
        }
        (logits,) = self.session.run(["logits"], feeds)
        return type("TokenClassifierOutput", (), {"logits": torch.from_numpy(logits)})()


def export_onnx(model, tokenizer, path: Path, opset: int = 17) -> None:
    """Trace ``model`` (a token classifier, float32, CPU) to ONNX with dynamic batch and sequence axes; inputs
    ``input_ids`` and ``attention_mask`` (int64), output ``logits`` [batch, sequence, labels]. A model over
    protobuf's 2 GB (XLM-R large in float32) keeps its weights in one external file, PATH.data (the exporter alone
    would write one file per tensor)."""
    import tempfile
    import warnings

    sample = tokenizer(["labelgrow export", "a second, longer sample sentence"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        traced = Path(scratch) / path.name
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(
                LogitsOnly(model.eval()),
                (sample["input_ids"], sample["attention_mask"]),
                str(traced),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": axes},
                opset_version=opset,
                dynamo=False,  # the TorchScript exporter: dynamic shapes for HF encoders without onnxscript
            )
        if len(list(Path(scratch).iterdir())) == 1:  # weights inline: under 2 GB
            traced.replace(path)
            return
        import onnx

        graph = onnx.load(str(traced))  # with its external tensors
        onnx.save_model(graph, str(path), save_as_external_data=True, location=f"{path.name}.data")


def onnx_megabytes(path: Path) -> float:
    """The size of an ONNX model with its external data file, if it has one."""
    data = path.with_name(f"{path.name}.data")
    return round((path.stat().st_size + (data.stat().st_size if data.exists() else 0)) / 2**20, 1)


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights (activations quantised on the fly): onnxruntime's
    ``quantize_dynamic``, signed int8. A float32 model over protobuf's 2 GB (XLM-R large) is exported with its
    weights in external data files beside it, and quantisation then reads and writes that format too."""
    _onnx_runtime()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer)
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, use_external_data_format=external)


def run_export(args: ExportArguments) -> ExportResult:
    """Export ``args.model`` to OUTPUT/model.onnx (and model_int8.onnx), check each file against the PyTorch model
    on ``args.data`` (``passed``: no language and label group loses more than ``args.tolerance`` F1 points) and
    write OUTPUT/export.json. ``check_passed`` turns a failed check into an error."""
    from labelgrow.data import load_corpus
    from labelgrow.evaluation import measure_models, model_labels, old_and_new_types
    from labelgrow.labels import LabelMap, check_known_tags
    from labelgrow.languages import assign_corpus_languages
    from labelgrow.metrics import f1_drops
    from labelgrow.modeling import load_base
    from labelgrow.outputs import RUN_FILE, read_run_record

    _onnx_runtime()
    output = Path(args.output)
    if output.exists() and any(output.iterdir()):
        if not args.overwrite:
            raise LabelgrowError(f"--output {output} is not empty (--overwrite replaces an earlier export there)")
        if not (output / "export.json").exists():
            raise LabelgrowError(f"--overwrite: {output} holds no labelgrow export (no export.json); not deleting it")
        shutil.rmtree(output)
    labels = model_labels(args.model, args.trust_remote_code)
    label_map = LabelMap.read(args.label_map) if args.label_map else None
    corpus = assign_corpus_languages(load_corpus(args.data, args.given_lang, label_map), args, "--data")
    check_known_tags(corpus.sentences, labels, "the check data", "Map them with --label-map.")
    old_types, new_types = old_and_new_types(entity_types(labels), read_run_record(args.model), None)

    output.mkdir(parents=True, exist_ok=True)
    base = load_base(args.model, args.trust_remote_code, args.allow_pickle)
    if base.teacher is None:
        raise LabelgrowError(f"--model {args.model} has no token-classification head to export")
    model = base.teacher.float().to("cpu").eval()
    files = {"onnx": output / ONNX_FILE}
    export_onnx(model, base.tokenizer, files["onnx"], args.opset)
    if args.quantize:
        files["onnx-int8"] = output / INT8_FILE
        quantize_int8(files["onnx"], files["onnx-int8"])
    model.config.save_pretrained(str(output))
    base.tokenizer.save_pretrained(str(output))
    record = Path(args.model) / RUN_FILE
    if record.exists():
        shutil.copy(record, output / RUN_FILE)

    runners = {"pytorch": model, **{name: OnnxTokenClassifier(path, model.config) for name, path in files.items()}}
    variants = measure_models(
        runners, base.tokenizer, corpus.sentences, old_types, new_types, args.batch_size, args.max_length, args.decode
    )
    for name, variant in variants.items():
        path = files.get(name)
        variant.update(file=path.name if path else args.model, megabytes=onnx_megabytes(path) if path else None)
    reference = variants["pytorch"]["f1"]
    for name in files:
        lost = f1_drops(reference, variants[name]["f1"])
        worst = max((v for per in lost.values() for v in per.values()), default=0.0)
        variants[name].update({"drop": lost, "worst_drop": worst, "passed": worst <= args.tolerance})
    result = ExportResult(
        model=args.model,
        output=str(output),
        tolerance=args.tolerance,
        decode=args.decode,
        old_types=old_types,
        new_types=new_types,
        data={
            "files": corpus.files,
            "sentences": len(corpus.sentences),
            "words": sum(len(s.tokens) for s in corpus.sentences),
            "languages": corpus.languages(),
        },
        variants=variants,
    )
    (output / "export.json").write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return result


def check_passed(result: ExportResult) -> None:
    """Raise, naming each file that lost more than the tolerance and its worst drop, unless every export passed."""
    failed = {n: v for n, v in result.variants.items() if v.get("passed") is False}
    if failed:
        lost = "; ".join(
            f"{v['file']} loses up to {v['worst_drop']:.1f} F1 points (tolerance {result.tolerance:g})"
            for v in failed.values()
        )
        raise LabelgrowError(
            f"export check failed: {lost}. Do not deploy it; every figure is in {Path(result.output) / 'export.json'}"
        )


def export(args: ExportArguments | None = None, /, **kwargs: Any) -> ExportResult:
    """The Python face of ``labelgrow export``: ``export(model=..., output=..., data=[...])``; raises
    ``LabelgrowError`` (after writing export.json) when an export fails the check."""
    args = call_arguments(ExportArguments, args, kwargs)
    result = run_export(args)
    check_passed(result)
    return result


def export_table(result: ExportResult) -> str:
    """One row per file and language: F1 of the old and new labels, the drop against PyTorch, size and speed, and
    whether the file passed."""
    from labelgrow.report import side_by_side_table

    passed = ("passed", lambda v: {True: "yes", False: "NO"}.get(v.get("passed"), "-"))
    return side_by_side_table(result.variants, "pytorch", after=[passed], name="file")
