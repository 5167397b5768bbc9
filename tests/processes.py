"""Running labelgrow in other processes for the tests: under torchrun with two gloo ranks (what Accelerate sees as
MULTI_CPU), the way `accelerate launch` runs it on a multi-GPU server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def torchrun_labelgrow(args: list[str], port: int) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node 2 -m labelgrow.cli ARGS`` (each test its own port, so they never collide)."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(port),
        "-m",
        "labelgrow.cli",
        *args,
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
