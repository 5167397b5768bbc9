"""Batched, length-sorted inference over words, windowed like training, sharded across processes when asked."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from labelgrow.data import Sentence
from labelgrow.decoding import DECODINGS, allowed_transitions, bio_viterbi
from labelgrow.features import as_features, collate, encode, max_input_length
from labelgrow.labels import OUTSIDE


@dataclass
class WordPredictions:
    """Per-word tags and the model's probability for each (words with no sub-word get ``O`` and score 0)."""

    tags: list[str]
    scores: list[float]


def precision_dtype(bf16: bool, fp16: bool) -> torch.dtype | None:
    """The reduced precision a run asked for (``--bf16``/``--fp16``), or None for float32."""
    return torch.bfloat16 if bf16 else torch.float16 if fp16 else None


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype in (torch.bfloat16, torch.float16) and device.type in ("cuda", "cpu", "mps"):
        return torch.autocast(device.type, dtype=dtype)
    return torch.autocast(device.type, enabled=False)


def gather_merged(found: dict, num_processes: int) -> dict:
    """Every process's ``{index: result}`` shard merged into one dict on every process (gathered exactly once)."""
    if num_processes <= 1:
        return found
    from accelerate.utils import gather_object

    merged: dict = {}
    for part in gather_object([found]):
        merged.update(part)
    return merged


TOKENS_PER_WINDOW = 64  # a batch holds at most batch_size windows and batch_size * 64 padded tokens


def token_budget_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Consecutive batches over windows sorted by decreasing length, each of at most ``batch_size`` windows and
    ``batch_size * TOKENS_PER_WINDOW`` padded tokens: one long window does not pad a whole batch of short ones."""
    budget = batch_size * TOKENS_PER_WINDOW
    batches: list[list[int]] = []
    for i in range(len(lengths)):
        if batches and len(batches[-1]) < batch_size and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


@dataclass
class WordLogProbs:
    """Per sentence, the log-probabilities of every label at every word ([words, labels]; a word without sub-words
    is certainly O), and the label names in id order."""

    matrices: list[np.ndarray]
    labels: list[str]

    def decode(self, decode: str = "bio") -> list[WordPredictions]:
        """Tags per word (``decode``: see labelgrow/decoding.py) and the probability of each chosen tag."""
        if decode not in DECODINGS:
            raise ValueError(f"decode must be one of {', '.join(DECODINGS)}, not {decode!r}")
        start, transition = allowed_transitions(self.labels)
        results = []
        for matrix in self.matrices:
            path = bio_viterbi(matrix, start, transition) if decode == "bio" else matrix.argmax(-1).tolist()
            # a word without sub-words (its row is O with certainty, -inf elsewhere) has score 0
            scores = [0.0 if np.isneginf(matrix[w]).any() else float(np.exp(matrix[w, k])) for w, k in enumerate(path)]
            results.append(WordPredictions([self.labels[k] for k in path], scores))
        return results


def predict_words(model: nn.Module, tokenizer, sentences: Sequence[Sentence], *args, decode: str = "bio", **kwargs):
    """Tag every word of every sentence: ``word_log_probs`` (same arguments) decoded with ``decode``."""
    return word_log_probs(model, tokenizer, sentences, *args, **kwargs).decode(decode)


@torch.no_grad()
def word_log_probs(
    model: nn.Module,
    tokenizer,
    sentences: Sequence[Sentence],
    batch_size: int = 32,
    max_length: int | None = None,
    accelerator=None,
    dtype: torch.dtype | None = None,
    progress: bool = False,
    desc: str = "predicting",
) -> WordLogProbs:
    """The model's label log-probabilities at every word of every sentence, windowed like training. With a
    multi-process ``accelerator`` each process runs every ``num_processes``-th sentence and the results are gathered
    once, so every process returns all sentences."""
    from tqdm.auto import tqdm

    max_length = max_input_length(model.config, tokenizer, max_length)
    world = accelerator.num_processes if accelerator is not None else 1
    rank = accelerator.process_index if accelerator is not None else 0
    mine = [i for i in range(len(sentences)) if i % world == rank]
    windows, _ = encode([sentences[i] for i in mine], tokenizer, max_length)
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids), reverse=True)
    device = next(model.parameters()).device
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    labels = [id2label[i] for i in range(len(id2label))]
    found: dict[int, dict[int, np.ndarray]] = {}  # sentence -> word -> log-probabilities over the labels
    was_training = model.training
    model.eval()
    batches = token_budget_batches([len(windows[i].input_ids) for i in order], batch_size)
    batches = [[order[i] for i in batch] for batch in batches]
    quiet = not progress or rank != 0 or os.environ.get("TQDM_DISABLE") == "1"  # labelgrow -q
    for batch_ids in tqdm(batches, desc=desc, disable=quiet, leave=False):
        batch = collate(as_features([windows[i] for i in batch_ids]), tokenizer.pad_token_id)
        with _autocast(device, dtype):
            logits = model(
                input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)
            ).logits
        log_probs = logits.float().log_softmax(-1).cpu().numpy()
        for row, window_id in enumerate(batch_ids):
            window = windows[window_id]
            words = found.setdefault(mine[window.sentence], {})
            for word, position in window.words:
                words[word] = log_probs[row, position]
    model.train(was_training)
    found = gather_merged(found, world)
    outside = np.full(len(labels), -np.inf, dtype=np.float32)
    outside[labels.index(OUTSIDE) if OUTSIDE in labels else 0] = 0.0
    matrices = []
    for i, sentence in enumerate(sentences):
        words = found.get(i, {})
        rows = [words.get(w, outside) for w in range(len(sentence.tokens))]
        matrices.append(np.stack(rows) if rows else np.zeros((0, len(labels)), dtype=np.float32))
    return WordLogProbs(matrices, labels)
