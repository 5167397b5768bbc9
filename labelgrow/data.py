"""Reading NER data: CoNLL-style BIO files, span-JSON lines (CLUENER style) and `datasets` datasets.

Every sentence carries its language and the file and line it came from, so that reports can be grouped by
language and every error can name its place.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgrow.errors import DataError, LabelgrowError
from labelgrow.exchange import doccano_spans, is_doccano, load_label_studio, looks_like_label_studio
from labelgrow.labels import OUTSIDE, LabelMap, repair_bio

logger = logging.getLogger(__name__)

UNDETERMINED = "und"  # BCP-47 "undetermined language"
UNLABELLED_FORMATS = ("auto", "text", "conll")  # what --rehearsal and diff --data read
DATA_SUFFIXES = {".txt", ".conll", ".conll03", ".bio", ".iob", ".iob2", ".tsv", ".jsonl", ".json"}
SPLIT_WORDS = {"train", "dev", "test", "valid", "validation", "val", "eval"}
# ISO 639-1 codes: a directory or file named by one of these gives the language of the sentences inside.
ISO_639_1 = frozenset(
    (
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee "
        "el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is "
        "it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms "
        "mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk "
        "sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
        "yo za zh zu"
    ).split()
)
_LANG_CODE = re.compile(r"^([a-z]{2})(?:[-_][A-Za-z]{2,4})?$")
_LANG_COMMENT = re.compile(r"^#\s*lang(?:uage)?\s*=\s*(\S+)\s*$")
_OTHER_COMMENT = re.compile(r"^#\s*[\w.-]+\s*=")  # CoNLL-U style "# sent_id = 3"; "# O" is a token, not a comment
_BIO = re.compile(r"^(?:O|[BI]-\S+)$")
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff"


@functools.cache
def _span_token() -> re.Pattern[str]:
    """Raw text's words: one per CJK character, runs of word characters *and combining marks* (Devanagari vowel
    signs, a decomposed accent: Python's word class has no marks, so ``नमस्ते`` would fall apart), single other marks.
    Built on first use (the mark ranges take ~0.1 s to list), not at import."""
    ranges, start = [], None
    for cp in [*range(0x20000), *range(0xE0100, 0xE01F0)]:
        mark = unicodedata.category(chr(cp)).startswith("M")
        if mark and start is None:
            start = cp
        elif not mark and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start = None
    marks = "".join(ranges)
    return re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w|[{marks}])+|[^\w\s]")


@dataclass
class Sentence:
    """One sentence: words, their BIO tags (None for unlabelled input), its language and origin."""

    tokens: list[str]
    tags: list[str] | None
    lang: str = UNDETERMINED
    path: str = "<memory>"
    line: int = 0
    text: str | None = None  # the raw text, for span-JSON input and raw-text prediction
    offsets: list[tuple[int, int]] | None = None  # character span of each token in ``text``

    def __post_init__(self) -> None:
        if self.tags is not None and len(self.tags) != len(self.tokens):
            raise DataError(self.path, self.line, f"{len(self.tokens)} tokens but {len(self.tags)} tags")


@dataclass
class Corpus:
    """Sentences from one or more sources, with what was changed on the way in (never silently)."""

    sentences: list[Sentence] = field(default_factory=list)
    repaired: Counter = field(default_factory=Counter)  # path -> I-X after O repaired to B-X
    mapped: Counter = field(default_factory=Counter)  # path -> tags changed by --label-map
    files: list[str] = field(default_factory=list)
    detected: Counter = field(default_factory=Counter)  # language -> sentences whose language was detected

    def languages(self) -> list[str]:
        return sorted({s.lang for s in self.sentences})


def language_from_path(path: Path) -> str | None:
    """``de/train.txt``, ``de.txt``, ``train.de.txt`` or ``zh-CN_dev.jsonl`` give a language; ``train.txt`` none."""
    parts = [p for p in re.split(r"[._-]", path.stem) if p]
    codes = [p.lower() for p in parts if p.lower() in ISO_639_1]
    rest = [p for p in parts if p.lower() not in ISO_639_1 and p.lower() not in SPLIT_WORDS]
    if len(codes) == 1 and not rest:
        return codes[0]
    match = _LANG_CODE.match(path.parent.name)
    if match and match.group(1) in ISO_639_1:
        return match.group(1)
    return None


def read_text(path: Path) -> str:
    """Read a UTF-8 file, naming the line of the first undecodable byte; refuse binary files."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise DataError(path, None, "is a directory") from None
    except OSError as exc:
        raise DataError(path, None, f"cannot be read ({exc.strerror})") from None
    if b"\x00" in raw[:8192]:
        raise DataError(path, raw[: raw.index(b"\x00")].count(b"\n") + 1, "binary file (NUL byte), not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(path, line, f"not UTF-8 (byte 0x{raw[exc.start]:02x}); re-encode the file as UTF-8") from None


def read_conll(path: Path, lang: str | None = None, require_tags: bool = True) -> list[Sentence]:
    """Read ``token TAG`` lines (or several whitespace-separated columns with the tag last).

    Blank lines separate sentences, ``-DOCSTART-`` lines are skipped, ``# lang = xx`` sets the language of the
    sentences that follow it, other ``# key = value`` comments are ignored. Without ``require_tags`` one-column
    lines are accepted as unlabelled words.
    """
    file_lang = lang or language_from_path(path) or UNDETERMINED
    current_lang = file_lang
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    labelled: bool | None = None

    def flush() -> None:
        nonlocal tokens, tags
        if tokens:
            sentences.append(Sentence(tokens, tags if labelled else None, current_lang, str(path), start))
        tokens, tags = [], []

    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("-DOCSTART-"):
            flush()
            continue
        comment = _LANG_COMMENT.match(line)
        if comment:
            flush()
            current_lang = lang or comment.group(1)
            continue
        if _OTHER_COMMENT.match(line) and not tokens:
            continue
        fields = line.split()
        if len(fields) == 1:
            if require_tags:
                raise DataError(path, lineno, f"expected 'token TAG' (tag in the last column), got one column: {raw!r}")
            row_labelled = False
        else:
            row_labelled = True
            if not _BIO.match(fields[-1]):
                raise DataError(
                    path,
                    lineno,
                    f"tag {fields[-1]!r} is not a BIO tag (O, B-TYPE or I-TYPE; convert IOBES/BILOU to BIO first)",
                )
        if labelled is None or not tokens:
            labelled = row_labelled
        elif labelled != row_labelled:
            raise DataError(path, lineno, "this sentence mixes lines with and without a tag column")
        if not tokens:
            start = lineno
        tokens.append(fields[0])
        tags.append(fields[-1] if row_labelled else OUTSIDE)
    flush()
    return sentences


def tokenize_with_offsets(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Split raw text into words: one token per CJK character, word-character runs and single punctuation marks."""
    matches = list(_span_token().finditer(text))
    return [m.group() for m in matches], [(m.start(), m.end()) for m in matches]


def spans_to_tags(
    offsets: Sequence[tuple[int, int]], spans: Iterable[tuple[str, int, int]], path: Path, lineno: int, text: str
) -> list[str]:
    """BIO tags for tokens from ``(type, start, end_exclusive)`` character spans; overlaps and cuts are errors."""
    tags = [OUTSIDE] * len(offsets)
    owner: dict[int, tuple[str, int, int]] = {}
    for type_, begin, end in sorted(spans, key=lambda s: (s[1], s[2])):
        inside = [i for i, (s, e) in enumerate(offsets) if s < end and e > begin]
        if not inside:
            raise DataError(path, lineno, f"{type_} span [{begin}, {end - 1}] covers no word")
        for i in inside:
            s, e = offsets[i]
            if s < begin or e > end:
                raise DataError(
                    path,
                    lineno,
                    f"{type_} span [{begin}, {end - 1}] {text[begin:end]!r} cuts through the word {text[s:e]!r}",
                )
            if i in owner:
                other = owner[i]
                raise DataError(
                    path,
                    lineno,
                    f"spans overlap: {other[0]} [{other[1]}, {other[2] - 1}] and {type_} [{begin}, {end - 1}]",
                )
            owner[i] = (type_, begin, end)
            tags[i] = f"{'B' if i == inside[0] else 'I'}-{type_}"
    return tags


def cluener_spans(label: Any, text: str, path: Path, lineno: int) -> list[tuple[str, int, int]]:
    """``{TYPE: {entity_text: [[start, end_inclusive], ...]}}`` as ``(type, start, end_exclusive)`` spans, each
    checked against the text."""
    if not isinstance(label, dict):
        raise DataError(path, lineno, '"label" must map types to {entity text: [[start, end], ...]}')
    spans = []
    for type_, entities in label.items():
        if not isinstance(entities, dict):
            raise DataError(path, lineno, f'"label"["{type_}"] must map entity text to [[start, end], ...]')
        for surface, positions in entities.items():
            for pos in positions:
                if not (isinstance(pos, list) and len(pos) == 2 and all(isinstance(x, int) for x in pos)):
                    raise DataError(path, lineno, f"{type_} {surface!r}: span {pos!r} is not [start, end]")
                begin, end = pos
                if begin < 0 or end >= len(text) or begin > end:
                    raise DataError(
                        path,
                        lineno,
                        f"{type_} {surface!r}: span [{begin}, {end}] is out of range for a text of "
                        f"{len(text)} characters",
                    )
                if text[begin : end + 1] != surface:
                    raise DataError(
                        path,
                        lineno,
                        f"{type_} span [{begin}, {end}] is {text[begin : end + 1]!r} in the text, not {surface!r}",
                    )
                spans.append((type_, begin, end + 1))
    return spans


def read_span_json(path: Path, lang: str | None = None, require_tags: bool = True) -> list[Sentence]:
    """Read CLUENER-style lines ``{"text": ..., "label": {TYPE: {entity_text: [[start, end_inclusive], ...]}}}``
    or doccano lines ``{"text": ..., "label": [[start, end_exclusive, TYPE], ...]}`` (labelgrow/exchange.py).

    An optional ``"lang"`` field sets the sentence's language. A span whose text differs from ``entity_text``,
    that lies outside the text, or that overlaps another span, is an error naming the line.
    """
    file_lang = lang or language_from_path(path) or UNDETERMINED
    sentences = []
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(path, lineno, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise DataError(path, lineno, 'expected an object with a "text" string')
        text = record["text"]
        label = record.get("label", record.get("entities"))
        if label is None and require_tags:
            raise DataError(path, lineno, 'no "label" field (write "label": {} for a sentence without entities)')
        if is_doccano(record):
            spans = doccano_spans(record, text, path, lineno)
        else:
            spans = cluener_spans(label or {}, text, path, lineno)
        tokens, offsets = tokenize_with_offsets(text)
        if not tokens:
            continue
        tags = spans_to_tags(offsets, spans, path, lineno, text) if label is not None else None
        sentence_lang = lang or record.get("lang") or file_lang
        sentences.append(Sentence(tokens, tags, sentence_lang, str(path), lineno, text, offsets))
    return sentences


def read_hf_dataset(dataset: Any, name: str, lang: str | None = None) -> list[Sentence]:
    """Sentences from a `datasets.Dataset` with ``tokens`` and ``ner_tags`` (ClassLabel ids or strings) columns;
    a ``lang`` or ``langs`` column gives the language."""
    missing = {"tokens", "ner_tags"} - set(dataset.column_names)
    if missing:
        raise LabelgrowError(
            f"{name}: the dataset has no {', '.join(sorted(missing))} column(s) "
            f"(it has {', '.join(dataset.column_names)})"
        )
    feature = dataset.features["ner_tags"]
    names = getattr(getattr(feature, "feature", None), "names", None)
    sentences = []
    for i, row in enumerate(dataset):
        tags = [names[t] if names is not None else str(t) for t in row["ner_tags"]]
        bad = [t for t in tags if not _BIO.match(t)]
        if bad:
            raise DataError(name, i, f"row {i}: tag {bad[0]!r} is not a BIO tag")
        row_lang = row.get("lang") or (row.get("langs") or [None])[0]
        sentences.append(Sentence(list(row["tokens"]), tags, lang or row_lang or UNDETERMINED, name, i))
    return sentences


def _load_dataset_spec(spec: str):
    """``hf:NAME[:CONFIG]@SPLIT`` from the Hub, or ``DIR[@SPLIT]`` saved with ``save_to_disk``."""
    import datasets

    path, _, split = spec.partition("@")
    if path.startswith("hf:"):
        name, _, config = path[3:].partition(":")
        return datasets.load_dataset(name, config or None, split=split or "train")
    loaded = datasets.load_from_disk(path)
    if isinstance(loaded, datasets.DatasetDict):
        if not split:
            raise LabelgrowError(f"{path} holds splits {list(loaded)}: name one, e.g. {path}@{next(iter(loaded))}")
        return loaded[split]
    return loaded


def _is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in ("dataset_info.json", "state.json", "dataset_dict.json"))


def _is_dataset_spec(source: str | Path) -> bool:
    return (isinstance(source, str) and source.startswith("hf:")) or _is_saved_dataset(Path(str(source).split("@")[0]))


def data_files(path: Path) -> list[Path]:
    """Data files under a directory, sorted; README/PROVENANCE and label maps are not data."""
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith((".", "label_map"))
    )


def read_label_studio_export(path: Path, text: str, lang: str | None = None) -> list[Sentence]:
    """The annotated tasks of a Label Studio JSON export as sentences (words split as for span-JSON); tasks
    nobody annotated are skipped, with a warning that counts them."""
    found, unannotated = load_label_studio(path, text)
    if unannotated:
        logger.warning("%s: skipped %d task(s) without an annotation (not read as all-O)", path, unannotated)
    file_lang = language_from_path(path)
    sentences = []
    for annotated in found:
        tokens, offsets = tokenize_with_offsets(annotated.text)
        if not tokens:
            continue
        tags = spans_to_tags(offsets, annotated.spans, path, annotated.item, annotated.text)
        sentence_lang = lang or annotated.lang or file_lang or UNDETERMINED
        sentences.append(Sentence(tokens, tags, sentence_lang, str(path), annotated.item, annotated.text, offsets))
    return sentences


def read_file(path: Path, lang: str | None = None, require_tags: bool = True) -> list[Sentence]:
    """Read one data file, choosing the reader by content: a JSON list is a Label Studio export, JSON objects per
    line are span-JSON or doccano, anything else CoNLL columns."""
    text = read_text(path)
    if looks_like_label_studio(text):
        return read_label_studio_export(path, text, lang)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    reader = read_span_json if first.startswith("{") else read_conll
    return reader(path, lang, require_tags)


def load_corpus(
    sources: Sequence[str | Path | Any],
    lang: str | None = None,
    label_map: LabelMap | None = None,
    require_tags: bool = True,
) -> Corpus:
    """Read every source (file, directory, saved dataset, ``hf:`` spec or in-memory `datasets.Dataset`), map
    tags with ``label_map`` and repair BIO; record what was changed. An empty source is an error."""
    corpus = Corpus()
    for source in sources:
        if hasattr(source, "column_names"):  # a datasets.Dataset passed from Python
            name = f"<dataset {(getattr(source, 'info', None) and source.info.dataset_name) or 'in memory'}>"
            found = read_hf_dataset(source, name, lang)
            files = [name]
        elif _is_dataset_spec(source):
            found = read_hf_dataset(_load_dataset_spec(str(source)), str(source), lang)
            files = [str(source)]
        else:
            path = Path(source)
            if not path.exists():
                raise LabelgrowError(f"{path}: no such file or directory")
            paths = data_files(path) if path.is_dir() else [path]
            if not paths:
                raise DataError(path, None, f"directory has no data files ({', '.join(sorted(DATA_SUFFIXES))})")
            found, files = [], [str(p) for p in paths]
            for p in paths:
                sentences = read_file(p, lang, require_tags)
                if not sentences:
                    raise DataError(p, None, "no sentences (the file is empty or has only blank lines)")
                found.extend(sentences)
        corpus.files.extend(files)
        for sentence in found:
            if sentence.tags is not None:
                if label_map is not None:
                    mapped = [label_map(t) for t in sentence.tags]
                    corpus.mapped[sentence.path] += sum(a != b for a, b in zip(mapped, sentence.tags, strict=True))
                    sentence.tags = mapped
                sentence.tags, repairs = repair_bio(sentence.tags)
                corpus.repaired[sentence.path] += repairs
        corpus.sentences.extend(found)
    for path, n in corpus.repaired.items():
        if n:
            logger.warning("%s: repaired %d tag(s) I-X that did not continue an X entity to B-X", path, n)
    for path, n in corpus.mapped.items():
        if n:
            logger.info("%s: --label-map changed %d tag(s)", path, n)
    return corpus


def text_sentences(texts: Iterable[str], source: str = "<arguments>") -> list[Sentence]:
    """Raw texts split into words the way training data is (one word per CJK character), keeping offsets."""
    sentences = []
    for i, text in enumerate(texts, 1):
        tokens, offsets = tokenize_with_offsets(text)
        sentences.append(Sentence(tokens, None, path=source, line=i, text=text, offsets=offsets))
    return sentences


def looks_like_conll(text: str) -> bool:
    """One word per line, optionally followed by columns ending in a BIO tag (raw text has several words a line)."""
    lines = [line.split() for line in text.splitlines()[:200] if line.strip() and not line.startswith("#")]
    return bool(lines) and all(len(f) == 1 or _BIO.match(f[-1]) for f in lines)


def read_unlabelled(sources: list[Any], fmt: str = "auto", lang: str | None = None) -> list[Sentence]:
    """Sentences to compare on: raw text (one text per line, kept with character offsets) or CoNLL words (tags,
    if any, are ignored: ``diff`` compares two models, not a model with gold)."""
    sentences: list[Sentence] = []
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise LabelgrowError(f"--data {path}: no such file or directory")
        for file in data_files(path) if path.is_dir() else [path]:
            text = read_text(file)
            kind = (
                fmt
                if fmt != "auto"
                else ("conll" if looks_like_conll(text) or text.lstrip().startswith("{") else "text")
            )
            if kind == "conll":
                found = read_file(file, lang, require_tags=False)
            else:
                lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
                found = text_sentences([line for _, line in lines], str(file))
                file_lang = lang or language_from_path(file)
                for sentence, (n, _) in zip(found, lines, strict=True):
                    sentence.line = n
                    if file_lang:
                        sentence.lang = file_lang
            if not found:
                raise LabelgrowError(f"{file}: no text to compare on (the file is empty)")
            for sentence in found:
                sentence.tags = None
            sentences.extend(found)
    return sentences
