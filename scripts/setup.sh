#!/usr/bin/env bash
# Set up a virtual environment in .venv with labelgrow and its dev tools.
# torch is installed explicitly first, pinned to the CPU wheel this team's machines carry: a bare `torch`
# requirement would otherwise pull a multi-GB CUDA build. On a GPU server install the torch you need instead
# (see README) and skip this script.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q "$TORCH_SPEC"
python -m pip install -q -c constraints.txt -e ".[dev]"  # the versions the docs were measured with
python -c "import torch, transformers, labelgrow; print(f'labelgrow {labelgrow.__version__}: torch {torch.__version__}, transformers {transformers.__version__}')"
