"""``labelgrow predict``: entities with character offsets for raw text, BIO tags for pre-tokenised input."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.configuration import InferenceArguments, InputFormat, _check, call_arguments, choice
from labelgrow.data import Sentence, read_conll, read_text, text_sentences
from labelgrow.labels import repair_bio
from labelgrow.metrics import extract_entities


@dataclass(kw_only=True)
class PredictArguments(InferenceArguments):
    """Everything ``labelgrow predict`` needs: texts given directly, or a file of them."""

    model: str
    texts: list[str] = field(default_factory=list)
    input: str | None = None
    format: str = "text"

    def __post_init__(self) -> None:
        self.texts = [self.texts] if isinstance(self.texts, str) else list(self.texts or [])
        _check(bool(self.texts) != bool(self.input), "give texts as arguments or --input FILE (one of the two)")
        self.format = choice(self.format, InputFormat, "--format")
        self.check_inference()


def entities(sentence: Sentence, tags: Sequence[str], scores: Sequence[float]) -> list[dict[str, Any]]:
    """Entities from word tags (an ``I-X`` that starts an entity is read as ``B-X``); the score is the mean of
    the word probabilities. Character offsets when the sentence has raw text, else word indices."""
    found = []
    for type_, start, end in sorted(extract_entities(repair_bio(list(tags))[0]), key=lambda e: e[1]):
        entity: dict[str, Any] = {"type": type_, "score": round(sum(scores[start : end + 1]) / (end - start + 1), 4)}
        if sentence.text is not None and sentence.offsets is not None:
            begin, finish = sentence.offsets[start][0], sentence.offsets[end][1]
            entity.update(text=sentence.text[begin:finish], start=begin, end=finish)
        else:
            entity.update(text=" ".join(sentence.tokens[start : end + 1]), start_word=start, end_word=end + 1)
        found.append(entity)
    return found


def predict_sentences(
    name: str,
    sentences: Sequence[Sentence],
    args: InferenceArguments,
    option: str = "--model",
    desc: str = "predicting",
):
    """Load ``name`` and tag ``sentences``: per-word tags and probabilities (inference.WordPredictions)."""
    from accelerate import PartialState

    from labelgrow.inference import precision_dtype, predict_words
    from labelgrow.modeling import load_config, load_token_classifier, load_tokenizer

    state = PartialState(cpu=args.cpu)
    config = load_config(name, args.trust_remote_code, option)
    tokenizer = load_tokenizer(name, config, args.trust_remote_code)
    model = load_token_classifier(name, args.trust_remote_code, args.allow_pickle).to(state.device)
    return predict_words(
        model,
        tokenizer,
        sentences,
        args.batch_size,
        args.max_length,
        dtype=precision_dtype(args.bf16, args.fp16),
        progress=len(sentences) > 100,
        desc=desc,
        decode=args.decode,
    )


def run_predict(args: PredictArguments) -> list[dict[str, Any]]:
    """Predict for texts given directly or read from ``args.input`` (one text per line, or CoNLL words)."""
    if args.input is not None:
        path = Path(args.input)
        if args.format == InputFormat.CONLL:
            sentences = read_conll(path, require_tags=False)
        else:
            sentences = text_sentences([line for line in read_text(path).splitlines() if line.strip()], str(path))
    else:
        sentences = text_sentences(args.texts)
    predictions = predict_sentences(args.model, sentences, args)
    results = []
    for sentence, prediction in zip(sentences, predictions, strict=True):
        row: dict[str, Any] = {}
        if sentence.text is not None:
            row["text"] = sentence.text
        else:
            row.update(tokens=sentence.tokens, tags=prediction.tags)
        row["entities"] = entities(sentence, prediction.tags, prediction.scores)
        results.append(row)
    return results


def write_jsonl(rows: Iterable[dict], path: Path | None) -> str | None:
    """One JSON object per line, to ``path`` or returned as text."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if path is None:
        return text
    path.write_text(text, encoding="utf-8")
    return None


def predict(args: PredictArguments | None = None, /, **kwargs: Any) -> list[dict[str, Any]]:
    """The Python face of ``labelgrow predict``: ``predict(model=..., texts=[...])`` or
    ``predict(PredictArguments(...))``; entities with character offsets for each text."""
    return run_predict(call_arguments(PredictArguments, args, kwargs))
