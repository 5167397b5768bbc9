"""``--teacher-cache``: the teacher's old-label logits computed once, stored compactly, and trained from.

The teacher never changes, so running it on every window in every epoch (and keeping it in memory on every process)
is waste. With the cache, the teacher runs once over the training windows (inference mode, the run's precision,
sharded across processes), its logits at the scored words are stored as float16 -- the full old-label slice, since
an NER head has few labels (7 for PER/ORG/LOC: 14 bytes a word) -- and the teacher is freed before training.

The cache file (``OUTPUT/teacher-cache/logits.safetensors``) is keyed by window content (a hash of the input ids
and labels), so ``--resume`` reuses it and a changed dataset, tokenizer or window length is detected, not misread.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import torch

from labelgrow.features import Window, collate
from labelgrow.inference import gather_merged
from labelgrow.losses import IGNORE_INDEX

logger = logging.getLogger(__name__)

CACHE_DIR = "teacher-cache"
CACHE_FILE = "logits.safetensors"


def window_key(window: Window) -> str:
    digest = hashlib.sha1(json.dumps([window.input_ids, window.labels]).encode())
    return digest.hexdigest()


@torch.no_grad()
def compute_teacher_logits(
    teacher, windows: Sequence[Window], pad_id: int, batch_size: int, state, dtype: torch.dtype | None
) -> list[torch.Tensor]:
    """Old-label logits at each window's scored positions, [n_scored, K] float16 per window, for every window
    (each process computes every N-th window; the results are gathered once)."""
    from tqdm.auto import tqdm

    device = state.device
    teacher = teacher.to(device=device, dtype=dtype).eval()
    mine = list(range(state.process_index, len(windows), state.num_processes))
    order = sorted(mine, key=lambda i: len(windows[i].input_ids), reverse=True)
    found: dict[int, torch.Tensor] = {}
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch_ids in tqdm(batches, desc="teacher cache", disable=not state.is_main_process, leave=False):
        batch = collate([{"input_ids": windows[i].input_ids, "labels": windows[i].labels} for i in batch_ids], pad_id)
        logits = (
            teacher(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
            .logits.float()
            .cpu()
        )
        for row, i in enumerate(batch_ids):
            scored = batch["labels"][row] != IGNORE_INDEX
            found[i] = logits[row][scored].to(torch.float16)
    found = gather_merged(found, state.num_processes)
    return [found[i] for i in range(len(windows))]


def load_or_compute(
    directory: Path, teacher, windows: Sequence[Window], pad_id: int, batch_size: int, state, dtype: torch.dtype | None
) -> list[torch.Tensor]:
    """Read the cache when it matches these windows, else compute it (and write it on the main process)."""
    from safetensors.torch import load_file, save_file

    path = directory / CACHE_FILE
    keys = [window_key(w) for w in windows]
    fingerprint = hashlib.sha1("".join(keys).encode()).hexdigest()
    if path.is_file():
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            stored = (f.metadata() or {}).get("fingerprint")
        if stored == fingerprint:
            tensors = load_file(str(path))
            logger.info("teacher cache: reusing %s (%d windows)", path, len(windows))
            return _split(tensors["logits"], tensors["offsets"])
        logger.warning("teacher cache %s was made for other windows; recomputing it", path)
    logits = compute_teacher_logits(teacher, windows, pad_id, batch_size, state, dtype)
    if state.is_main_process:
        directory.mkdir(parents=True, exist_ok=True)
        offsets = torch.tensor([0] + [len(t) for t in logits]).cumsum(0)
        flat = torch.cat(logits) if logits else torch.zeros((0, 1), dtype=torch.float16)
        tmp = path.with_suffix(".tmp")
        save_file({"logits": flat.contiguous(), "offsets": offsets}, str(tmp), metadata={"fingerprint": fingerprint})
        tmp.replace(path)
        logger.info("teacher cache: %d windows, %.1f MB in %s", len(windows), path.stat().st_size / 1e6, path)
    state.wait_for_everyone()
    return logits


def _split(flat: torch.Tensor, offsets: torch.Tensor) -> list[torch.Tensor]:
    return [flat[int(a) : int(b)] for a, b in itertools.pairwise(offsets.tolist())]
