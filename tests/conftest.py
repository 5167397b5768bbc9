from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.tiny_models import build_encoder, build_token_classifier, build_tokenizer


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
