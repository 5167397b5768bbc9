#!/usr/bin/env bash
# The embedded default, offline, in a few minutes on 2 CPU cores:
#   1. set up .venv (scripts/setup.sh)
#   2. build the me5s-xlmr encoder (multilingual-e5-small in XLM-R format; 4-bit weights dequantised, approximate)
#   3. bootstrap a PER/ORG/LOC teacher from it on data/teacher         (recipes/demo-teacher.yaml)
#   4. grow the teacher with FACILITY from FACILITY-only data         (recipes/demo-facility.yaml)
#   5. score both on data/test per language, with forgetting           (runs/demo/report/)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python scripts/build_me5s_xlmr.py runs/me5s-xlmr
labelgrow extend --config recipes/demo-teacher.yaml --overwrite
labelgrow extend --config recipes/demo-facility.yaml --overwrite
labelgrow eval --model runs/demo/facility --teacher runs/demo/teacher --data data/test --report runs/demo/report
labelgrow predict --model runs/demo/facility "Gestern war die Elbphilharmonie in Hamburg ausverkauft ." "我们一早降落在首都国际机场。"
