"""From words to model inputs: sub-word alignment of labels and windowing of long sentences.

Labels go to each word's first sub-word (-100 elsewhere, or I-X on continuation sub-words with
``label_all_subwords``); words that yield no sub-word are skipped and counted. A sentence longer than the model's
maximum is split into overlapping windows: every word is *owned* (labelled and predicted) by exactly one window,
and the words around it are given as unlabelled context. Nothing is ever truncated silently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from labelgrow.data import Sentence
from labelgrow.errors import LabelgrowError
from labelgrow.labels import split_tag
from labelgrow.losses import IGNORE_INDEX

logger = logging.getLogger(__name__)

ROBERTA_LIKE = {"roberta", "xlm-roberta", "camembert", "xlm-roberta-xl", "bertweet", "longformer"}


@dataclass
class Window:
    """One model input. ``words`` lists ``(word index in the sentence, position of its first sub-word)`` for the
    words this window owns (``ends``: where each one's sub-words end, for whole-word masking); ``labels`` is
    aligned to ``input_ids`` (empty for unlabelled input)."""

    sentence: int
    input_ids: list[int]
    labels: list[int]
    words: list[tuple[int, int]]
    ends: list[int] = field(default_factory=list)  # for each of ``words``, the position after its last sub-word


@dataclass
class EncodingStats:
    windows: int = 0
    split_sentences: int = 0  # sentences longer than the maximum, given several windows
    words_without_subwords: int = 0
    words_cut: int = 0  # single words longer than a window's core: their extra sub-words are dropped
    examples: list[str] = field(default_factory=list)

    def log(self, what: str) -> None:
        if self.split_sentences:
            logger.info("%s: %d long sentence(s) split into overlapping windows", what, self.split_sentences)
        if self.words_without_subwords:
            logger.warning(
                "%s: %d word(s) give no sub-word and are skipped (e.g. %s)",
                what,
                self.words_without_subwords,
                ", ".join(self.examples[:3]),
            )
        if self.words_cut:
            logger.warning("%s: %d very long word(s) keep only their first sub-words", what, self.words_cut)


def max_input_length(config, tokenizer, requested: int | None = None) -> int:
    """The longest input the model takes: position table (less RoBERTa's offset) and tokenizer limit."""
    limit = getattr(config, "max_position_embeddings", None) or 512
    if getattr(config, "model_type", "") in ROBERTA_LIKE:
        limit -= (getattr(config, "pad_token_id", 1) or 1) + 1
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if tok_limit and tok_limit < 1_000_000:
        limit = min(limit, tok_limit)
    if requested is not None:
        if requested > limit:
            raise LabelgrowError(f"--max-length {requested} is more than the model's maximum of {limit}")
        limit = requested
    return limit


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a sequence (``<s>``/``</s>``, ``[CLS]``/``[SEP]``)."""
    bare = tokenizer("x", add_special_tokens=False)["input_ids"]
    full = tokenizer("x")["input_ids"]
    for k in range(len(full) - len(bare) + 1):
        if full[k : k + len(bare)] == bare:
            return full[:k], full[k + len(bare) :]
    return [], []


def plan_windows(piece_counts: Sequence[int], budget: int) -> list[tuple[int, int, int, int]]:
    """Split words with these sub-word counts into windows of at most ``budget`` sub-words.

    Returns ``(context_start, own_start, own_end, context_end)`` word ranges: words ``own_start..own_end-1`` are
    owned, the others are context. Each word's count must already be at most the core size ``budget - 2*(budget//8)``.
    """
    if sum(piece_counts) <= budget:
        return [(0, 0, len(piece_counts), len(piece_counts))]
    context = budget // 8
    core = budget - 2 * context
    plans, start, n = [], 0, len(piece_counts)
    while start < n:
        end, used = start, 0
        while end < n and used + piece_counts[end] <= core:
            used += piece_counts[end]
            end += 1
        left, room = start, context
        while left > 0 and piece_counts[left - 1] <= room:
            left -= 1
            room -= piece_counts[left]
        right, room = end, context
        while right < n and piece_counts[right] <= room:
            room -= piece_counts[right]
            right += 1
        plans.append((left, start, end, right))
        start = end
    return plans


def encode(
    sentences: Sequence[Sentence],
    tokenizer,
    max_length: int,
    label2id: Mapping[str, int] | None = None,
    label_all_subwords: bool = False,
) -> tuple[list[Window], EncodingStats]:
    """Tokenise words, align labels (when ``label2id`` is given) and window long sentences."""
    prefix, suffix = special_tokens(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    core = budget - 2 * (budget // 8)
    stats = EncodingStats()
    windows: list[Window] = []
    batch = 256
    for offset in range(0, len(sentences), batch):
        chunk = sentences[offset : offset + batch]
        encoded = tokenizer([s.tokens for s in chunk], is_split_into_words=True, add_special_tokens=False)
        for k, sentence in enumerate(chunk):
            pieces: list[list[int]] = [[] for _ in sentence.tokens]
            for token_id, word in zip(encoded["input_ids"][k], encoded.word_ids(k), strict=True):
                if word is not None:
                    pieces[word].append(token_id)
            for w, word_pieces in enumerate(pieces):
                if not word_pieces:
                    stats.words_without_subwords += 1
                    stats.examples.append(f"{sentence.path}:{sentence.line} word {w + 1} {sentence.tokens[w]!r}")
                elif len(word_pieces) > core:
                    stats.words_cut += 1
                    pieces[w] = word_pieces[:core]
            plans = plan_windows([len(p) for p in pieces], budget)
            stats.split_sentences += len(plans) > 1
            for left, start, end, right in plans:
                windows.append(
                    _window(
                        offset + k,
                        sentence,
                        pieces,
                        (left, start, end, right),
                        prefix,
                        suffix,
                        label2id,
                        label_all_subwords,
                    )
                )
    stats.windows = len(windows)
    return windows, stats


def _window(index, sentence, pieces, plan, prefix, suffix, label2id, label_all_subwords) -> Window:
    left, start, end, right = plan
    input_ids = list(prefix)
    labels = [IGNORE_INDEX] * len(prefix)
    words, ends = [], []
    for w in range(left, right):
        owned = start <= w < end and pieces[w]
        if owned:
            words.append((w, len(input_ids)))
            ends.append(len(input_ids) + len(pieces[w]))
        input_ids.extend(pieces[w])
        if label2id is None or sentence.tags is None:
            continue
        if not owned:
            labels.extend([IGNORE_INDEX] * len(pieces[w]))
            continue
        tag = sentence.tags[w]
        rest = IGNORE_INDEX
        if label_all_subwords:
            type_ = split_tag(tag)[1]
            rest = label2id[tag if type_ is None else f"I-{type_}"]
        labels.extend([label2id[tag]] + [rest] * (len(pieces[w]) - 1))
    input_ids.extend(suffix)
    if label2id is not None and sentence.tags is not None:
        labels.extend([IGNORE_INDEX] * len(suffix))
    else:
        labels = []
    return Window(index, input_ids, labels, words, ends)


def as_features(windows: Sequence[Window]) -> list[dict]:
    """Windows as the dicts that ``collate`` (and Trainer's length-grouped sampler) read."""
    return [{"input_ids": w.input_ids, "labels": w.labels} for w in windows]


def collate(features: Sequence[Mapping], pad_id: int) -> dict:
    """Pad a batch to its longest member: input_ids, attention_mask and, when labelled, labels (-100 padded);
    ``teacher_logits`` (--teacher-cache) and ``rehearsal`` (one bool per input) where the features have them."""
    import torch

    longest = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), longest), dtype=torch.long)
    labels = torch.full((len(features), longest), IGNORE_INDEX, dtype=torch.long)
    for i, f in enumerate(features):
        n = len(f["input_ids"])
        ids[i, :n] = torch.tensor(f["input_ids"])
        mask[i, :n] = 1
        if f.get("labels"):
            labels[i, :n] = torch.tensor(f["labels"])
    batch = {"input_ids": ids, "attention_mask": mask}
    if any(f.get("labels") for f in features):
        batch["labels"] = labels
    if any("teacher_logits" in f for f in features):  # --teacher-cache: logits at the scored positions only
        k = next(f["teacher_logits"].shape[-1] for f in features if "teacher_logits" in f)
        teacher = torch.zeros((len(features), longest, k), dtype=torch.float16)
        teacher[labels != IGNORE_INDEX] = torch.cat([f["teacher_logits"] for f in features]).to(torch.float16)
        batch["teacher_logits"] = teacher
    if any("rehearsal" in f for f in features):
        batch["rehearsal"] = torch.tensor([bool(f.get("rehearsal")) for f in features])
    return batch
