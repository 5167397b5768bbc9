"""Can decoding alone stop a grown model from putting a new type where it has no evidence? (issue 12)

In the languages without training text a grown model predicts FACILITY on many words with no gold entity
(docs/benchmarks.md, "what the zero-shot gap is made of"). Two decodings that need no training are scored here
against labelgrow's own (BIO Viterbi on the word log-probabilities) on one grown model and its teacher:

- **new-label bias β**: every new label's log-probability lowered by β before decoding — a stricter threshold for
  the new type everywhere (what lowering the new rows' bias in the checkpoint would do);
- **parent gate γ**: a new type that refines old ones (``--parent FACILITY=LOC,ORG``) may take a word in proportion
  to how much the old labels there believe in a parent: its log-probability gains ``γ · log m``, ``m`` the mass of
  the parents' B/I labels in the old-label distribution — the student's own old slice (deployable) or the teacher's.

    python benchmarks/decoding_variants.py --model runs/bench/wikiann-facility/methods/t42/default-2ep-s42 \\
        --teacher runs/bench/wikiann-facility/teacher-s42 --data runs/bench/wikiann-facility/data/new-eval \\
        --label-map runs/bench/wikiann-facility/data/facility-only.tsv --trained en de zh

Writes OUT.json and prints one line per variant: new-type F1 as the mean over languages, over the ``--trained``
languages and over the others (micro precision/recall beside them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

BIASES = (0.5, 1.0, 2.0)
GATES = (0.25, 0.5, 1.0)


def parent_mass(old_log_probs: np.ndarray, old_labels: list[str], parents: set[str]) -> np.ndarray:
    """Per word, the probability of the parents' B/I labels in the renormalised old-label distribution."""
    p = np.exp(old_log_probs - old_log_probs.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    columns = [i for i, label in enumerate(old_labels) if label[2:] in parents]
    return np.clip(p[:, columns].sum(-1), 1e-6, 1.0)


def adjusted(student: np.ndarray, new_ids: list[int], bias: float = 0.0, gate: np.ndarray | None = None):
    """The student's word log-probabilities with the new labels lowered by ``bias`` and by ``gate`` (per word);
    a word without sub-words (certainly O: -inf elsewhere) is left as it is."""
    out = student.copy()
    out[:, new_ids] -= bias
    if gate is not None:
        out[:, new_ids] += gate[:, None]
    fixed = np.isneginf(student).any(-1)
    out[fixed] = student[fixed]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the grown model")
    p.add_argument("--teacher", required=True, help="its teacher (for the teacher-gated variant)")
    p.add_argument("--data", nargs="+", required=True, help="gold files or folders (new-type set)")
    p.add_argument("--label-map", help="labelgrow's --label-map for the gold")
    p.add_argument("--parent", default="FACILITY=LOC,ORG", help="the new types' parents (extend's --parent)")
    p.add_argument("--trained", nargs="+", default=["en", "de", "zh"], help="languages with training text")
    p.add_argument("--out", default=None, help="results JSON (default: MODEL/decoding-variants.json)")
    args = p.parse_args()

    from harness.scoring import first_copies

    from labelgrow.data import data_files, load_corpus
    from labelgrow.decoding import allowed_transitions, bio_viterbi
    from labelgrow.inference import word_log_probs
    from labelgrow.labels import LabelMap, parse_parents
    from labelgrow.metrics import ALL, Counts, language_counts, prf
    from labelgrow.modeling import load_config, load_token_classifier, load_tokenizer

    files = [str(f) for d in args.data for f in (data_files(Path(d)) if Path(d).is_dir() else [Path(d)])]
    corpus = load_corpus(files, label_map=LabelMap.read(args.label_map) if args.label_map else None)
    sentences = first_copies(corpus.sentences)  # as the benchmarks score: a repeated sentence once

    def log_probs(path: str):
        tokenizer = load_tokenizer(path, load_config(path))
        return word_log_probs(load_token_classifier(path), tokenizer, sentences, batch_size=64, progress=True)

    student, teacher = log_probs(args.model), log_probs(args.teacher)
    labels, old = student.labels, teacher.labels
    new_ids = [i for i, label in enumerate(labels) if label not in old]
    new_types = sorted({labels[i][2:] for i in new_ids})
    parents = {p for ps in parse_parents(args.parent).values() for p in ps}
    start, transition = allowed_transitions(labels)

    variants: dict[str, dict] = {"labelgrow (bio)": {}}
    variants.update({f"new-label bias {b}": {"bias": b} for b in BIASES})
    variants.update({f"parent gate {g}, student": {"gate": g, "source": "student"} for g in GATES})
    variants.update({f"parent gate {g}, teacher": {"gate": g, "source": "teacher"} for g in GATES})
    results = {}
    for name, v in variants.items():
        predicted = []
        for s, t in zip(student.matrices, teacher.matrices, strict=True):
            gate = None
            if v.get("gate"):
                slice_ = s[:, : len(old)] if v["source"] == "student" else t
                gate = v["gate"] * np.log(parent_mass(slice_, old, parents))
            matrix = adjusted(s, new_ids, v.get("bias", 0.0), gate)
            predicted.append([labels[k] for k in bio_viterbi(matrix, start, transition)])
        counts = language_counts(sentences, predicted)  # {language: {type: Counts}}, and "all"

        def new_type_counts(langs: list[str], counts=counts) -> Counts:
            total = Counts()
            for lang in langs:
                for kind in new_types:
                    total.add(counts[lang].get(kind, Counts()))
            return total

        scores = {lang: prf(new_type_counts([lang])) for lang in sorted(counts) if lang != ALL}

        def pooled(langs: list[str], scores=scores) -> dict[str, float]:
            mean = float(np.mean([scores[lang]["f1"] for lang in langs]))
            return {"f1_mean": mean, **prf(new_type_counts(langs))}

        trained = [lang for lang in scores if lang in args.trained]
        others = [lang for lang in scores if lang not in args.trained]
        results[name] = {"all": pooled(list(scores)), "trained": pooled(trained), "others": pooled(others)}
        results[name]["languages"] = scores
        r = results[name]
        print(
            f"{name:28s} F1 mean {r['all']['f1_mean']:5.1f} | trained {r['trained']['f1_mean']:5.1f} "
            f"(P {r['trained']['precision']:4.1f} R {r['trained']['recall']:4.1f}) | others "
            f"{r['others']['f1_mean']:5.1f} (P {r['others']['precision']:4.1f} R {r['others']['recall']:4.1f})",
            flush=True,
        )
    out = Path(args.out or Path(args.model) / "decoding-variants.json")
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
