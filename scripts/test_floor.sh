#!/usr/bin/env bash
# The suite on the oldest transformers pyproject.toml admits (5.6.0), in its own venv (.venv-floor): the floor is a
# claim, this checks it. Not part of CI (a second environment); run it after touching how labelgrow calls
# transformers. Everything but transformers (and what it pins) stays at constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
FLOOR=${FLOOR:-transformers==5.6.0}
if [ ! -x .venv-floor/bin/python ]; then
  "$PYTHON" -m venv .venv-floor
fi
. .venv-floor/bin/activate
python -m pip install -q "$TORCH_SPEC"
grep -v -E '^(transformers|huggingface_hub|tokenizers|hf-xet|safetensors)==' constraints.txt > .venv-floor/constraints.txt
python -m pip install -q -c .venv-floor/constraints.txt "$FLOOR" -e ".[dev]"
python -c "import transformers; print(f'transformers {transformers.__version__}')"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python -m pytest --deselect tests/test_benchmark_smoke.py "$@"
