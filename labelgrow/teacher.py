"""Making the frozen teacher cheap: reduced precision where the hardware is fast at it, and no second pass (and no
second copy) of the layers teacher and student share.

The student starts as a copy of the teacher and its embeddings and first N encoder layers are frozen, so on every
training step both models would compute exactly the same hidden states up to layer N. ``share_frozen_trunk`` makes
the teacher read those hidden states from the student's forward pass instead: the teacher keeps only its upper
layers and head (for XLM-R most of the parameters are the 250k-row embedding matrix, which is no longer held
twice), and its forward pass starts at layer N. The frozen layers run without dropout (they are a fixed feature
extractor), which is also what makes their output the teacher's own. A probe forward checks that the shared
teacher gives the full teacher's logits before anything is freed; where it does not (an architecture whose layers
need more than the hidden states), labelgrow keeps the full teacher and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import nn

from labelgrow.configuration import TEACHER_PRECISIONS
from labelgrow.modeling import encoder_layers, input_embeddings_module, replace_module

logger = logging.getLogger(__name__)

_DTYPES = dict(zip(TEACHER_PRECISIONS[1:], (torch.float32, torch.bfloat16, torch.float16), strict=True))


def fast_bf16(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively (CUDA with bf16, CPUs with AVX512-BF16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)
    return False


def teacher_dtype(choice: str, device: torch.device, training_dtype: torch.dtype | None) -> torch.dtype:
    """The teacher's precision: ``auto`` is the training precision under --bf16/--fp16, else bfloat16 where the
    device is fast at it (its logits only feed a temperature-softened target), else float32."""
    if choice != "auto":
        return _DTYPES[choice]
    if training_dtype is not None:
        return training_dtype
    return torch.bfloat16 if fast_bf16(device) else torch.float32


class TrunkOutput(nn.Module):
    """Stands in for the teacher's embeddings: returns the hidden states the student's frozen layers just computed
    (set by a forward hook on the student), once."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: torch.Tensor | None = None
        self.dtype = torch.float32

    def forward(self, *args, **kwargs) -> torch.Tensor:
        if self.hidden is None:
            raise RuntimeError("the shared teacher ran before the student computed the shared frozen layers")
        hidden, self.hidden = self.hidden, None
        return hidden.to(self.dtype)


class SharedTrunk:
    """The link between a student's frozen trunk and a teacher that only holds its upper layers."""

    def __init__(self, teacher: nn.Module, replay: TrunkOutput, hook, frozen_layers: int) -> None:
        self.teacher = teacher
        self.replay = replay
        self.frozen_layers = frozen_layers
        self._hook = hook

    def to(self, dtype: torch.dtype) -> SharedTrunk:
        self.teacher.to(dtype=dtype)
        self.replay.dtype = dtype
        return self

    def close(self) -> None:
        """Stop capturing the student's hidden states (after training)."""
        self._hook.remove()
        self.replay.hidden = None


def _hidden(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple | list) else output


def share_frozen_trunk(
    teacher: nn.Module, student: nn.Module, frozen_layers: int, frozen_modules: Sequence[nn.Module], probe: dict
) -> SharedTrunk | None:
    """Cut ``teacher`` down to its layers ``frozen_layers..`` and head, fed by ``student``'s frozen trunk.

    ``frozen_modules`` are the student's frozen embeddings and layers (they must be exactly the teacher's);
    ``probe`` is a small batch (``input_ids``, ``attention_mask``) on which the result must equal the full teacher.
    Returns None, leaving the teacher whole, where sharing is not possible or not exact.
    """
    try:
        t_embeddings, s_embeddings = input_embeddings_module(teacher), input_embeddings_module(student)
        t_layers, s_layers = encoder_layers(teacher), encoder_layers(student)
    except Exception as exc:  # an architecture we cannot take apart keeps its full teacher
        logger.info("teacher: full model (cannot locate embeddings/layers to share: %s)", exc)
        return None
    trunk = [s_embeddings, *s_layers[:frozen_layers]]
    if not all(any(m is f for f in frozen_modules) for m in trunk):
        return None  # the embeddings (or a lower layer) train: the teacher needs its own trunk
    teacher_trunk = [t_embeddings, *t_layers[:frozen_layers]]
    for ours, theirs in zip(trunk, teacher_trunk, strict=True):
        mine, other = list(ours.parameters()), list(theirs.parameters())
        same = len(mine) == len(other) and all(torch.equal(a, b.to(a.device)) for a, b in zip(mine, other, strict=True))
        if not same:
            logger.info("teacher: full model (the student's frozen layers differ from the teacher's)")
            return None

    with torch.no_grad():
        reference = teacher(**probe).logits.float()
    replay = TrunkOutput()
    hook = trunk[-1].register_forward_hook(lambda module, args, output: setattr(replay, "hidden", _hidden(output)))
    upper = nn.ModuleList(list(t_layers)[frozen_layers:])
    replace_module(teacher, t_embeddings, replay)
    replace_module(teacher, t_layers, upper)
    was_training = student.training
    student.eval()
    try:
        with torch.no_grad():
            student(**probe)
            shared = teacher(**probe).logits.float()
        error = (shared - reference).abs().max().item()
        exact = error <= 1e-4 * (1.0 + reference.abs().max().item())
    except Exception as exc:  # fall back: never fail a run for an optimisation
        error, exact = float("nan"), False
        logger.debug("shared teacher probe failed: %s", exc)
    finally:
        student.train(was_training)
    if not exact:
        hook.remove()
        replace_module(teacher, replay, t_embeddings)
        replace_module(teacher, upper, t_layers)
        logger.warning("teacher: full model (sharing the frozen layers changed its logits by %.3g)", error)
        return None
    with torch.no_grad():
        for tensor in [*teacher.parameters(), *teacher.buffers()]:
            # own memory for what the teacher keeps: weights loaded from safetensors are views of a file mapping,
            # which stays resident (embeddings included) while any of them is alive
            tensor.data = tensor.data.clone()
    logger.info(
        "teacher: shares the student's frozen embeddings and %d layer(s); runs layers %d-%d and the head",
        frozen_layers,
        frozen_layers,
        len(t_layers) - 1,
    )
    return SharedTrunk(teacher, replay, hook, frozen_layers)
