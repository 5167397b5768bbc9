"""Training losses: cross-entropy on all labels plus knowledge distillation (KD) on the old-label logit slice.

The background shift: data annotated only for the new type tags old entities ``O``. Plain CE then teaches the
student that a person is ``O``. The modes (formulas and reasons in docs/method.md):

- ``o-aware`` (default): full CE on gold non-O words; on gold-O words an *unbiased* CE that only says "not a new
  type" (-log of the summed probability of O and every old label) and KD from the teacher on the old slice, which
  decides among O and the old labels; optionally CE towards the teacher's label where it is confident.
- ``seed``: the practitioner's original recipe: CE on every word plus KD on the old slice everywhere.
- ``none``: CE only (naive fine-tuning; it forgets).

Every term is summed per scored word (label != -100) and divided by the number of scored words: padding, special
tokens and continuation sub-words never enter a loss, and the KD term is not divided by the batch size as
``batchmean`` on a 3-D tensor would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from labelgrow.configuration import KD_MODES, KD_TARGETS, PSEUDO_LABEL_SCOPES

IGNORE_INDEX = -100


@dataclass(frozen=True)
class LossConfig:
    mode: str = "o-aware"
    alpha: float = 0.5  # weight of the KD term: loss = (1 - alpha) * CE + alpha * T^2 * KD
    temperature: float = 2.0
    pseudo_label_threshold: float = 0.0  # o-aware: CE towards teacher labels with p >= threshold on gold O; 0 = off
    num_old: int = 1  # the first num_old logits are the base model's labels
    outside_id: int = 0
    # how the student's old-label distribution is read for KD: "old-slice" renormalises its old logits alone (the
    # new labels' probability is invisible to KD); "unbiased" (MiB) folds the new labels' probability into O, so
    # probability a new label takes from an old label the teacher believes in is penalised, from O it is not
    kd_target: str = "old-slice"
    # o-aware, --rehearsal-parents: (old label id, new label id) pairs. On a *rehearsal* word (text never annotated
    # for the new types) whose teacher label is the old id, the new id is allowed too: "not new" would there deny a
    # refinement (a stadium WikiANN calls ORG may be a FACILITY). Annotated gold-O words keep the strict "not new".
    refinements: tuple[tuple[int, int], ...] = ()
    # where pseudo-labels apply: "all" gold-O words, or "rehearsal" text only (annotated gold O keeps "not new"):
    # rehearsal text is the teacher's kind of text, where its label is what the user wants kept -- near-ties
    # included, which soft KD at T = 2 lets tip (docs/method.md)
    pseudo_label_scope: str = "all"
    # --hidden-kd: weight of the hidden-state term (mean 1 - cosine between the student's layers and the teacher's
    # paired with them: compress, each kept layer and its original on every scored word; extend, the last layer of
    # both where KD applies, see hidden_where_kd); 0 = off
    hidden_weight: float = 0.0
    # extend --hidden-kd: the hidden-state term only on the words the KD term covers (gold O with o-aware): a leash
    # on the encoder's output where the old labels live, none on the new type's own words, which must move
    hidden_where_kd: bool = False

    def __post_init__(self) -> None:
        if self.mode not in KD_MODES:
            raise ValueError(f"--kd must be one of {', '.join(KD_MODES)}, not {self.mode!r}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"--kd-alpha must be in [0, 1], not {self.alpha}")
        if self.temperature <= 0:
            raise ValueError(f"--kd-temperature must be > 0, not {self.temperature}")
        if self.kd_target not in KD_TARGETS:
            raise ValueError(f"--kd-target must be one of {', '.join(KD_TARGETS)}, not {self.kd_target!r}")
        if not 0.0 <= self.pseudo_label_threshold <= 1.0:
            raise ValueError(f"--pseudo-label-threshold must be in [0, 1], not {self.pseudo_label_threshold}")
        if self.pseudo_label_scope not in PSEUDO_LABEL_SCOPES:
            raise ValueError(
                f"--pseudo-label-scope must be one of {', '.join(PSEUDO_LABEL_SCOPES)}, not {self.pseudo_label_scope!r}"
            )
        if self.hidden_weight < 0:
            raise ValueError(f"--hidden-kd must be >= 0, not {self.hidden_weight}")
        bad = [(o, n) for o, n in self.refinements if not (0 <= o < self.num_old <= n)]
        if bad:
            raise ValueError(f"refinements must map an old label id to a new one (num_old {self.num_old}): {bad}")

    @property
    def uses_teacher(self) -> bool:
        return self.mode != "none"


def describe_loss(config: LossConfig) -> str:
    """One sentence for logs, labelgrow.json and the model card: which loss, with which settings."""
    kd = f"KD (T={config.temperature}, alpha={config.alpha}) from the teacher on the old-label slice"
    if config.kd_target == "unbiased":
        kd += " with the new labels' probability counted as O (unbiased, MiB)"
    if config.hidden_weight > 0 and config.hidden_where_kd:
        kd += (
            f", plus {config.hidden_weight} x (1 - cosine) between the student's and the teacher's last encoder "
            "layer on the same words (--hidden-kd)"
        )
    if config.mode == "none":
        return "CE on all words, no teacher (naive fine-tuning)"
    if config.mode == "seed":
        return f"CE on all words plus {kd} of every word"
    where = " of --rehearsal text" if config.pseudo_label_scope == "rehearsal" else ""
    pseudo = (
        f"CE towards the teacher's old label where its probability is >= {config.pseudo_label_threshold} "
        f"(pseudo-labels{where}), else "
        if config.pseudo_label_threshold > 0
        else ""
    )
    refined = (
        "; on rehearsal words the teacher tags with a parent type (--parent) the child new type is allowed as well"
        if config.refinements
        else ""
    )
    return (
        f"full CE on gold non-O words; on gold-O words {pseudo}an unbiased CE (-log P(O or any old label)){refined}, "
        f"plus {kd} (background-shift aware)"
    )


@dataclass
class LossOutput:
    loss: torch.Tensor  # total / words: the mean over this batch's scored words
    total: torch.Tensor  # the sum over scored words (for normalising by a global word count)
    words: int  # scored words in this batch
    ce: torch.Tensor  # mean CE term per scored word (detached, for logs)
    kd: torch.Tensor  # mean KD term per scored word (0 on words without KD)
    pseudo_labels: int  # gold-O words relabelled from the teacher in this batch
    hidden: torch.Tensor | None = None  # mean hidden-state term per scored word (None: off)


def hidden_state_distance(student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per position, the mean over layer pairs of ``1 - cos(student, teacher)`` between hidden states [B, L, H]:
    [B, L]. Cosine, not MSE: scale-free, so layers whose activations are large (XLM-R has outlier dimensions) do
    not drown the others, and bounded (0 = same direction, 2 = opposite)."""
    distances = [
        1 - F.cosine_similarity(s.float(), t.float(), dim=-1, eps=1e-6) for s, t in zip(student, teacher, strict=True)
    ]
    return torch.stack(distances).mean(0)


def distillation(student_old: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per-word KL(teacher || student) between temperature-softened distributions over the old labels, [N]."""
    log_student = F.log_softmax(student_old / temperature, dim=-1)
    log_teacher = F.log_softmax(teacher / temperature, dim=-1)
    return (log_teacher.exp() * (log_teacher - log_student)).sum(-1)


def unbiased_student_logits(logits: torch.Tensor, num_old: int, outside_id: int) -> torch.Tensor:
    """The student's logits over the old labels with every new label's probability folded into O (MiB's unbiased
    distillation): softmax of the result is (P(O) + P(new), P(old_1), ...). [N, num_old]"""
    folded = logits[:, :num_old].clone()
    outside_and_new = torch.cat([logits[:, outside_id : outside_id + 1], logits[:, num_old:]], dim=-1)
    folded[:, outside_id] = torch.logsumexp(outside_and_new, dim=-1)
    return folded


def unbiased_outside_ce(logits: torch.Tensor, num_old: int) -> torch.Tensor:
    """Per-word -log P(O or any old label): a gold-O word in new-label data is "not new", nothing more. [N]"""
    return torch.logsumexp(logits, dim=-1) - torch.logsumexp(logits[:, :num_old], dim=-1)


def _children(
    logits: torch.Tensor, teacher_label: torch.Tensor, refinements: tuple[tuple[int, int], ...]
) -> torch.Tensor:
    """[N, C] bool: the new labels that refine the teacher's label of each word."""
    allowed = torch.zeros_like(logits, dtype=torch.bool)
    for old_id, new_id in refinements:
        allowed[:, new_id] |= teacher_label == old_id
    return allowed


def _allowed_ce(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Per-word -log of the summed probability of the ``allowed`` labels [N]."""
    return torch.logsumexp(logits, dim=-1) - torch.logsumexp(logits.masked_fill(~allowed, float("-inf")), dim=-1)


def refinement_ce(
    logits: torch.Tensor, teacher_label: torch.Tensor, num_old: int, refinements: tuple[tuple[int, int], ...]
) -> torch.Tensor:
    """Per-word -log P(O, any old label, or a new label that refines the teacher's label here) [N]: "not new",
    except that a new type may take a word its parent type holds. With no refinement it is ``unbiased_outside_ce``."""
    allowed = _children(logits, teacher_label, refinements)
    allowed[:, :num_old] = True
    return _allowed_ce(logits, allowed)


def pseudo_label_ce(
    logits: torch.Tensor, teacher_label: torch.Tensor, refinements: tuple[tuple[int, int], ...]
) -> torch.Tensor:
    """Per-word -log P(the teacher's label, or a new label that refines it) [N]: a pseudo-label on rehearsal text,
    where a new type may still take what its parent holds. With no refinement it is CE towards the teacher's label."""
    allowed = _children(logits, teacher_label, refinements)
    allowed[torch.arange(len(logits)), teacher_label] = True
    return _allowed_ce(logits, allowed)


def compute_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    config: LossConfig,
    rehearsal: torch.Tensor | None = None,
    hidden: tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]] | None = None,
) -> LossOutput:
    """The training loss for student ``logits`` [B, L, C], ``labels`` [B, L] (-100 = not scored), the teacher's
    ``teacher_logits`` [B, L, num_old] (required unless ``config.mode == "none"``), for ``config.refinements``
    which inputs are rehearsal text (``rehearsal`` [B], bool) and, for ``config.hidden_weight``, the student's
    and the teacher's hidden states of the paired layers (``hidden``: two equally long lists of [B, L, H]).

    Every term is a per-word quantity; the loss is their sum divided by the number of scored words, so a batch
    split over processes or accumulation steps can be normalised by the global word count (``LossOutput.total``).
    """
    scored = labels != IGNORE_INDEX
    student = logits[scored].float()
    gold = labels[scored]
    kd_per_word = torch.zeros_like(gold, dtype=student.dtype)
    kd_words = torch.zeros_like(gold, dtype=torch.bool)  # where the KD term applies
    pseudo = torch.zeros_like(gold, dtype=torch.bool)
    if config.mode == "none" or teacher_logits is None:
        ce_per_word = F.cross_entropy(student, gold, reduction="none")
        alpha = 0.0
    else:
        teacher = teacher_logits[scored].float()
        if config.kd_target == "unbiased":
            # the temperature applies to the logits before folding: fold the softened logits, undo the scaling
            t = config.temperature
            student_old = unbiased_student_logits(student / t, config.num_old, config.outside_id) * t
        else:
            student_old = student[:, : config.num_old]
        kd_all = distillation(student_old, teacher, config.temperature)
        alpha = config.alpha
        if config.mode == "seed":
            ce_per_word = F.cross_entropy(student, gold, reduction="none")
            kd_per_word = kd_all
            kd_words = torch.ones_like(kd_words)
        else:  # o-aware
            outside = gold == config.outside_id
            teacher_label = teacher.argmax(-1)
            if rehearsal is not None:
                on_rehearsal = rehearsal.to(labels.device)[:, None].expand_as(labels)[scored]
            else:
                on_rehearsal = torch.zeros_like(outside)
            refine = on_rehearsal if config.refinements else torch.zeros_like(outside)
            not_new = unbiased_outside_ce(student, config.num_old)
            if config.refinements:
                relaxed = refinement_ce(student, teacher_label, config.num_old, config.refinements)
                not_new = torch.where(refine, relaxed, not_new)
            ce_per_word = torch.where(outside, not_new, F.cross_entropy(student, gold, reduction="none"))
            if config.pseudo_label_threshold > 0:
                confidence = teacher.softmax(-1).amax(-1)
                pseudo = outside & (teacher_label != config.outside_id) & (confidence >= config.pseudo_label_threshold)
                if config.pseudo_label_scope == "rehearsal":
                    pseudo &= on_rehearsal
                pseudo_ce = torch.where(
                    refine,
                    pseudo_label_ce(student, teacher_label, config.refinements),
                    F.cross_entropy(student, teacher_label, reduction="none"),
                )
                ce_per_word = torch.where(pseudo, pseudo_ce, ce_per_word)
            kd_per_word = torch.where(outside, kd_all, torch.zeros_like(kd_all))
            kd_words = outside
    per_word = (1 - alpha) * ce_per_word + alpha * config.temperature**2 * kd_per_word
    hidden_per_word = None
    if config.hidden_weight > 0 and hidden is not None:
        hidden_per_word = hidden_state_distance(*hidden)[scored]
        if config.hidden_where_kd:
            hidden_per_word = torch.where(kd_words, hidden_per_word, torch.zeros_like(hidden_per_word))
        per_word = per_word + config.hidden_weight * hidden_per_word
    words = max(int(scored.sum()), 1)
    total = per_word.sum() if per_word.numel() else logits.sum() * 0.0  # keeps the graph on an empty batch
    return LossOutput(
        loss=total / words,
        total=total,
        words=int(scored.sum()),
        ce=ce_per_word.detach().sum() / words,
        kd=kd_per_word.detach().sum() / words,
        pseudo_labels=int(pseudo.sum()),
        hidden=None if hidden_per_word is None else hidden_per_word.detach().sum() / words,
    )
