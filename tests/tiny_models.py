"""Tiny models built in-process for the tests: a SentencePiece XLM-R tokenizer and random token classifiers.

Nothing is downloaded. Building the tokenizer takes well under a second; a model a few milliseconds.
"""

from __future__ import annotations

import io
from pathlib import Path

# Words from the test sentences plus some filler, in English, German and Chinese.
CORPUS = [
    "Angela Merkel visited the Elbphilharmonie in Hamburg with Siemens engineers .",
    "Die Elbphilharmonie liegt in Hamburg und gehört der Stadt .",
    "Barack Obama flew from Heathrow Airport to Berlin Hauptbahnhof yesterday .",
    "Der Flughafen München ist ein großer Flughafen in Bayern .",
    "北京首都国际机场位于北京市朝阳区。",
    "马云在杭州创立了阿里巴巴公司。",
    "The Louvre Museum in Paris belongs to France and attracts visitors .",
    "Microsoft opened an office near Frankfurt station last year .",
    "Marie Curie worked at the Sorbonne University in Paris .",
    "上海火车站每天有很多旅客。",
    "Volkswagen baut eine Fabrik in Wolfsburg bei Hannover .",
    "long filler words make the vocabulary richer for windows and tests",
] * 20

# Three tiny training files (en, de, zh) with FACILITY and some old-type entities, for end-to-end runs.
TRAIN = {
    "en": "Angela B-PER\nMerkel I-PER\nvisited O\nthe O\nElbphilharmonie B-FACILITY\nin O\nHamburg O\n. O\n\n"
    "Barack O\nObama O\nflew O\nfrom O\nHeathrow B-FACILITY\nAirport I-FACILITY\n. O\n",
    "de": "Die O\nElbphilharmonie B-FACILITY\nliegt O\nin O\nHamburg B-LOC\n. O\n\n"
    "Der O\nFlughafen B-FACILITY\nMünchen I-FACILITY\nist O\ngroß O\n. O\n",
    "zh": "上 B-FACILITY\n海 I-FACILITY\n火 I-FACILITY\n车 I-FACILITY\n站 I-FACILITY\n很 O\n大 O\n\n"
    "马 B-PER\n云 I-PER\n在 O\n杭 B-LOC\n州 I-LOC\n",
}

# A plausible old head in a deliberately non-alphabetical order: the tools must read id2label, not assume it.
OLD_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def build_tokenizer(directory: Path):
    """Train a small unigram SentencePiece model and wrap it as an XLM-R fast tokenizer saved in ``directory``."""
    import sentencepiece as spm
    from transformers import XLMRobertaTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=buf,
        vocab_size=400,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    (directory / "sentencepiece.bpe.model").write_bytes(buf.getvalue())
    tokenizer = XLMRobertaTokenizer.from_pretrained(str(directory))  # converts the .model (needs protobuf)
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(str(directory))
    return tokenizer


def tiny_config(vocab_size: int, labels: list[str] | None = None, model_type: str = "xlm-roberta", **overrides):
    from transformers import AutoConfig

    kwargs = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    if model_type == "deberta-v2":
        kwargs.update(
            max_position_embeddings=128,
            relative_attention=True,
            position_buckets=16,
            pos_att_type=["p2c", "c2p"],
            hidden_dropout_prob=0.0,
        )
    if model_type == "bert":
        kwargs["max_position_embeddings"] = 128
    kwargs.update(overrides)
    if labels is not None:
        kwargs.update(id2label=dict(enumerate(labels)), label2id={lab: i for i, lab in enumerate(labels)})
    return AutoConfig.for_model(model_type, **kwargs)


def build_token_classifier(
    directory: Path | None,
    tokenizer,
    labels: list[str] = OLD_LABELS,
    seed: int = 0,
    model_type: str = "xlm-roberta",
    **overrides,
):
    """A random token classifier whose head has a clear O preference, saved with the tokenizer when asked."""
    import torch
    from transformers import AutoModelForTokenClassification

    torch.manual_seed(seed)
    config = tiny_config(overrides.pop("vocab_size", len(tokenizer)), labels, model_type, **overrides)
    config.architectures = [AutoModelForTokenClassification._model_mapping[type(config)].__name__]
    model = AutoModelForTokenClassification.from_config(config).eval()
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 0.5)  # spread logits so argmax differences would show
        model.classifier.bias.normal_(0.0, 1.0)
    if directory is not None:
        model.save_pretrained(str(directory))
        tokenizer.save_pretrained(str(directory))
    return model


def build_encoder(directory: Path, tokenizer, seed: int = 0):
    """A plain XLM-R encoder (no NER head), like a fresh pretrained checkpoint."""
    import torch
    from transformers import XLMRobertaModel

    torch.manual_seed(seed)
    config = tiny_config(len(tokenizer))
    config.architectures = ["XLMRobertaModel"]
    model = XLMRobertaModel(config)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return model


def build_lexicon_tokenizer(directory: Path, words: list[str]):
    """A fast unigram tokenizer in which each of ``words`` is one piece ``▁word``; anything else falls back to
    single characters. Lexicon models need every word to own its first sub-word."""
    import string

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    chars = sorted(set(string.ascii_letters + string.digits + string.punctuation + "".join(words)) | {"▁"})
    vocab = [(t, 0.0) for t in specials] + [(f"▁{w}", -1.0) for w in words]
    vocab += [(c, -10.0) for c in chars] + [("<mask>", 0.0)]
    backend = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), add_prefix_space=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=512,
    )
    tokenizer.save_pretrained(str(directory))
    return tokenizer


def build_lexicon_model(
    directory: Path, tokenizer, lexicon: dict[str, str], labels: list[str], doubt: dict[str, float] | None = None
):
    """A token classifier whose prediction for a word depends only on the word's first sub-word: ``lexicon`` maps
    words to tags, every other word is O. Predictions are therefore known exactly, which lets tests check scores,
    grouping and windowing against hand-computed numbers.

    How: position and token-type embeddings are zero and every layer's attention and feed-forward output is zero,
    so each layer only re-normalises its input and the final hidden state is LayerNorm(word embedding). Each word
    embedding points at its label's axis and the classifier reads the axes. ``doubt`` (word -> weight < 1) also
    points a word's embedding at O, so the model is less sure of that word's tag (still the lexicon's).
    """
    import torch

    model = build_token_classifier(
        None, tokenizer, labels=labels, hidden_size=32, num_hidden_layers=2, intermediate_size=32
    )
    label2id = {lab: i for i, lab in enumerate(labels)}
    with torch.no_grad():
        for name, param in model.named_parameters():
            if (
                any(
                    k in name
                    for k in (
                        "position_embeddings",
                        "token_type_embeddings",
                        "attention.output.dense",
                        "output.dense",
                        "intermediate.dense",
                    )
                )
                and "LayerNorm" not in name
            ):
                param.zero_()
        emb = model.roberta.embeddings.word_embeddings.weight
        emb.zero_()
        emb[:, label2id["O"]] = 1.0
        for word, tag in lexicon.items():
            first = tokenizer(word, add_special_tokens=False)["input_ids"][0]
            emb[first].zero_()
            emb[first, label2id[tag]] = 1.0
            if doubt and word in doubt:
                emb[first, label2id["O"]] = doubt[word]
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for i in range(len(labels)):
            model.classifier.weight[i, i] = 1.0
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return model
