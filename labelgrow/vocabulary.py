"""Domain words in the vocabulary (``extend --add-tokens FILE``): whole words added to the tokenizer, their
embedding rows started from the mean of the sub-words they used to split into, and trained even where the
embeddings are frozen.

Why: a courier company's name split into five sub-words reaches the model as five pieces of other words; one row
of its own lets training give the name a meaning. The old rows never change (their gradient is zeroed and they
get no weight decay), so text without the added words gives exactly the base's outputs.

The teacher gets the same added rows, frozen at their start: teacher and student then see the same input ids and
agree exactly at step 0 on every text. On the added words the teacher sees the mean of their old sub-words instead
of the sub-words themselves -- an approximation of what it would say; words without them are unaffected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.errors import LabelgrowError

logger = logging.getLogger(__name__)


@dataclass
class DomainWords:
    """What ``--add-tokens`` did to the tokenizer: the words added (file order) with the old sub-word ids each
    used to split into, and the lines skipped with the reason."""

    source: str
    first_id: int  # the id of the first added word (the old vocabulary's size)
    pieces: dict[str, list[int]] = field(default_factory=dict)  # added word -> its old sub-word ids
    skipped: list[str] = field(default_factory=list)  # "FILE:LINE 'word': why"

    @property
    def added(self) -> list[str]:
        return list(self.pieces)

    def record(self) -> dict[str, Any]:
        """labelgrow.json's "added_tokens"."""
        counts = [len(p) for p in self.pieces.values()]
        return {
            "file": self.source,
            "added": len(self.pieces),
            "first_id": self.first_id,
            "mean_subwords_before": round(sum(counts) / len(counts), 2) if counts else 0.0,
            "words": self.added,
            "skipped": self.skipped,
        }


def read_word_list(path: str | Path) -> list[tuple[int, str]]:
    """``(line number, word)`` for every non-blank line of a one-word-per-line file; a line with a space inside
    is an error (labelgrow tokenises word by word, so a token with a space would never match)."""
    path = Path(path)
    if not path.is_file():
        raise LabelgrowError(f"--add-tokens {path}: no such file")
    words = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        word = line.strip()
        if not word:
            continue
        if any(ch.isspace() for ch in word):
            raise LabelgrowError(
                f"{path}:{number}: {word!r} has a space in it; --add-tokens takes one word per line (labelgrow "
                "tokenises word by word, so a token that spans words never matches): add its words one per line"
            )
        words.append((number, word))
    if not words:
        raise LabelgrowError(f"--add-tokens {path}: the file has no words (one word per line)")
    return words


def add_domain_words(tokenizer, path: str | Path) -> DomainWords:
    """Add the file's words to ``tokenizer`` (in place) as whole-word tokens. A word that is already one token,
    or repeats an earlier line, is skipped and listed; adding none at all is an error."""
    from tokenizers import AddedToken

    first_id = len(tokenizer)
    domain = DomainWords(str(path), first_id)
    for number, word in read_word_list(path):
        where = f"{path}:{number} {word!r}"
        if word in domain.pieces:
            domain.skipped.append(f"{where}: repeats an earlier line")
            continue
        ids = tokenizer([word], is_split_into_words=True, add_special_tokens=False)["input_ids"]
        if len(ids) == 1:
            token = tokenizer.convert_ids_to_tokens(ids)[0]
            domain.skipped.append(f"{where}: already one token of the vocabulary ({token!r})")
            continue
        domain.pieces[word] = ids
    if domain.skipped:
        logger.warning("--add-tokens: %d line(s) skipped, e.g. %s", len(domain.skipped), "; ".join(domain.skipped[:3]))
    if not domain.pieces:
        raise LabelgrowError(
            f"--add-tokens {path}: nothing to add: every word is already a single token or a repeat "
            f"({'; '.join(domain.skipped[:3])})"
        )
    # single_word: "DHLs" or "xDHL" keep their sub-words; running text "via DHL" then gives the same ids as the
    # words ["via", "DHL"] do, and the word's offsets leave the space before it out (lstrip would take it in);
    # not normalised: matched as written
    tokens = [AddedToken(w, single_word=True, lstrip=False, normalized=False) for w in domain.pieces]
    tokenizer.add_tokens(tokens)
    ids = tokenizer.convert_tokens_to_ids(domain.added)
    if ids != list(range(first_id, first_id + len(ids))):  # the rows below rely on it
        raise LabelgrowError(f"--add-tokens {path}: the tokenizer gave the added words unexpected ids")
    mean = sum(len(p) for p in domain.pieces.values()) / len(domain.pieces)
    logger.info(
        "--add-tokens: %d word(s) added to the vocabulary (ids %d-%d; they split into %.1f sub-words on average)",
        len(domain.pieces),
        first_id,
        first_id + len(domain.pieces) - 1,
        mean,
    )
    return domain


def grow_embeddings(model, domain: DomainWords) -> None:
    """Give ``model`` one input-embedding row per added word, each the mean of its old sub-words' rows; every
    row the tokenizer used before stays as it was. A matrix padded beyond the tokenizer (vocab_size rounded up)
    lends its unused rows first and grows only if they do not suffice."""
    import torch

    old = model.get_input_embeddings().weight
    trainable = old.requires_grad
    needed = domain.first_id + len(domain.pieces)
    if needed > old.shape[0]:
        model.resize_token_embeddings(needed, mean_resizing=False)
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for row, ids in enumerate(domain.pieces.values(), start=domain.first_id):
            weight[row] = weight[ids].mean(dim=0)
    weight.requires_grad_(trainable)


def train_added_rows(model, frozen, domain: DomainWords) -> None:
    """Let the added rows of ``model``'s frozen input embeddings train, every row below ``domain.first_id`` fixed
    (rows of padding above the added ones get no gradient: no input uses them), and say so in ``frozen``
    (modeling.FreezeSummary): the embeddings are no longer a fixed block (they run with dropout, and the teacher
    cannot share them), the rows count as trainable, the matrix gets no weight decay."""
    from labelgrow.modeling import fix_leading_rows, input_embeddings_module

    weight = model.get_input_embeddings().weight
    frozen.fixed_rows.append(fix_leading_rows(model, weight, domain.first_id))
    frozen.added_rows = len(domain.pieces)
    frozen.trainable += frozen.added_rows * weight.shape[1]
    block = input_embeddings_module(model)
    frozen.modules = [m for m in frozen.modules if m is not block]
