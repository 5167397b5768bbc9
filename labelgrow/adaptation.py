"""``labelgrow adapt``: domain-adaptive masked-LM training of a token classifier's encoder that keeps its tags.

The choice (docs/method.md, "Adapting to the domain"): adapt the model *before* it is grown, not the student inside
``extend``. ``extend`` distils the teacher's view of the old labels into the student and starts from "the student
predicts exactly what the teacher does"; an auxiliary MLM loss inside ``extend`` would move the student's encoder
away from the teacher's while distillation pulls it back, and would cost an LM forward on every step of every
extension. Adapted first, the teacher and the student share the adapted encoder, and every later ``extend`` on
that domain reuses it.

Adapting a NER model's encoder by masked-LM alone would silently change what its head predicts (the head reads
features the MLM moves). So the loss is masked-LM cross-entropy on whole-word-masked text **plus distillation
from the unadapted model's tag distribution** on the same input at every position (``--ner-kd``), and the result
is re-checked: held-out raw text is tagged by both models and every entity of the original is followed (kept,
lost, confused, boundary: metrics.change_report), and with ``--eval-data`` both are scored side by side.

A token classifier ships no MLM head. Its head here is the standard transform (dense, GELU, LayerNorm) read out
through the *tied* input embeddings (so only the transform and a bias are new), initialised from a masked-LM
checkpoint of the same vocabulary when ``--mlm-head`` names one, else at random and trained alone for
``--head-warmup-steps`` before the encoder moves (a random head's gradient would otherwise reach the encoder as
noise). The head is dropped at the end: the output is the same token classifier, adapted.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from labelgrow.configuration import (
    Decoding,
    LanguageArguments,
    RuntimeArguments,
    TrainingOptions,
    _as_list,
    _check,
    call_arguments,
    check_label_map,
    choice,
    settings_dict,
)
from labelgrow.errors import LabelgrowError
from labelgrow.losses import IGNORE_INDEX, distillation

logger = logging.getLogger(__name__)

ADAPT_FILE = "adapt.json"
# where masked-LM checkpoints keep the transform of their LM head: (dense, layer norm, output bias)
MLM_HEAD_NAMES = (
    ("lm_head.dense", "lm_head.layer_norm", "lm_head.bias"),  # RoBERTa, XLM-R, CamemBERT
    ("cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.bias"),  # BERT
)


@dataclass(kw_only=True)
class AdaptArguments(TrainingOptions, RuntimeArguments, LanguageArguments):
    """Everything ``labelgrow adapt`` needs. Training options are extend's; the learning rate of the new LM head
    is ``head_learning_rate``."""

    model: str
    output: str
    raw: list[Any] = field(default_factory=list)  # in-domain text: one text per line, or CoNLL (tags dropped)
    eval_data: list[Any] = field(default_factory=list)  # gold data: the original and the adapted model side by side
    label_map: str | None = None
    mlm_probability: float = 0.15  # share of words masked (all their sub-words together)
    ner_kd: float = 1.0  # weight of distillation from the original model's tags; 0 = masked-LM alone
    head_warmup_steps: int = 100  # steps that train the new LM head alone, the encoder held still
    mlm_head: str | None = None  # a masked-LM checkpoint (same vocabulary) to start the LM head from
    freeze_layers: int = 0
    check_sentences: int = 500  # raw sentences held out of training for the re-check (0: none)
    epochs: float = 1.0
    min_steps: int = 300
    head_learning_rate: float | None = 1e-3
    decode: str = "bio"

    def __post_init__(self) -> None:
        for name in ("raw", "eval_data"):
            setattr(self, name, _as_list(getattr(self, name)))
        _check(bool(self.model), "--model is required: the token classifier to adapt")
        _check(bool(self.output), "--output is required: the directory to write the adapted model to")
        _check(bool(self.raw), "--raw is required: in-domain text to adapt to (one text per line, or CoNLL)")
        _check(0.0 < self.mlm_probability < 1.0, f"--mlm-probability must be in (0, 1), not {self.mlm_probability}")
        _check(self.ner_kd >= 0, f"--ner-kd must be >= 0, not {self.ner_kd}")
        _check(self.head_warmup_steps >= 0, f"--head-warmup-steps must be >= 0, not {self.head_warmup_steps}")
        _check(self.freeze_layers >= 0, f"--freeze-layers must be >= 0, not {self.freeze_layers}")
        _check(self.check_sentences >= 0, f"--check-sentences must be >= 0, not {self.check_sentences}")
        self.decode = choice(self.decode, Decoding, "--decode")
        self.check_training(False)
        self.check_runtime()
        self.check_languages()
        check_label_map(self.label_map)

    @property
    def base(self) -> str:
        """The model adapted (labelgrow.json's "base")."""
        return self.model

    def to_dict(self) -> dict[str, Any]:
        return settings_dict(self, ("raw", "eval_data"))


@dataclass
class AdaptResult:
    output: Path
    check: dict[str, Any]  # adapt.json: the re-check of the adapted model against the original


class MaskedLMHead(nn.Module):
    """dense -> GELU -> LayerNorm, read out through the (tied, not owned) input embeddings plus a bias. The
    embeddings are held outside the module's parameters, so the state dict has no shared tensor and the Trainer's
    checkpoints stay plain safetensors."""

    def __init__(self, embeddings: nn.Embedding, layer_norm_eps: float = 1e-5) -> None:
        super().__init__()
        vocab, hidden = embeddings.weight.shape
        self.dense = nn.Linear(hidden, hidden)
        self.layer_norm = nn.LayerNorm(hidden, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(vocab))
        object.__setattr__(self, "embeddings", embeddings)  # not a submodule: the model owns it

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        features = self.layer_norm(F.gelu(self.dense(hidden)))
        return F.linear(features, self.embeddings.weight, self.bias)


class AdaptModel(nn.Module):
    """The token classifier being adapted and its LM head, trained together; the classifier alone is saved."""

    def __init__(self, model: nn.Module, head: MaskedLMHead) -> None:
        super().__init__()
        self.model = model
        self.head = head

    def forward(self, input_ids, attention_mask, mlm_labels=None, encoder_grad: bool = True):
        with contextlib.nullcontext() if encoder_grad else torch.no_grad():
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        hidden = out.hidden_states[-1]
        masked = (mlm_labels != IGNORE_INDEX) if mlm_labels is not None else None
        mlm_logits = self.head(hidden[masked]) if masked is not None else None  # only where a word is masked
        return out.logits, mlm_logits


def mlm_head_for(model: nn.Module, source: str | None, trust_remote_code: bool = False) -> MaskedLMHead:
    """A new LM head over ``model``'s input embeddings, its transform copied from the masked-LM checkpoint
    ``source`` when given (which must share the vocabulary and hidden size)."""
    config = model.config
    eps = getattr(config, "layer_norm_eps", 1e-5)
    head = MaskedLMHead(model.get_input_embeddings(), eps)
    if source is None:
        return head
    from transformers import AutoModelForMaskedLM

    try:
        donor = AutoModelForMaskedLM.from_pretrained(source, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise LabelgrowError(f"--mlm-head {source}: cannot load a masked-LM model ({reason})") from None
    state = donor.state_dict()
    layout = next((names for names in MLM_HEAD_NAMES if f"{names[0]}.weight" in state), None)
    if layout is None:
        raise LabelgrowError(
            f"--mlm-head {source}: no LM head of a known layout (lm_head.dense or cls.predictions.transform.dense)"
        )
    dense, norm, bias = layout
    if state[bias].shape != head.bias.shape or state[f"{dense}.weight"].shape != head.dense.weight.shape:
        raise LabelgrowError(
            f"--mlm-head {source}: its head is {tuple(state[f'{dense}.weight'].shape)} over a vocabulary of "
            f"{state[bias].shape[0]}, the model's {tuple(head.dense.weight.shape)} over {head.bias.shape[0]}"
        )
    with torch.no_grad():
        for target, name in ((head.dense, dense), (head.layer_norm, norm)):
            target.weight.copy_(state[f"{name}.weight"])
            target.bias.copy_(state[f"{name}.bias"])
        head.bias.copy_(state[bias])
    logger.info("LM head from %s", source)
    return head


def mask_whole_words(
    input_ids: Sequence[int],
    spans: Sequence[tuple[int, int]],
    probability: float,
    generator: random.Random,
    mask_id: int,
    vocab_size: int,
) -> tuple[list[int], list[int]]:
    """Choose ``round(probability * words)`` words (at least one) and mask all their sub-words: the whole word
    becomes the mask token (80 %), random tokens (10 %) or stays (10 %), as BERT does per token. Returns the new
    ids and the labels (the original id where masked, -100 elsewhere)."""
    ids, labels = list(input_ids), [IGNORE_INDEX] * len(input_ids)
    if not spans:
        return ids, labels
    count = min(len(spans), max(1, round(probability * len(spans))))
    for start, end in generator.sample(list(spans), count):
        roll = generator.random()
        for position in range(start, end):
            labels[position] = ids[position]
            if roll < 0.8:
                ids[position] = mask_id
            elif roll < 0.9:
                ids[position] = generator.randrange(vocab_size)
    return ids, labels


class MaskingCollator:
    """Pads a batch and masks whole words afresh each time a window is drawn (dynamic masking), from a seeded
    generator."""

    def __init__(self, pad_id: int, mask_id: int, vocab_size: int, probability: float, seed: int) -> None:
        self.pad_id, self.mask_id, self.vocab_size, self.probability = pad_id, mask_id, vocab_size, probability
        self.generator = random.Random(seed)

    def __call__(self, features: Sequence[dict]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), longest), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), longest), dtype=torch.long)
        labels = torch.full((len(features), longest), IGNORE_INDEX, dtype=torch.long)
        for i, f in enumerate(features):
            masked, targets = mask_whole_words(
                f["input_ids"], f["spans"], self.probability, self.generator, self.mask_id, self.vocab_size
            )
            n = len(masked)
            ids[i, :n], labels[i, :n], mask[i, :n] = torch.tensor(masked), torch.tensor(targets), 1
        return {"input_ids": ids, "attention_mask": mask, "mlm_labels": labels}


def word_spans(windows) -> list[dict[str, Any]]:
    """Training features: each window's ids and the sub-word span of every word it owns."""
    return [
        {"input_ids": w.input_ids, "spans": list(zip([p for _, p in w.words], w.ends, strict=True))} for w in windows
    ]


def adapt_loss(
    ner_logits: torch.Tensor,
    mlm_logits: torch.Tensor,
    mlm_labels: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    attention_mask: torch.Tensor,
    ner_kd: float,
    temperature: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean masked-LM cross-entropy over masked sub-words plus ``ner_kd`` x T^2 x the mean KL(original || adapted)
    over every real position's tag distribution. Returns (loss, mlm, kd)."""
    targets = mlm_labels[mlm_labels != IGNORE_INDEX]
    mlm = F.cross_entropy(mlm_logits.float(), targets) if targets.numel() else mlm_logits.sum() * 0.0
    kd = torch.zeros((), device=ner_logits.device)
    if teacher_logits is not None and ner_kd > 0:
        real = attention_mask.bool()
        kd = distillation(ner_logits[real].float(), teacher_logits[real].float(), temperature).mean()
        kd = kd * temperature**2
    return mlm + ner_kd * kd, mlm.detach(), kd.detach()


def make_trainer_class():
    """AdaptTrainer, built on first use so that importing this module does not import transformers."""
    from transformers import Trainer

    from labelgrow.trainer import optimizer_with_head

    class AdaptTrainer(Trainer):
        """Trainer over an AdaptModel: masked-LM plus distillation from the frozen original; the LM head alone for
        the first ``head_warmup_steps``; the head in its own optimizer group at ``head_learning_rate``."""

        def __init__(self, *args, teacher, ner_kd, temperature, head_warmup_steps, head_learning_rate, **kwargs):
            super().__init__(*args, **kwargs)
            self.teacher = teacher.to(self.args.device).eval().requires_grad_(False) if teacher is not None else None
            self.ner_kd, self.temperature = ner_kd, temperature
            self.head_warmup_steps, self.head_learning_rate = head_warmup_steps, head_learning_rate
            self._parts = {"mlm": 0.0, "kd": 0.0, "n": 0}

        def create_optimizer(self, model=None):
            if self.optimizer is not None or self.head_learning_rate is None:
                return super().create_optimizer(model) if self.optimizer is None else self.optimizer
            model = self.model if model is None else model
            head = {id(p) for p in self.accelerator.unwrap_model(model).head.parameters()}
            self.optimizer = optimizer_with_head(self, model, head, self.head_learning_rate)
            return self.optimizer

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            warming = model.training and self.state.global_step < self.head_warmup_steps
            ner_logits, mlm_logits = model(
                inputs["input_ids"], inputs["attention_mask"], inputs["mlm_labels"], encoder_grad=not warming
            )
            teacher_logits = None
            if self.teacher is not None and self.ner_kd > 0 and not warming:
                with torch.no_grad():
                    teacher_logits = self.teacher(
                        input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
                    ).logits
            loss, mlm, kd = adapt_loss(
                ner_logits,
                mlm_logits,
                inputs["mlm_labels"],
                teacher_logits,
                inputs["attention_mask"],
                self.ner_kd,
                self.temperature,
            )
            if not torch.isfinite(loss):
                raise LabelgrowError(
                    f"the loss is {loss.item()} at step {self.state.global_step + 1} (MLM {mlm.item():.4g}, KD "
                    f"{kd.item():.4g}); training stopped. Lower --learning-rate or --head-learning-rate"
                )
            self._parts["mlm"] += mlm.item()
            self._parts["kd"] += kd.item()
            self._parts["n"] += 1
            return (loss, ner_logits) if return_outputs else loss

        def log(self, logs: dict[str, float], *args, **kwargs) -> None:
            if "loss" in logs and self._parts["n"]:
                n = self._parts["n"]
                logs["mlm"] = round(self._parts["mlm"] / n, 4)
                logs["kd"] = round(self._parts["kd"] / n, 4)
                self._parts = {"mlm": 0.0, "kd": 0.0, "n": 0}
            super().log(logs, *args, **kwargs)

    return AdaptTrainer


def adapt(args: AdaptArguments | None = None, /, **kwargs: Any) -> AdaptResult:
    """Adapt ``model``'s encoder to the ``raw`` text and write the adapted token classifier to ``output``
    (``adapt(model=..., raw=[...], output=...)``), with the re-check in OUTPUT/adapt.json."""
    from labelgrow.extension import run_into_output

    args = call_arguments(AdaptArguments, args, kwargs)
    return run_into_output(args, lambda state, output: _adapt(args, state, output))


def _plan(args: AdaptArguments):
    """The model's labels and tokenizer, the raw text (training and held-out check), the gold eval data."""
    from labelgrow.data import Corpus
    from labelgrow.extension import Plan, append_text, checked_corpus
    from labelgrow.labels import LabelMap, LabelSet, old_labels_from_config
    from labelgrow.modeling import has_ner_head, load_config, load_tokenizer

    config = load_config(args.model, args.trust_remote_code, "--model")
    if not has_ner_head(config):
        raise LabelgrowError(
            f"--model {args.model} has no trained BIO NER head: adapt keeps a token classifier's tags while its "
            "encoder learns the domain (a plain encoder needs no adapt step: extend it directly)"
        )
    labels = LabelSet(tuple(old_labels_from_config(config)), ())
    tokenizer = load_tokenizer(args.model, config, args.trust_remote_code)
    if tokenizer.mask_token_id is None:
        raise LabelgrowError(f"--model {args.model}: its tokenizer has no mask token, so it cannot do masked-LM")
    text = append_text(Corpus(), args, args.raw, "--raw")
    sentences = text.sentences
    held = min(args.check_sentences, len(sentences) // 5)
    if held < args.check_sentences:
        logger.info("re-check on %d held-out sentence(s) (a fifth of --raw's %d)", held, len(sentences))
    order = list(range(len(sentences)))
    random.Random(args.seed).shuffle(order)
    held_out = set(order[:held])
    check = [s for i, s in enumerate(sentences) if i in held_out]
    text.sentences = [s for i, s in enumerate(sentences) if i not in held_out]
    evaluation = None
    if args.eval_data:
        label_map = LabelMap.read(args.label_map) if args.label_map else None
        evaluation = checked_corpus(
            args, args.eval_data, "--eval-data", label_map, labels.labels, "Map them with --label-map."
        )
    logger.info("adapt %s: %d raw sentence(s) to train on, %d held out", args.model, len(text.sentences), len(check))
    return Plan(config, labels, tokenizer, {}, text, None), check, evaluation


def _adapt(args: AdaptArguments, state, output: Path) -> AdaptResult:
    from labelgrow.extension import (
        Models,
        checkpoint_every,
        max_steps_for,
        resume_checkpoint,
        training_arguments,
        write,
    )
    from labelgrow.features import encode, max_input_length
    from labelgrow.inference import precision_dtype
    from labelgrow.modeling import freeze, load_base
    from labelgrow.teacher import teacher_dtype
    from labelgrow.terminal import install

    started = time.time()
    planned, check, evaluation = _plan(args)
    tokenizer = planned.tokenizer
    base = load_base(args.model, args.trust_remote_code, args.allow_pickle, planned.config, tokenizer)
    teacher = base.teacher
    student = copy.deepcopy(teacher).train().requires_grad_(True)  # the weights are read once
    head = mlm_head_for(student, args.mlm_head, args.trust_remote_code)
    frozen = freeze(student, args.freeze_layers, args.freeze_embeddings)
    logger.info("%s; the LM head: %s", frozen, "from " + args.mlm_head if args.mlm_head else "new (random transform)")
    max_length = max_input_length(base.config, tokenizer, args.max_length)
    windows, stats = encode(planned.train.sentences, tokenizer, max_length)
    stats.log("raw")
    features = word_spans(windows)
    every = checkpoint_every(args, len(features), state.num_processes)
    max_steps = max_steps_for(args, len(features), state.num_processes)[0]
    training_args = training_arguments(args, output, False, max_steps, every)
    if args.head_warmup_steps and state.num_processes > 1:
        training_args.ddp_find_unused_parameters = True  # the encoder has no gradient while the head warms up
    dtype = teacher_dtype(args.teacher_precision, training_args.device, precision_dtype(args.bf16, args.fp16))
    trainer = make_trainer_class()(
        model=AdaptModel(student, head),
        args=training_args,
        train_dataset=features,
        data_collator=MaskingCollator(
            tokenizer.pad_token_id, tokenizer.mask_token_id, len(tokenizer), args.mlm_probability, args.seed
        ),
        processing_class=tokenizer,
        teacher=teacher.to(dtype=dtype) if args.ner_kd > 0 else None,
        ner_kd=args.ner_kd,
        temperature=args.kd_temperature,
        head_warmup_steps=args.head_warmup_steps,
        head_learning_rate=args.head_learning_rate,
    )
    install(trainer, output / "train_log.jsonl" if state.is_main_process else None)
    train_output = trainer.train(resume_from_checkpoint=resume_checkpoint(args, output))
    adapted = trainer.accelerator.unwrap_model(trainer.model).model.eval()
    check_report: dict[str, Any] = {}
    if state.is_main_process:
        check_report = recheck(args, planned, teacher.float(), adapted, check, evaluation, max_length)
    loss = {
        "mode": "mlm",
        "mlm_probability": args.mlm_probability,
        "ner_kd": args.ner_kd,
        "temperature": args.kd_temperature,
        "head_warmup_steps": args.head_warmup_steps,
        "mlm_head": args.mlm_head or "new",
        "description": (
            f"masked-LM cross-entropy on whole-word-masked text ({args.mlm_probability:.0%} of words), plus "
            f"{args.ner_kd} x T^2 x KL(original || adapted) of the tag distribution at every position (T="
            f"{args.kd_temperature}); the LM head (transform over the tied input embeddings) trained alone for the "
            f"first {args.head_warmup_steps} steps and dropped at the end"
        ),
    }
    models = Models(base, adapted, frozen, None, None, features, stats, max_length)
    metrics = {k: v for k, v in check_report.get("summary", {}).items() if isinstance(v, int | float)}
    report = {ADAPT_FILE: json.dumps(check_report, indent=2, ensure_ascii=False) + "\n"}
    write(
        args,
        planned,
        models,
        loss,
        trainer,
        train_output,
        metrics,
        None,
        state,
        output,
        started,
        "adapt",
        adapted,
        report,
    )
    return AdaptResult(output, check_report)


def recheck(args: AdaptArguments, planned, original, adapted, check, evaluation, max_length) -> dict[str, Any]:
    """What adaptation did to the tags: on the held-out raw text, every entity of the original followed into the
    adapted model (metrics.change_report, no gold); with ``evaluation`` (gold), both scored side by side."""
    from labelgrow.evaluation import measure_models
    from labelgrow.inference import predict_words
    from labelgrow.metrics import change_report, change_totals, f1_drops

    types = planned.labels.old_types
    report: dict[str, Any] = {"model": args.model, "check_sentences": len(check), "decode": args.decode}
    summary: dict[str, Any] = {}
    if check:
        kwargs = {"batch_size": args.eval_batch_size, "max_length": max_length, "decode": args.decode}
        before = [p.tags for p in predict_words(original, planned.tokenizer, check, desc="original", **kwargs)]
        after = [p.tags for p in predict_words(adapted, planned.tokenizer, check, desc="adapted", **kwargs)]
        changes = change_report(check, before, after, types, [], False)
        totals = change_totals(changes["overall"], changes["changes"])
        followed = sum(totals[c] for c in ("kept", "refined", "lost", "confused", "boundary"))
        summary["check_entities"] = followed
        summary["check_kept"] = round(totals["kept"] / followed, 4) if followed else 1.0
        words = sum(len(t) for t in before)
        summary["check_same_tags"] = round(
            sum(a == b for x, y in zip(before, after, strict=True) for a, b in zip(x, y, strict=True)) / max(words, 1),
            4,
        )
        report["changes"] = changes
        if followed and summary["check_kept"] < 0.95:
            logger.warning(
                "the adapted model keeps only %.1f%% of the original's %d entities on the held-out text; raise "
                "--ner-kd or lower --learning-rate",
                100 * summary["check_kept"],
                followed,
            )
    if evaluation is not None:
        measured = measure_models(
            {"original": original, "adapted": adapted},
            planned.tokenizer,
            evaluation.sentences,
            types,
            [],
            args.eval_batch_size,
            max_length,
            args.decode,
        )
        measured["adapted"]["drop"] = f1_drops(measured["original"]["f1"], measured["adapted"]["f1"])
        report["models"] = measured
        report["eval_data"] = {"files": evaluation.files, "sentences": len(evaluation.sentences)}
        for name in ("original", "adapted"):
            summary[f"eval_f1_{name}"] = language_mean(measured[name]["f1"])
    report["summary"] = summary
    return report


def language_mean(table: dict[str, dict[str, float | None]], group: str = "old") -> float | None:
    """The mean F1 over the languages whose gold has entities of ``group`` (metrics.f1_table's rows)."""
    values = [row[group] for row in table.values() if row.get(group) is not None]
    return round(sum(values) / len(values), 2) if values else None


def check_lines(check: dict[str, Any]) -> list[str]:
    """The re-check for the terminal."""
    summary = check.get("summary", {})
    lines = []
    if "check_entities" in summary:
        lines.append(
            f"held-out text ({check['check_sentences']} sentences): {100 * summary['check_kept']:.1f}% of the "
            f"original's {summary['check_entities']} entities kept, {100 * summary['check_same_tags']:.1f}% of "
            "words tagged the same"
        )
    if "eval_f1_original" in summary and summary["eval_f1_original"] is not None:
        before, after = summary["eval_f1_original"], summary["eval_f1_adapted"]
        lines.append(f"--eval-data: old-label F1 (language mean) {before:.1f} before, {after:.1f} after")
    return lines
