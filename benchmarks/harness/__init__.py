"""The benchmark harness shared by every scenario: protocol (methods, grid), data subsets, the train-once run cache,
scoring (one pass per model, both decodings, change report), rendering (tables, figure) and the command line.

A scenario (e.g. benchmarks/wikiann_facility.py) only says which data, which teacher and which methods."""

import sys
from pathlib import Path

# This checkout's labelgrow, not whichever one is installed: a benchmark run from a git worktree must score with the
# code its runs were trained with (the training child processes import it from the working directory already).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
