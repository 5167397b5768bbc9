from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.tiny_models import TRAIN, build_encoder, build_token_classifier, build_tokenizer


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tokenizer")
    build_tokenizer(directory)
    return directory


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


@pytest.fixture(scope="session")
def teacher_dir(tmp_path_factory, tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("teacher")
    build_token_classifier(directory, tokenizer)
    return directory


@pytest.fixture(scope="session")
def encoder_dir(tmp_path_factory, tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("encoder")
    build_encoder(directory, tokenizer)
    return directory


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """en/de/zh training files (tests.tiny_models.TRAIN) in language directories."""
    for lang, text in TRAIN.items():
        (tmp_path / "data" / lang).mkdir(parents=True)
        (tmp_path / "data" / lang / "train.txt").write_text(text, encoding="utf-8")
    return tmp_path / "data"
