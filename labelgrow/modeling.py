"""Loading the base model, growing the student's classifier (the one place it happens), freezing layers, and shrinking
the encoder for `compress` (the one place that happens)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch
from torch import nn

from labelgrow.errors import LabelgrowError, first_line
from labelgrow.labels import LabelSet, has_ner_head, old_labels_from_config

logger = logging.getLogger(__name__)

# New rows start as a copy of the O row with its bias lowered by this margin. Every new logit is then exactly
# O's logit minus 4 on every input, so it can never be the argmax (predictions are unchanged at step 0), while its
# probability (about e^-4 = 1.8% of O's) is high enough for gradients to move it from the first step.
NEW_ROW_BIAS_MARGIN = 4.0


@dataclass
class LoadedBase:
    """The base checkpoint: its model (None when it has no NER head to distil from), tokenizer and labels."""

    teacher: nn.Module | None
    tokenizer: object
    old_labels: list[str]
    config: object
    name: str


def _load_kwargs(trust_remote_code: bool, allow_pickle: bool) -> dict:
    return {"trust_remote_code": trust_remote_code, "use_safetensors": None if allow_pickle else True}


def load_config(base: str, trust_remote_code: bool = False, option: str = "--base"):
    """``AutoConfig`` for a hub id or a local directory, with an error that names the ``option`` the user gave it
    with, and says which one failed and why."""
    from transformers import AutoConfig

    path = Path(base)
    looks_local = base.startswith((".", "/", "~")) or path.exists() or base.count("/") > 1
    if looks_local and not path.is_dir():
        raise LabelgrowError(f"{option} {base}: no such directory (give a local checkpoint directory or a hub id)")
    if looks_local and not (path / "config.json").is_file():
        raise LabelgrowError(f"{option} {base}: the directory has no config.json, so it is not a model checkpoint")
    try:
        return AutoConfig.from_pretrained(base, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise LabelgrowError(f"{option} {base}: cannot load the model config ({first_line(exc)})") from None


def load_tokenizer(name: str, config, trust_remote_code: bool = False):
    """A fast tokenizer (labels are aligned through ``word_ids``) whose vocabulary fits the model's embeddings."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise LabelgrowError(f"{name}: cannot load the tokenizer ({first_line(exc)})") from None
    if not tokenizer.is_fast:
        raise LabelgrowError(f"{name}: labelgrow needs a fast (Rust) tokenizer to align labels to words")
    vocab = getattr(config, "vocab_size", None)
    if vocab is not None and len(tokenizer) > vocab:
        raise LabelgrowError(
            f"{name}: the tokenizer has {len(tokenizer)} tokens but the model's embeddings have {vocab} rows; "
            "the tokenizer does not belong to this model"
        )
    return tokenizer


def load_token_classifier(name: str, trust_remote_code: bool = False, allow_pickle: bool = False, **kwargs):
    """``AutoModelForTokenClassification.from_pretrained`` with safetensors required unless ``allow_pickle``."""
    from transformers import AutoModelForTokenClassification

    try:
        model = AutoModelForTokenClassification.from_pretrained(
            name, **_load_kwargs(trust_remote_code, allow_pickle), **kwargs
        )
    except (OSError, ValueError) as exc:
        message = first_line(exc)
        if "safetensors" in message.lower() and not allow_pickle:
            message += " (labelgrow loads safetensors only; pass --allow-pickle to trust a pickle checkpoint)"
        raise LabelgrowError(f"{name}: cannot load a token-classification model ({message})") from None
    return model.float()


def load_base(
    base: str, trust_remote_code: bool = False, allow_pickle: bool = False, config=None, tokenizer=None
) -> LoadedBase:
    """Load the base as a frozen teacher when it has a BIO NER head, else just its config and tokenizer."""
    config = config or load_config(base, trust_remote_code)
    tokenizer = tokenizer or load_tokenizer(base, config, trust_remote_code)
    old_labels = old_labels_from_config(config)
    teacher = None
    if has_ner_head(config):
        teacher = load_token_classifier(base, trust_remote_code, allow_pickle)
        teacher.eval().requires_grad_(False)
    else:
        logger.warning(
            "%s has no trained BIO NER head (labels %s): the old label set is just O, knowledge distillation is "
            "off, and this run trains a first NER model",
            base,
            list((getattr(config, "id2label", None) or {}).values()),
        )
    return LoadedBase(teacher, tokenizer, old_labels, config, base)


def find_classifier(model: nn.Module) -> nn.Linear:
    """The token classifier's output layer: ``model.classifier`` or else the one Linear with ``num_labels`` rows."""
    head = getattr(model, "classifier", None)
    if isinstance(head, nn.Linear):
        return head
    num_labels = model.config.num_labels
    candidates = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == num_labels]
    if len(candidates) != 1:
        raise LabelgrowError(
            f"cannot find the classifier of {type(model).__name__}: expected one Linear layer with {num_labels} "
            f"outputs, found {len(candidates)}"
        )
    return candidates[-1]


@torch.no_grad()
def expand_classifier(
    model: nn.Module, labels: LabelSet, parents: Mapping[str, Sequence[str]] | None = None
) -> nn.Module:
    """Append rows for ``labels.new`` to the classifier in place, keeping every old row and bias exactly.

    Each new row is a copy of the O row with its bias lowered by ``NEW_ROW_BIAS_MARGIN``: old logits are untouched
    and the new logits sit strictly below O's, so predictions at step 0 equal the base model's. With ``parents``
    (``--new-rows-from parent``), a new type that refines old ones starts instead from the mean of their rows,
    prefix to prefix (``B-CORP`` from ``B-ORG``), lowered by the same margin: its logit is then the mean of the
    parents' logits minus the margin, below the largest old logit, so step 0 is unchanged too — and a type carved
    out of an old one starts beside it instead of far below it.
    """
    head = find_classifier(model)
    if head.out_features != labels.num_old:
        raise LabelgrowError(f"classifier has {head.out_features} outputs but the base has {labels.num_old} labels")
    grown = nn.Linear(
        head.in_features, len(labels.labels), bias=True, device=head.weight.device, dtype=head.weight.dtype
    )
    old_bias = head.bias if head.bias is not None else torch.zeros_like(grown.bias[: labels.num_old])
    grown.weight[: labels.num_old] = head.weight
    grown.bias[: labels.num_old] = old_bias
    sources: dict[int, list[int]] = {}
    for old_id, new_id in labels.refinements(parents or {}):
        sources.setdefault(new_id, []).append(old_id)
    for new_id in range(labels.num_old, len(labels.labels)):
        rows = sources.get(new_id, [labels.outside_id])
        grown.weight[new_id] = head.weight[rows].mean(dim=0)
        grown.bias[new_id] = old_bias[rows].mean() - NEW_ROW_BIAS_MARGIN
    replace_module(model, head, grown)
    set_labels(model, labels)
    return model


def replace_module(root: nn.Module, old: nn.Module, new: nn.Module) -> None:
    """Put ``new`` wherever ``old`` is a direct child of a module inside ``root``."""
    for module in root.modules():
        for child_name, child in list(module.named_children()):
            if child is old:
                setattr(module, child_name, new)


def set_labels(model: nn.Module, labels: LabelSet) -> None:
    """Write the grown label set into the config so the checkpoint is an ordinary HF token classifier."""
    model.config.id2label = labels.id2label
    model.config.label2id = labels.label2id
    model.config.num_labels = len(labels.labels)


def build_student(
    base: LoadedBase,
    labels: LabelSet,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    parents: Mapping[str, Sequence[str]] | None = None,
) -> nn.Module:
    """The trainable model: a copy of the teacher with a grown head (new rows from ``parents`` where given, see
    expand_classifier), or (no NER head) the encoder with a new head."""
    if base.teacher is not None:
        return expand_classifier(copy.deepcopy(base.teacher).train().requires_grad_(True), labels, parents)
    return load_token_classifier(
        base.name,
        trust_remote_code,
        allow_pickle,
        num_labels=len(labels.labels),
        id2label=labels.id2label,
        label2id=labels.label2id,
    ).train()


@torch.no_grad()
def reset_classifier(model: nn.Module) -> None:
    """Re-initialise every row of the classifier (a baseline: what ``ignore_mismatched_sizes`` leaves you with)."""
    head = find_classifier(model)
    head.weight.normal_(0.0, getattr(model.config, "initializer_range", 0.02))
    if head.bias is not None:
        head.bias.zero_()


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The transformer blocks of BERT/RoBERTa/XLM-R/DeBERTa-v2/DistilBERT-like models, found through base_model."""
    base = model.base_model
    for path in (("encoder", "layer"), ("encoder", "layers"), ("transformer", "layer"), ("layers",), ("layer",)):
        module = base
        for attr in path:
            module = getattr(module, attr, None)
        if isinstance(module, nn.ModuleList):
            return module
    raise LabelgrowError(
        f"cannot find the encoder layers of {type(base).__name__}; use --freeze-layers 0 --no-freeze-embeddings"
    )


def input_embeddings_module(model: nn.Module) -> nn.Module:
    """The embeddings block (word + position embeddings and their norm), or the word embeddings alone."""
    return getattr(model.base_model, "embeddings", None) or model.get_input_embeddings()


@dataclass
class FreezeSummary:
    trainable: int
    total: int
    frozen_layers: int
    embeddings_frozen: bool
    modules: list[nn.Module] = field(default_factory=list, repr=False)  # frozen blocks, run without dropout
    # parameters of which some rows train and the others are held fixed by a gradient hook (--freeze-old-rows,
    # --add-tokens): the optimizer must not decay them, or the fixed rows would shrink
    fixed_rows: list[str] = field(default_factory=list)
    added_rows: int = 0  # embedding rows of --add-tokens words, trained although the embeddings are frozen

    def __str__(self) -> str:
        added = f" but the {self.added_rows} added token rows" if self.embeddings_frozen and self.added_rows else ""
        return (
            f"trainable parameters: {self.trainable:,} of {self.total:,} ({100 * self.trainable / self.total:.1f}%); "
            f"frozen: {'embeddings' + added + ', ' if self.embeddings_frozen else ''}{self.frozen_layers} encoder "
            "layer(s)"
        )


def frozen_count(layers: int | str, total: int) -> int:
    """How many of ``total`` encoder layers ``--freeze-layers`` freezes: a count as given, ``"all"``, or a fraction
    ``"a/b"`` of the depth rounded to the nearest layer (half up: 1/3 of 12 is 4, of 24 is 8, of 3 is 1)."""
    if layers == "all":
        return total
    if isinstance(layers, str):
        top, _, bottom = layers.partition("/")
        return int(Fraction(int(top) * total, int(bottom)) + Fraction(1, 2))
    if layers > total:
        raise LabelgrowError(f"--freeze-layers {layers}: the model has only {total} encoder layers")
    return layers


def freeze(model: nn.Module, layers: int | str, embeddings: bool = True) -> FreezeSummary:
    """Freeze the embeddings (optionally) and encoder layers ``0..N-1`` (N: ``frozen_count`` of ``layers``); the
    rest stays trainable."""
    blocks = encoder_layers(model) if layers != 0 else None
    layers = frozen_count(layers, len(blocks)) if blocks is not None else 0
    modules = [input_embeddings_module(model)] if embeddings else []
    modules += list(blocks or [])[:layers]
    for module in modules:
        module.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return FreezeSummary(trainable, total, layers, embeddings, modules)


def fix_leading_rows(model: nn.Module, parameter: nn.Parameter, count: int) -> str:
    """Train ``parameter`` except its first ``count`` rows, whose gradient is zeroed. Adam then never moves them
    (zero gradient, zero moments), provided the optimizer gives the parameter no weight decay: returns its name
    for FreezeSummary.fixed_rows, which labelgrow's trainer keeps out of weight decay."""

    def zero_fixed(grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        grad[:count] = 0
        return grad

    parameter.requires_grad_(True)
    parameter.register_hook(zero_fixed)
    return next(n for n, p in model.named_parameters() if p is parameter)


def freeze_old_rows(model: nn.Module, num_old: int) -> list[str]:
    """Keep the classifier's first ``num_old`` rows (the base's labels) fixed, so with a frozen encoder the old
    logits stay the teacher's exactly and only the new rows learn ("Learn or Recall?", 2024). Returns the names
    of the parameters with fixed rows."""
    head = find_classifier(model)
    return [fix_leading_rows(model, p, num_old) for p in (head.weight, head.bias) if p is not None]


@torch.no_grad()
def interpolate_with_teacher(student: nn.Module, teacher: nn.Module, weight: float) -> nn.Module:
    """Weight averaging (WiSE-FT): every parameter the student shares with the teacher becomes
    ``weight * student + (1 - weight) * teacher``; the classifier's old rows are mixed the same way and its new
    rows are kept. ``weight`` 1 is the student, 0 the teacher (with the student's new rows). In place."""
    if not 0.0 <= weight <= 1.0:
        raise LabelgrowError(f"interpolation weight must be in [0, 1], not {weight}")
    theirs = dict(teacher.named_parameters())
    for name, mine in student.named_parameters():
        other = theirs.get(name)
        if other is None:
            continue
        if mine.shape[1:] != other.shape[1:] or (mine.dim() and mine.shape[0] < other.shape[0]):
            shapes = f"student {tuple(mine.shape)}, teacher {tuple(other.shape)}"
            raise LabelgrowError(f"cannot interpolate {name}: {shapes}")
        target = mine[: other.shape[0]] if mine.dim() else mine  # a grown classifier: its old rows
        target.mul_(weight).add_(other.to(mine.dtype), alpha=1.0 - weight)
    return student


LAYER_SELECTIONS = ("every-other", "first", "last")


def select_layers(total: int, count: int, select: str = "every-other") -> list[int]:
    """Which of ``total`` encoder layers a ``count``-layer student keeps (``labelgrow compress --select``):
    ``every-other`` spreads them evenly and always keeps the last (the head was trained on its output; 6 of 12:
    1, 3, 5, 7, 9, 11), ``first``/``last`` take a block, or explicit comma-separated indices ("0,2,4")."""
    if select in LAYER_SELECTIONS:
        if not 1 <= count <= total:
            raise LabelgrowError(f"--layers {count}: must be between 1 and the model's {total} encoder layers")
        if select == "first":
            return list(range(count))
        if select == "last":
            return list(range(total - count, total))
        return [round((i + 1) * total / count) - 1 for i in range(count)]
    try:
        indices = [int(x) for x in select.split(",") if x.strip()]
    except ValueError:
        raise LabelgrowError(
            f"--select {select!r}: one of {', '.join(LAYER_SELECTIONS)}, or layer indices such as 0,2,4"
        ) from None
    bad = [i for i in indices if not 0 <= i < total]
    if not indices or bad:
        raise LabelgrowError(f"--select {select}: layer indices must be in 0..{total - 1} (the model has {total})")
    if indices != sorted(set(indices)):
        raise LabelgrowError(f"--select {select}: give each layer once, in increasing order")
    return indices


def shrink_encoder(model: nn.Module, keep: Sequence[int]) -> nn.Module:
    """A copy of ``model`` with only the encoder layers ``keep`` (in order), its embeddings and head copied
    exactly; the config says the new depth, so ``from_pretrained`` loads the saved student as it is."""
    student = copy.deepcopy(model)
    layers = encoder_layers(student)
    kept = nn.ModuleList([layers[i] for i in keep])
    for new_index, layer in enumerate(kept):  # attention modules that know their depth (caches, logs)
        for module in layer.modules():
            if isinstance(getattr(module, "layer_idx", None), int):
                module.layer_idx = new_index
    replace_module(student, layers, kept)
    student.config.num_hidden_layers = len(kept)
    return student
