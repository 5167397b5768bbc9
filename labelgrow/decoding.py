"""From per-word label probabilities to a valid BIO sequence.

Taking the most probable label of each word independently (``argmax``, what ``transformers.pipeline`` does) can
produce ``B-FACILITY I-ORG I-ORG``: a span whose words disagree on its type, which seqeval splits or mistypes. A
grown model is prone to it exactly where old and new types overlap (a stadium WikiANN calls ORG). ``bio`` decoding
(the default) picks the sequence with the highest total log-probability among those where every ``I-X`` follows a
``B-X`` or ``I-X`` (Viterbi over the BIO transition constraints), so a span takes the type its words agree on most.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labelgrow.configuration import DECODINGS

__all__ = ["DECODINGS", "allowed_transitions", "bio_viterbi"]


def allowed_transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(start, transition)``: which labels may open a sentence, and which may follow which ([C], [C, C])."""
    inside = [label[2:] if label.startswith("I-") else None for label in labels]
    start = np.array([t is None for t in inside])
    transition = np.ones((len(labels), len(labels)), dtype=bool)
    for j, kind in enumerate(inside):
        if kind is not None:
            transition[:, j] = [prev in (f"B-{kind}", f"I-{kind}") for prev in labels]
    return start, transition


def bio_viterbi(log_probs: np.ndarray, start: np.ndarray, transition: np.ndarray) -> list[int]:
    """The best label sequence for ``log_probs`` [words, C] under the ``allowed_transitions`` constraints."""
    if len(log_probs) == 0:
        return []
    blocked = np.where(transition, 0.0, -np.inf)
    score = np.where(start, log_probs[0], -np.inf)
    back = np.zeros(log_probs.shape, dtype=np.int64)
    for i in range(1, len(log_probs)):
        candidates = score[:, None] + blocked  # [previous, current]
        back[i] = candidates.argmax(0)
        score = candidates.max(0) + log_probs[i]
    path = [int(score.argmax())]
    for i in range(len(log_probs) - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]
