"""Seeded subsets of the shared CoNLL corpora, written where the runs read them."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.corpora import RETENTION_LANGS, WIKIANN_TRAIN_LANGS


def sentences(path: Path) -> list[str]:
    """Blank-line separated blocks of a CoNLL file."""
    return [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]


def sample(blocks: list[str], n: int, seed: int) -> list[str]:
    """``n`` of ``blocks`` (all of them when there are fewer), drawn by ``seed``."""
    return random.Random(seed).sample(blocks, min(n, len(blocks)))


def subset(path: Path, n: int, seed: int) -> list[str]:
    return sample(sentences(path), n, seed)


def write(path: Path, blocks: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(b.strip("\n") for b in blocks) + "\n", encoding="utf-8")
    return path


def write_map(path: Path, mapping: Mapping[str, str], source_types: set[str]) -> Path:
    """A --label-map TSV: each source type to its target, every other type to O."""
    rows = {t: mapping.get(t, "O") for t in sorted(source_types)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{s}\t{t}\n" for s, t in rows.items()), encoding="utf-8")
    return path


def source_types(paths: Iterable[Path]) -> set[str]:
    found = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            tag = line.rsplit(" ", 1)[-1] if line.strip() else "O"
            if tag != "O":
                found.add(tag[2:])
    return found


def entity_words(paths: Iterable[Path], types: Iterable[str], min_count: int) -> list[str]:
    """The words inside entities of ``types`` in CoNLL files that occur at least ``min_count`` times, most
    frequent first (ties in first-seen order)."""
    wanted, counts = set(types), Counter()
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            parts = line.rsplit(" ", 1)
            if len(parts) == 2 and parts[1][2:] in wanted:
                counts[parts[0]] += 1
    return [w for w, n in counts.most_common() if n >= min_count]


def split_words(words: Iterable[str], tokenizer_dir: str, min_pieces: int) -> list[str]:
    """The words that ``tokenizer_dir``'s tokenizer splits into at least ``min_pieces`` sub-words."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    words = list(words)
    pieces = tokenizer(words, add_special_tokens=False)["input_ids"] if words else []
    return [w for w, ids in zip(words, pieces, strict=True) if len(ids) >= min_pieces]


def word_count(paths: Iterable[Path]) -> int:
    return sum(len(b.splitlines()) for p in paths for b in sentences(Path(p)))


def wikiann_teacher_data(shared: Path, out: Path, langs: Iterable[str], n: int) -> list[Path]:
    """The teacher's training data: ``n`` seeded WikiANN train sentences per language (seed 1), in
    OUT/data/teacher/LANG/train.txt. Every scenario writes the same files, so a teacher is shared between them."""
    return [
        write(out / "data" / "teacher" / lang / "train.txt", subset(shared / "wikiann" / lang / "train.txt", n, 1))
        for lang in langs
    ]


REHEARSAL_ALL_FILES = "rehearsal_all"  # a scenario's files key: what ``rehearsal_files`` writes on demand


def rehearsal_files(files: dict, key: str, args) -> list[str]:
    """A method's rehearsal text, ``files[key]``. The raw WikiANN text of every scored language (``rehearsal_all``)
    is written here the first time a method asks for it, so that no scenario has to prepare it (and none that runs
    no such method pays for it): ``args.rehearsal_sentences`` per language under ``args.out``."""
    if key == REHEARSAL_ALL_FILES and key not in files:
        shared = Path(args.shared) / "datasets"
        out = Path(args.out)
        files[key] = wikiann_rehearsal(shared, out, RETENTION_LANGS, WIKIANN_TRAIN_LANGS, args.rehearsal_sentences)
    return [str(p) for p in files[key]]


def wikiann_retention(shared: Path, out: Path, langs: Iterable[str], n: int) -> list[Path]:
    """Where old-label retention is scored: ``n`` seeded WikiANN test sentences per language (seed 3)."""
    return [
        write(out / "data" / "retention" / lang / "test.txt", subset(shared / "wikiann" / lang / "test.txt", n, 3))
        for lang in langs
    ]


def multiconer_dev(shared: Path, out: Path, langs: Iterable[str], n: int) -> list[Path]:
    """Where MultiCoNER II types are scored: ``n`` seeded dev sentences per language (seed 4), in
    OUT/data/new-eval/LANG/dev.txt; the same sentences in every scenario that scores on them."""
    return [
        write(out / "data" / "new-eval" / lang / "dev.txt", subset(shared / "multiconer2" / lang / "dev.txt", n, 4))
        for lang in langs
    ]


def write_mapped(directory: Path, paths: Iterable[Path], label_map: Path, name: str = "new.txt") -> list[Path]:
    """``paths`` read through a --label-map and written back as CoNLL, one DIRECTORY/LANG/NAME per language (for a
    joint bound, which trains on several label sets at once)."""
    from labelgrow.data import load_corpus
    from labelgrow.labels import LabelMap

    mapped = load_corpus([str(p) for p in paths], label_map=LabelMap.read(label_map))
    by_lang: dict[str, list[str]] = {}
    for s in mapped.sentences:
        by_lang.setdefault(s.lang, []).append("\n".join(f"{t} {g}" for t, g in zip(s.tokens, s.tags, strict=True)))
    return [write(directory / lang / name, blocks) for lang, blocks in by_lang.items()]


def wikiann_rehearsal(shared: Path, out: Path, langs: Iterable[str], train_langs: Iterable[str], n: int) -> list[Path]:
    """Raw text of every language a user keeps, for --rehearsal: ``n`` seeded WikiANN sentences per language (seed
    5) from train where the teacher saw it, else from dev (never test), in OUT/data/rehearsal-all/LANG/train.txt.
    labelgrow drops the tags."""
    trained = set(train_langs)
    return [
        write(
            out / "data" / "rehearsal-all" / lang / "train.txt",
            subset(shared / "wikiann" / lang / ("train.txt" if lang in trained else "dev.txt"), n, 5),
        )
        for lang in langs
    ]
