"""BIO-constrained decoding: valid sequences only, and the best of them (checked against brute force)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labelgrow.decoding import allowed_transitions, bio_viterbi

LABELS = ["O", "B-ORG", "I-ORG", "B-FACILITY", "I-FACILITY"]


def _valid(path: list[int], start, transition) -> bool:
    return bool(start[path[0]]) and all(transition[a, b] for a, b in itertools.pairwise(path))


def test_allowed_transitions():
    start, transition = allowed_transitions(LABELS)
    assert start.tolist() == [True, True, False, True, False]
    i_org, i_fac = LABELS.index("I-ORG"), LABELS.index("I-FACILITY")
    assert [LABELS[k] for k in np.flatnonzero(transition[:, i_org])] == ["B-ORG", "I-ORG"]
    assert [LABELS[k] for k in np.flatnonzero(transition[:, i_fac])] == ["B-FACILITY", "I-FACILITY"]
    assert transition[:, LABELS.index("O")].all() and transition[:, LABELS.index("B-ORG")].all()


def test_a_span_takes_the_type_its_words_agree_on():
    # argmax: B-FACILITY I-ORG I-ORG (a span whose words disagree); bio: B-ORG I-ORG I-ORG
    probs = np.array(
        [
            [0.05, 0.40, 0.00, 0.55, 0.00],
            [0.05, 0.00, 0.60, 0.00, 0.35],
            [0.05, 0.00, 0.60, 0.00, 0.35],
        ]
    )
    start, transition = allowed_transitions(LABELS)
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)
    assert [LABELS[k] for k in log_probs.argmax(-1)] == ["B-FACILITY", "I-ORG", "I-ORG"]
    assert [LABELS[k] for k in bio_viterbi(log_probs, start, transition)] == ["B-ORG", "I-ORG", "I-ORG"]


def test_an_inside_tag_never_opens_a_span():
    probs = np.array([[0.3, 0.0, 0.7, 0.0, 0.0], [0.3, 0.0, 0.7, 0.0, 0.0]])
    start, transition = allowed_transitions(LABELS)
    with np.errstate(divide="ignore"):
        path = bio_viterbi(np.log(probs), start, transition)
    assert [LABELS[k] for k in path] == ["O", "O"]


@pytest.mark.parametrize("seed", range(20))
def test_viterbi_is_the_best_valid_sequence(seed):
    rng = np.random.default_rng(seed)
    words = int(rng.integers(1, 5))
    log_probs = np.log(rng.dirichlet(np.ones(len(LABELS)) * 0.5, size=words))
    start, transition = allowed_transitions(LABELS)
    path = bio_viterbi(log_probs, start, transition)
    candidates = [list(p) for p in itertools.product(range(len(LABELS)), repeat=words)]
    best = max((c for c in candidates if _valid(c, start, transition)), key=lambda c: log_probs[range(words), c].sum())
    assert _valid(path, start, transition)
    assert log_probs[range(words), path].sum() == pytest.approx(log_probs[range(words), best].sum())
    assert bio_viterbi(log_probs[:0], start, transition) == []
