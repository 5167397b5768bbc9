"""Scoring a model on a scenario's sets: one forward pass per set, decoded both ways (bio: labelgrow eval's default;
argmax: what transformers.pipeline does), the tags cached beside the model; every figure is derived from the tags
with labelgrow.metrics, the same functions `labelgrow eval` uses."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.runs import code_digest

DECODES = ("bio", "argmax")
PROBABILITIES = "bio_probabilities"  # model_tags' key for the probability of each bio tag


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def load_sets(files: Mapping[str, Any], repeats: bool = False) -> dict[str, Any]:
    """The scenario's evaluation corpora: "retention" (old types) and "new" (the new types through its label map;
    tags of other types are O), each without its repeated sentences unless ``repeats``: see ``first_copies``."""
    from labelgrow.data import load_corpus
    from labelgrow.labels import LabelMap

    sets = {"retention": load_corpus([str(p) for p in files["retention"]])}
    if files.get("new_eval"):
        new = load_corpus([str(p) for p in files["new_eval"]], label_map=LabelMap.read(files["new_eval_map"]))
        sets["new"] = new
    if not repeats:
        for corpus in sets.values():
            corpus.sentences = first_copies(corpus.sentences)
    return sets


def first_copies(sentences: Sequence[Any]) -> list[Any]:
    """``sentences`` without those that repeat an earlier one of the same language word for word. WikiANN's test
    split repeats stub sentences (a 500-sentence Spanish sample holds `Springer-Verlag , Berlín , Alemania .` 7 times
    and `San Francisco , California , Estados Unidos .` 5 times); scored as often as they occur, one pattern would
    weigh several times in a language's forgetting, and it did: docs/benchmarks.md, "Repeated sentences"."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    kept = []
    for sentence in sentences:
        key = (sentence.lang, tuple(sentence.tokens))
        if key not in seen:
            seen.add(key)
            kept.append(sentence)
    return kept


def repeated_copies(files: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """``{set: {language: repeated sentences not scored}}``, languages without a repeat left out: what
    ``load_sets`` drops, for the results' header."""
    counts: dict[str, dict[str, int]] = {}
    for name, corpus in load_sets(files, repeats=True).items():
        every = Counter(s.lang for s in corpus.sentences)
        kept = Counter(s.lang for s in first_copies(corpus.sentences))
        dropped = {lang: n - kept[lang] for lang, n in every.items() if n > kept[lang]}
        if dropped:
            counts[name] = dict(sorted(dropped.items()))
    return counts


def model_tags(model_dir: str, sets: Mapping[str, Any], batch_size: int) -> dict[str, dict[str, list[list[Any]]]]:
    """``{decode: {set: tags per sentence}}`` for the sets whose types the model has (a teacher without the new
    type is not run on the new-type set), and under ``PROBABILITIES`` the same shape with each tag's probability
    (a teacher's near-ties: metrics.change_report). Cached in MODEL/benchmark-tags.json while the weights, the sets
    and labelgrow's code are unchanged."""
    weights = Path(model_dir) / "model.safetensors"
    key = {
        "sets": {name: corpus.files for name, corpus in sets.items()},
        "sizes": {name: len(corpus.sentences) for name, corpus in sets.items()},
        "weights": weights.stat().st_mtime if weights.exists() else None,
        "code": code_digest(),
    }
    cache = Path(model_dir) / "benchmark-tags.json"
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key and PROBABILITIES in saved["tags"]:
            return saved["tags"]
    from labelgrow.inference import word_log_probs
    from labelgrow.modeling import load_base

    base = load_base(model_dir)
    known = set(base.teacher.config.id2label.values())
    tags: dict[str, dict[str, list[list[Any]]]] = {d: {} for d in (*DECODES, PROBABILITIES)}
    for name, corpus in sets.items():
        needed = {t for s in corpus.sentences for t in s.tags or []} - {"O"}
        if name != "retention" and not needed & known:
            continue
        log_probs = word_log_probs(base.teacher, base.tokenizer, corpus.sentences, batch_size)
        for decode in DECODES:
            found = log_probs.decode(decode)
            tags[decode][name] = [p.tags for p in found]
            if decode == "bio":
                tags[PROBABILITIES][name] = [[round(x, 4) for x in p.scores] for p in found]
    if os.access(model_dir, os.W_OK):
        cache.write_text(json.dumps({"key": key, "tags": tags}))
    return tags


def figures(
    tags: Mapping[str, list[list[str]]],
    sets: Mapping[str, Any],
    teacher: Mapping[str, list[list[str]]] | None,
    old_types: Sequence[str],
    new_types: Sequence[str],
    parents: Mapping[str, Sequence[str]],
    carried: Sequence[str] = (),
    teacher_probabilities: Mapping[str, list[list[float]]] | None = None,
) -> dict[str, Any]:
    """One decoding's figures: old-label F1 per language and label; with the teacher's tags, forgetting (plain and
    not counting refinements into a parent type) and the change report (with ``teacher_probabilities``, its
    near-ties counted apart); new-type F1 per language; the ``carried`` old types' F1 on the new-type set (and
    their forgetting against the teacher there)."""
    from labelgrow.metrics import ALL, change_report, change_totals, forgetting, refine_to_parents, score

    retention = sets["retention"].sentences
    known_new = [t for t in new_types if "new" in tags]
    followed = list(dict.fromkeys([*old_types, *carried]))  # the change report follows every type the teacher has
    old = score(retention, tags["retention"], old_types, known_new)
    langs = old["languages"]
    row: dict[str, Any] = {"old_f1": {k: v["old"]["f1"] for k, v in langs.items()}}
    row["old_f1_mean"] = mean(list(row["old_f1"].values()))
    row["old_labels"] = {t: old["overall"]["labels"].get(t, {}).get("f1", 0.0) for t in old_types}
    if teacher is not None:
        teacher_score = score(retention, teacher["retention"], old_types, [])
        refined = [
            refine_to_parents(s.tags or [], t, parents) for s, t in zip(retention, tags["retention"], strict=True)
        ]
        for key, scores in (("forgetting", old), ("not_refinement", score(retention, refined, old_types, known_new))):
            forgot = forgetting(scores, teacher_score, old_types)
            per_lang = {k: v["old"] for k, v in forgot.items() if k != ALL and v["old"] is not None}
            row[key] = per_lang
            row[f"{key}_mean"] = mean(list(per_lang.values()))
            row[f"{key}_max"] = max(per_lang.values())
            row[f"{key}_labels"] = {k: v["labels"] for k, v in forgot.items()}
        probabilities = (teacher_probabilities or {}).get("retention")
        changes = change_report(
            retention, teacher["retention"], tags["retention"], followed, new_types, True, teacher_scores=probabilities
        )
        names = changes["changes"]
        row["changes"] = change_totals(changes["overall"], names)
        row["changes_by_lang"] = {lang: change_totals(block, names) for lang, block in changes["languages"].items()}
        if "teacher_unsure" in changes:  # the same counts, on the teacher's near-ties only
            unsure = changes["teacher_unsure"]
            row["near_ties"] = change_totals(unsure["overall"], names)
            row["near_ties_by_lang"] = {lang: change_totals(b, names) for lang, b in unsure["languages"].items()}
        row["change_examples"] = {k: v[:12] for k, v in changes["examples"].items()}
    if "new" in tags:
        new_scores = score(sets["new"].sentences, tags["new"], old_types, new_types)
        new_langs = new_scores["languages"]
        row["new_f1"] = {k: v["new"]["f1"] for k, v in new_langs.items()}
        row["new_labels"] = {t: new_scores["overall"]["labels"].get(t, {}).get("f1", 0.0) for t in new_types}
        row["new_f1_mean"] = mean(list(row["new_f1"].values()))
        row["new_precision_mean"] = mean([v["new"]["precision"] for v in new_langs.values()])
        row["new_recall_mean"] = mean([v["new"]["recall"] for v in new_langs.values()])
    if carried and "new" in tags:
        row["carried_f1"] = carried_f1(sets["new"].sentences, tags["new"], carried)
        if teacher is not None and "new" in teacher:
            before = carried_f1(sets["new"].sentences, teacher["new"], carried)
            row["carried_forgetting"] = {
                t: {lang: before[t][lang] - row["carried_f1"][t][lang] for lang in before[t]} for t in carried
            }
    return row


def carried_f1(sentences, tags, types: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{type: {language: F1}}`` on sentences whose gold annotates those types (languages without one are left
    out: no gold, no score)."""
    from labelgrow.metrics import ALL, score

    langs = score(sentences, tags, list(types), [])["languages"]
    return {
        t: {k: v["labels"][t]["f1"] for k, v in langs.items() if k != ALL and v["labels"].get(t, {}).get("support")}
        for t in types
    }


def evaluate(model_dir: str, sets, teacher_tags, scenario, batch_size: int) -> dict[str, Any]:
    """Both decodings' figures for one model: bio at the top level, argmax under "argmax"."""
    tags = model_tags(model_dir, sets, batch_size)
    per_decode = {
        d: figures(
            tags[d],
            sets,
            teacher_tags[d] if teacher_tags else None,
            scenario.old_types,
            scenario.new_types,
            scenario.parents,
            scenario.carried,
            teacher_tags.get(PROBABILITIES) if teacher_tags and d == "bio" else None,
        )
        for d in DECODES
    }
    return {**per_decode["bio"], "argmax": per_decode["argmax"]}


def throughput(model_dir: str, corpus, batch_size: int) -> dict[str, float]:
    """labelgrow's batched, length-sorted inference against transformers.pipeline, same model and sentences."""
    from transformers import pipeline

    from labelgrow.features import max_input_length
    from labelgrow.inference import predict_words
    from labelgrow.modeling import load_base

    base = load_base(model_dir)
    # transformers.pipeline neither windows nor truncates here: a sentence longer than the model's 512 positions
    # crashes it (seen on WikiANN test). Both sides are timed on the sentences that fit.
    limit = max_input_length(base.config, base.tokenizer)
    texts = [" ".join(s.tokens) for s in corpus.sentences]
    fits = [len(base.tokenizer(t)["input_ids"]) <= limit for t in texts]
    sentences = [s for s, ok in zip(corpus.sentences, fits, strict=True) if ok]
    texts = [t for t, ok in zip(texts, fits, strict=True) if ok]
    start = time.perf_counter()
    predict_words(base.teacher, base.tokenizer, sentences, batch_size)
    ours = time.perf_counter() - start
    ner = pipeline("token-classification", model=base.teacher, tokenizer=base.tokenizer, device=-1)
    start = time.perf_counter()
    ner(texts, batch_size=batch_size)
    theirs = time.perf_counter() - start
    words = sum(len(s.tokens) for s in sentences)
    return {
        "sentences": len(texts),
        "too_long_for_pipeline": fits.count(False),
        "labelgrow_s": ours,
        "pipeline_s": theirs,
        "speedup": theirs / ours,
        "labelgrow_words_per_s": words / ours,
        "pipeline_words_per_s": words / theirs,
    }
