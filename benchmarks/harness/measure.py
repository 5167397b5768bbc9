"""Run a training command of labelgrow (`extend`, `compress`) in a fresh process and report its wall time and peak
resident memory."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

CHILD = """
import json, resource, sys, time
import labelgrow
start = time.perf_counter()
result = getattr(labelgrow, sys.argv[1])(**json.loads(sys.argv[2]))
wall = time.perf_counter() - start
run = json.loads((result.output / "labelgrow.json").read_text())
print("RESULT " + json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                              "train_s": run["training"]["wall_seconds"], "steps": run["training"]["global_steps"],
                              "train_windows": run["data"]["train_windows"]}))
"""


def extend_measured(config: dict[str, Any], what: str, command: str = "extend") -> dict[str, Any]:
    """``labelgrow.extend(**config)`` (or another training ``command``: ``compress``) in a child process; its wall
    time, peak RSS (MB) and step count."""
    done = subprocess.run([sys.executable, "-c", CHILD, command, json.dumps(config)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])
