"""What ``extend`` shows while it trains: one progress bar for the run, one compact row per evaluation, and the
Trainer's raw log records in OUTPUT/train_log.jsonl instead of between the bars."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from transformers import TrainerCallback


def evaluation_row(logs: Mapping[str, float], loss: Mapping[str, float]) -> str:
    """``epoch 2  step 30  loss 0.45 (ce 0.58, kd 0.08)  F1 88.5  old -  new 88.5  de 100.0  en 100.0``."""
    cells = [f"epoch {logs.get('epoch', 0):g}"]
    if "step" in logs:
        cells.append(f"step {logs['step']}")
    if loss:
        parts = ", ".join(f"{k} {loss[k]:.3g}" for k in ("ce", "kd") if k in loss)
        cells.append(f"loss {loss['loss']:.3g}" + (f" ({parts})" if parts else ""))
    for key, name in (("eval_f1", "F1"), ("eval_old_f1", "old"), ("eval_new_f1", "new")):
        if key in logs:
            cells.append(f"{name} {logs[key]:.1f}")
    cells += [f"{k.removeprefix('eval_f1_')} {v:.1f}" for k, v in sorted(logs.items()) if k.startswith("eval_f1_")]
    return "  ".join(cells)


class TerminalCallback(TrainerCallback):
    """Replaces the Trainer's progress and printer callbacks (see ``install``)."""

    def __init__(self, log_file: Path | None, show: bool) -> None:
        self.log_file, self.show, self.bar, self.last_loss = log_file, show, None, {}

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm

        quiet = not self.show or not state.is_world_process_zero or os.environ.get("TQDM_DISABLE") == "1"
        self.bar = tqdm(total=state.max_steps, desc="training", disable=quiet, dynamic_ncols=True)
        self.bar.update(state.global_step)  # a resumed run starts where it stopped

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"step": state.global_step, **logs}) + "\n")
        if "loss" in logs:
            self.last_loss = {k: float(logs[k]) for k in ("loss", "ce", "kd") if k in logs}
            if self.bar is not None:
                self.bar.set_postfix({k: f"{v:.3g}" for k, v in self.last_loss.items()}, refresh=False)
        if "eval_f1" in logs and self.show:
            row = evaluation_row({**logs, "step": state.global_step}, self.last_loss)
            if self.bar is not None and not self.bar.disable:
                self.bar.write(row)
            elif os.environ.get("TQDM_DISABLE") != "1":
                print(row, flush=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()


def install(trainer, log_file: Path | None, show: bool = True) -> TerminalCallback:
    """Swap the Trainer's own progress bar and dict printing for labelgrow's terminal output."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    callback = TerminalCallback(log_file, show)
    trainer.add_callback(callback)
    return callback


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No "Loading weights" / "Writing model shards" bars and no load reports from transformers inside: labelgrow
    says what happened in its own words."""
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
