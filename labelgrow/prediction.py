"""``labelgrow predict``: entities with character offsets for raw text, BIO tags for pre-tokenised input."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.configuration import InferenceArguments, _check
from labelgrow.data import Sentence, read_conll, read_text, text_sentences
from labelgrow.labels import repair_bio
from labelgrow.metrics import extract_entities

INPUT_FORMATS = ("text", "conll")


@dataclass(kw_only=True)
class PredictArguments(InferenceArguments):
    """Everything ``labelgrow predict`` needs: texts given directly, or a file of them."""

    model: str
    texts: list[str] = field(default_factory=list)
    input: str | None = None
    format: str = "text"

    def __post_init__(self) -> None:
        self.texts = list(self.texts or [])
        _check(bool(self.texts) != bool(self.input), "give texts as arguments or --input FILE (one of the two)")
        _check(
            self.format in INPUT_FORMATS,
            f"--format must be one of {', '.join(INPUT_FORMATS)}, not {self.format!r}",
        )
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


def run_predict(
    model_name: str,
    texts: Sequence[str] = (),
    input_path: str | None = None,
    input_format: str = "text",
    batch_size: int = 32,
    max_length: int | None = None,
    cpu: bool = False,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    decode: str = "bio",
) -> list[dict[str, Any]]:
    """Predict for texts given directly or read from ``input_path`` (one text per line, or CoNLL words)."""
    from accelerate import PartialState

    from labelgrow.inference import predict_words
    from labelgrow.modeling import load_config, load_token_classifier, load_tokenizer

    if input_path is not None:
        path = Path(input_path)
        if input_format == "conll":
            sentences = read_conll(path, require_tags=False)
        else:
            sentences = text_sentences([line for line in read_text(path).splitlines() if line.strip()], str(path))
    else:
        sentences = text_sentences(texts)
    state = PartialState(cpu=cpu)
    config = load_config(model_name, trust_remote_code, "--model")
    tokenizer = load_tokenizer(model_name, config, trust_remote_code)
    model = load_token_classifier(model_name, trust_remote_code, allow_pickle).to(state.device)
    predictions = predict_words(
        model, tokenizer, sentences, batch_size, max_length, progress=len(sentences) > 100, decode=decode
    )
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


def predict(model: str, texts: Sequence[str] = (), **kwargs: Any) -> list[dict[str, Any]]:
    """The Python face of ``labelgrow predict``: entities with character offsets for each text."""
    return run_predict(model, texts, **kwargs)
