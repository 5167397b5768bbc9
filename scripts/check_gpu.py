"""Check labelgrow on a CUDA GPU: every command end to end on the device, plus the checks only a GPU run can fail.

The suite runs on CPUs (CI has no GPU). This script is what to run on a GPU machine before trusting labelgrow there:
it builds a random base model of a chosen size (no download; ``--tokenizer DIR`` for a real vocabulary), then

- step 0 on the device: the grown student's predictions equal the teacher's, its old logits to float rounding (a
  wider classifier product may sum in another order), in fp32;
- ``extend`` with the default precision (teacher in bf16 where the GPU has it), with ``--bf16`` and ``--fp16`` (AMP),
  and with ``--teacher-cache``: finite losses, every optimizer step taken, the device recorded in labelgrow.json;
- ``eval --teacher`` (the change report), ``predict``, ``pipeline("token-classification", device=0)``, ``diff``,
  ``adapt`` and ``compress`` on the grown model.

Each step's wall time and peak GPU memory are printed and written to ``--json``; the exit status is 1 if any check
failed. ``--allow-cpu`` runs the same steps without a GPU (how the script itself is tested).

Usage:
    python scripts/check_gpu.py --work /tmp/gpu-check --size large --tokenizer runs/me5s-xlmr --json gpu-check.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.tiny_models import OLD_LABELS  # noqa: E402  (the tests' head order, not alphabetical)

# Shapes of XLM-RoBERTa; "large" is julian-schelb/roberta-ner-multilingual's (the default teacher) shape.
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 64},
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
}
TRAIN = [str(ROOT / "data" / "facility" / lang / "train.txt") for lang in ("en", "de", "zh")]
TEST = [str(ROOT / "data" / "test" / lang / "test.txt") for lang in ("en", "de", "zh")]
SENTENCE = "Angela Merkel opened the new terminal of Munich Airport with Lufthansa ."


def build_base(directory: Path, size: str, tokenizer_dir: str | None) -> None:
    """A random XLM-R token classifier of ``size`` with the WikiANN labels (the tests' builder), saved with its
    tokenizer."""
    from transformers import AutoTokenizer

    from tests.tiny_models import build_token_classifier, build_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir) if tokenizer_dir else build_tokenizer(directory / "tok")
    shape = {**SIZES[size], "max_position_embeddings": 514, "pad_token_id": tokenizer.pad_token_id}
    build_token_classifier(directory, tokenizer, OLD_LABELS, **shape)


def check_step0(base: Path, device: str) -> dict[str, Any]:
    """The grown student predicts what the teacher does on the device; its old logits equal the teacher's to float
    rounding (1e-5 of their scale): its weights are the teacher's bit for bit, but the wider product may sum in
    another order."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from labelgrow.labels import LabelSet
    from labelgrow.modeling import expand_classifier

    tokenizer = AutoTokenizer.from_pretrained(str(base))
    teacher = AutoModelForTokenClassification.from_pretrained(str(base)).to(device).eval()
    student = AutoModelForTokenClassification.from_pretrained(str(base))
    labels = LabelSet(tuple(teacher.config.id2label[i] for i in range(len(OLD_LABELS))), ("FACILITY",))
    student = expand_classifier(student, labels).to(device).eval()
    texts = [SENTENCE, "Der Flughafen München liegt nördlich von München .", "北京首都国际机场位于北京市朝阳区。"]
    batch = tokenizer(texts, return_tensors="pt", padding=True).to(device)
    with torch.no_grad():
        old, new = teacher(**batch).logits, student(**batch).logits
    difference = (old - new[..., : len(OLD_LABELS)]).abs().max().item()
    scale = max(1.0, old.abs().max().item())
    if difference > 1e-5 * scale or not torch.equal(old.argmax(-1), new.argmax(-1)):
        raise AssertionError(f"step 0: old logits differ by up to {difference:.3g} (scale {scale:.3g})")
    return {"positions": int(batch["attention_mask"].sum()), "max_old_logit_difference": difference}


def training_record(output: Path, steps: int) -> dict[str, Any]:
    """Read labelgrow.json: every optimizer step taken, a finite loss, the device used."""
    run = json.loads((output / "labelgrow.json").read_text())
    training = run["training"]
    if training["global_steps"] != steps:
        raise AssertionError(f"{output}: {training['global_steps']} optimizer steps, {steps} asked")
    losses = [loss for _, loss in training.get("loss_curve", [])] + [training["train_loss"]]
    if not all(math.isfinite(loss) for loss in losses):
        raise AssertionError(f"{output}: a loss is not finite: {losses}")
    return {"device": training["device"], "train_s": training["wall_seconds"], "train_loss": training["train_loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="where the models go (GBs at --size large)")
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--tokenizer", help="a tokenizer directory (e.g. a built me5s-xlmr); default: a tiny one")
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps of each extend run")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--allow-cpu", action="store_true", help="run without a GPU (to test this script)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available() and not args.allow_cpu:
        sys.exit("no CUDA device: this script checks labelgrow on a GPU (--allow-cpu runs it anyway)")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cpu = device == "cpu"
    import labelgrow
    from labelgrow.outputs import versions

    base, grown = args.work / "base", args.work / "grown"
    results: list[dict[str, Any]] = []

    def step(name: str, run: Callable[[], Any]) -> None:
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        row: dict[str, Any] = {"step": name}
        try:
            found = run()
            row.update(found if isinstance(found, dict) else {})
            row["ok"] = True
        except Exception as error:  # report every failing step, not only the first
            row.update(ok=False, error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc()[-3000:])
        row["wall_s"] = round(time.perf_counter() - start, 2)
        if device == "cuda":
            row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
        results.append(row)
        state = "ok" if row["ok"] else f"FAILED {row['error']}"
        print(f"[{name}] {state} ({row['wall_s']} s, peak GPU {row.get('peak_gpu_mb', '-')} MB)", flush=True)

    common = {"base": str(base), "new_labels": ["FACILITY"], "train": TRAIN, "max_steps": args.steps, "cpu": cpu}

    def extend(output: Path, **options: Any) -> dict[str, Any]:
        labelgrow.extend(**common, output=str(output), overwrite=True, **options)
        return training_record(output, args.steps)

    step("build base", lambda: build_base(base, args.size, args.tokenizer))
    step("step 0 on the device", lambda: check_step0(base, device))
    step("extend (default precision)", lambda: extend(grown))
    if not cpu:
        step("extend --bf16", lambda: extend(args.work / "bf16", bf16=True))
        step("extend --fp16", lambda: extend(args.work / "fp16", fp16=True))
    step("extend --teacher-cache", lambda: extend(args.work / "cache", teacher_cache=True))
    step("extend --kd none", lambda: extend(args.work / "nokd", kd="none"))

    def evaluate() -> dict[str, Any]:
        report = args.work / "report"
        result = labelgrow.evaluate(model=str(grown), data=TEST, teacher=str(base), report=str(report), cpu=cpu)
        written = json.loads((report / "report.json").read_text())
        if not result.changes or "changes" not in written:
            raise AssertionError(f"no change report: report.json holds {sorted(written)}")
        return {"languages": sorted(result.scores)}

    def predict() -> dict[str, Any]:
        rows = labelgrow.predict(model=str(grown), texts=[SENTENCE], cpu=cpu)
        return {"entities": len(rows[0]["entities"])}

    def pipeline() -> dict[str, Any]:
        from transformers import pipeline as hf_pipeline

        tagger = hf_pipeline("token-classification", model=str(grown), device=0 if not cpu else -1)
        found = tagger(SENTENCE)
        labels = set(json.loads((grown / "config.json").read_text())["id2label"].values())
        if not {item["entity"] for item in found} <= labels:
            raise AssertionError(f"pipeline returned labels outside the model's: {found}")
        return {"tokens_tagged": len(found)}

    step("eval --teacher", evaluate)
    step("predict", predict)
    step("pipeline(device=0)", pipeline)
    step("diff", lambda: {"changes": bool(labelgrow.diff(teacher=str(base), model=str(grown), data=TEST, cpu=cpu))})
    raw = args.work / "raw.txt"
    raw.write_text("\n".join([SENTENCE, "Der Flughafen München liegt nördlich von München ."] * 20) + "\n")
    step(
        "adapt",
        lambda: labelgrow.adapt(
            model=str(base),
            output=str(args.work / "adapted"),
            raw=[str(raw)],
            max_steps=6,
            head_warmup_steps=2,
            check_sentences=5,
            cpu=cpu,
            overwrite=True,
        ),
    )
    step(
        "compress",
        lambda: labelgrow.compress(
            model=str(grown),
            output=str(args.work / "small"),
            train=TRAIN,
            layers=2,
            max_steps=6,
            cpu=cpu,
            overwrite=True,
        ),
    )

    summary = {"size": args.size, "device": device, "versions": versions(), "steps": results}
    if device == "cuda":
        summary["gpu"] = torch.cuda.get_device_name(0)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    failed = [row["step"] for row in results if not row["ok"]]
    for row in results:
        if not row["ok"]:
            print(f"\n--- {row['step']} ---\n{row['traceback']}")
    print(f"\n{len(results) - len(failed)}/{len(results)} checks passed on {summary.get('gpu', device)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
