#!/usr/bin/env bash
# Set up (if needed) and run the checks: ruff lint + format check, then the test suite on every core.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ruff check .
ruff format --check .
python -m pytest -n auto --dist worksteal --durations 15 "$@"  # every core (pytest-xdist; idle workers take queued tests from busy ones); -n 0: one process
