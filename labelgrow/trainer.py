"""A Hugging Face ``Trainer`` that adds the frozen teacher and labelgrow's losses, and evaluates with seqeval.

Trainer (not a hand-written loop) because users get, unchanged: ``accelerate launch`` / DDP / FSDP / DeepSpeed,
bf16/fp16, gradient accumulation, checkpointing with exact ``--resume`` (optimizer, scheduler, RNG and data order),
best-checkpoint selection and progress bars. labelgrow overrides only the loss and the evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn
from transformers import Trainer

from labelgrow.data import Sentence
from labelgrow.errors import LabelgrowError
from labelgrow.inference import precision_dtype, predict_words
from labelgrow.losses import LossConfig, compute_loss
from labelgrow.metrics import score, training_metrics
from labelgrow.modeling import find_classifier
from labelgrow.teacher import share_frozen_trunk, teacher_dtype

logger = logging.getLogger(__name__)


def no_parts() -> dict[str, float]:
    """The loss terms summed between two log lines, and how many steps they sum."""
    return {"ce": 0.0, "kd": 0.0, "hidden": 0.0, "pseudo_labels": 0.0, "n": 0}


def optimizer_with_head(trainer: Trainer, model: nn.Module, head: set[int], head_learning_rate: float):
    """The Trainer's optimizer over ``model``'s trainable parameters in three groups: decayed, not decayed (the
    Trainer's choice, less fixed rows), and the head (parameter ids ``head``) at ``head_learning_rate`` without
    decay. Used for the grown classifier (extend) and the new LM head (adapt)."""
    decay = set(trainer.get_decay_parameter_names(model))
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    weight_decay = trainer.args.weight_decay
    groups = [
        {"params": [p for n, p in trainable if id(p) not in head and n in decay], "weight_decay": weight_decay},
        {"params": [p for n, p in trainable if id(p) not in head and n not in decay], "weight_decay": 0.0},
        {"params": [p for _, p in trainable if id(p) in head], "weight_decay": 0.0, "lr": head_learning_rate},
    ]
    optimizer_cls, optimizer_kwargs = trainer.get_optimizer_cls_and_kwargs(trainer.args, model)
    return optimizer_cls([g for g in groups if g["params"]], **optimizer_kwargs)


class LabelgrowTrainer(Trainer):
    """Trainer with a teacher (frozen, eval mode, same device, never wrapped by the distributed engine; reduced
    precision and a shared frozen trunk where possible, see labelgrow/teacher.py) and an evaluation that scores
    whole sentences per language with seqeval."""

    def __init__(
        self,
        *args,
        teacher: nn.Module | None,
        loss_config: LossConfig,
        eval_sentences: Sequence[Sentence] = (),
        old_types: Sequence[str] = (),
        new_types: Sequence[str] = (),
        max_length: int | None = None,
        head_learning_rate: float | None = None,
        fixed_rows: Sequence[str] = (),
        hidden_pairs: Sequence[tuple[int, int]] = (),
        frozen_modules: Sequence[nn.Module] = (),
        frozen_layers: int = 0,
        share_frozen_layers: bool = True,
        teacher_precision: str = "auto",
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.head_learning_rate = head_learning_rate
        self.fixed_rows = set(fixed_rows)  # parameters with rows held fixed by a gradient hook: never decayed
        self.loss_config = loss_config
        # (student, teacher) indices into hidden_states whose distance the loss takes (--hidden-kd)
        self.hidden_pairs = list(hidden_pairs) if loss_config.hidden_weight > 0 else []
        self.eval_sentences = list(eval_sentences)
        self.old_types, self.new_types = list(old_types), list(new_types)
        self.max_length = max_length
        # Normalise by the number of scored words in the whole optimizer step (all accumulation steps, all
        # processes): Trainer counts them when the model "accepts loss kwargs", and we scale the loss ourselves.
        self.model_accepts_loss_kwargs = True
        self.loss_is_scaled_for_ga = True
        self._parts = no_parts()
        self.frozen_modules = list(frozen_modules)
        self.teacher, self.shared_trunk = None, None
        if teacher is not None and loss_config.uses_teacher:
            self.teacher = teacher.to(device=self.args.device).eval().requires_grad_(False)
            sharded = self.is_fsdp_enabled or self.is_deepspeed_enabled
            # a teacher cut down to its upper layers still has their outputs, counted from the top (index < 0)
            lower = any(t >= 0 for _, t in self.hidden_pairs)
            if share_frozen_layers and self.frozen_modules and not sharded and not lower:
                # sharded engines wrap the student's modules: the teacher keeps its own trunk there (and its own
                # hidden states where the loss compares layers counted from the bottom)
                self.shared_trunk = share_frozen_trunk(
                    self.teacher, self.model, frozen_layers, self.frozen_modules, self._probe_batch()
                )
            dtype = teacher_dtype(teacher_precision, self.args.device, precision_dtype(self.args.bf16, self.args.fp16))
            if self.shared_trunk is not None:
                self.shared_trunk.to(dtype)
            else:
                self.teacher.to(dtype=dtype)
            logger.info("teacher precision: %s", str(dtype).removeprefix("torch."))

    def _probe_batch(self) -> dict[str, torch.Tensor]:
        """Two training windows, to check that the shared-trunk teacher computes what the full one does."""
        batch = self.data_collator([self.train_dataset[i] for i in range(min(2, len(self.train_dataset)))])
        return {k: batch[k].to(self.args.device) for k in ("input_ids", "attention_mask")}

    def get_decay_parameter_names(self, model) -> list[str]:
        """The Trainer's choice less the parameters with fixed rows: decoupled weight decay would move those rows
        although their gradient is zero."""
        return [n for n in super().get_decay_parameter_names(model) if n not in self.fixed_rows]

    def create_optimizer(self, model=None):
        """AdamW with the classifier in its own group at ``head_learning_rate``: the new rows start as a copy of
        the O row and must travel far, which the encoder's small learning rate would take hundreds of steps to do."""
        if self.optimizer is not None or self.head_learning_rate is None:
            return super().create_optimizer(model) if self.optimizer is None else self.optimizer
        model = self.model if model is None else model
        head = {id(p) for p in find_classifier(model).parameters()}
        self.optimizer = optimizer_with_head(self, model, head, self.head_learning_rate)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        model_inputs = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}
        for module in self.frozen_modules:
            module.eval()  # a fixed feature extractor: no dropout (and the shared teacher's exact input)
        with_hidden = bool(self.hidden_pairs) and self.teacher is not None
        outputs = model(**model_inputs, output_hidden_states=with_hidden)
        teacher_logits = inputs.get("teacher_logits")  # from --teacher-cache
        hidden = None
        if teacher_logits is None and self.teacher is not None:
            with torch.no_grad():
                taught = self.teacher(**model_inputs, output_hidden_states=with_hidden)
            teacher_logits = taught.logits
            if with_hidden:
                hidden = (
                    [outputs.hidden_states[s] for s, _ in self.hidden_pairs],
                    [taught.hidden_states[t] for _, t in self.hidden_pairs],
                )
        result = compute_loss(outputs.logits, labels, teacher_logits, self.loss_config, inputs.get("rehearsal"), hidden)
        if num_items_in_batch is not None and model.training:
            # DDP averages gradients over processes: multiply back so the step's gradient is sum / global words
            loss = result.total / num_items_in_batch.to(result.total.device) * self.accelerator.num_processes
        else:
            loss = result.loss / (self.current_gradient_accumulation_steps if model.training else 1)
        if not torch.isfinite(result.loss):
            raise LabelgrowError(
                f"the loss is {result.loss.item()} at step {self.state.global_step + 1} (CE {result.ce.item():.4g}, "
                f"KD {result.kd.item():.4g}); training stopped. The last saved checkpoint is intact: lower "
                "--learning-rate, or drop --fp16, and continue with --resume"
            )
        self._parts["ce"] += result.ce.item()
        self._parts["kd"] += result.kd.item()
        self._parts["hidden"] += result.hidden.item() if result.hidden is not None else 0.0
        self._parts["pseudo_labels"] += result.pseudo_labels
        self._parts["n"] += 1
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs and self._parts["n"]:
            n = self._parts["n"]
            logs["ce"] = round(self._parts["ce"] / n, 4)
            if self.teacher is not None:
                logs["kd"] = round(self._parts["kd"] / n, 4)
            if self.hidden_pairs:
                logs["hidden"] = round(self._parts["hidden"] / n, 4)
            if self.loss_config.mode == "o-aware" and self.loss_config.pseudo_label_threshold > 0:
                logs["pseudo_labels"] = self._parts["pseudo_labels"]
            self._parts = no_parts()
        super().log(logs, *args, **kwargs)

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Score the validation sentences (all processes share the work; every process gets the totals)."""
        if not self.eval_sentences:
            return {}
        dtype = precision_dtype(self.args.bf16, self.args.fp16)
        if self.is_fsdp_enabled or self.is_deepspeed_enabled:
            # Sharded parameters: forward through the wrapped model, every process over every sentence, so that
            # all processes run the same number of (collective) forward passes.
            model, accelerator = self.model_wrapped, None
        else:
            model, accelerator = self.accelerator.unwrap_model(self.model), self.accelerator
        predictions = predict_words(
            model,
            self.processing_class,
            self.eval_sentences,
            batch_size=self.args.per_device_eval_batch_size,
            max_length=self.max_length,
            accelerator=accelerator,
            dtype=dtype,
            progress=True,
            desc="validation",
        )
        report = score(self.eval_sentences, [p.tags for p in predictions], self.old_types, self.new_types)
        metrics = {f"{metric_key_prefix}_{k}": round(v, 4) for k, v in training_metrics(report).items()}
        metrics["epoch"] = self.state.epoch if self.state.epoch is not None else 0.0
        self.last_eval_report = report
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics
