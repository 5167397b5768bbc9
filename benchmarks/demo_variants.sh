#!/usr/bin/env bash
# The demo's FACILITY extension with each KD target, with and without rehearsal text, and naive fine-tuning; each
# scored on data/test against the demo teacher, per language and label (the table in docs/method.md).
# Run after scripts/demo.sh (it needs runs/demo/teacher). About 15 minutes on 2 AVX2 CPU cores.
#   bash benchmarks/demo_variants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# recipes/demo-facility.yaml without its rehearsal text (each variant says whether it has some)
BASE="--base runs/demo/teacher --new-labels FACILITY --epochs 4 --learning-rate 1e-4 --batch-size 16 --seed 42"
for lang in en de zh; do BASE="$BASE --train data/facility/$lang/train.txt --validation data/facility/$lang/dev.txt"; done
REHEARSAL="--rehearsal data/teacher/en/train.txt --rehearsal data/teacher/de/train.txt --rehearsal data/teacher/zh/train.txt"
for v in "old-slice KD:--kd-target old-slice" "unbiased KD (default):--kd-target unbiased" \
         "old-slice KD + rehearsal:--kd-target old-slice $REHEARSAL" \
         "unbiased KD + rehearsal:--kd-target unbiased $REHEARSAL" "naive:--kd none"; do
  name=${v%%:*}; opts=${v#*:}
  out=runs/variants/$(echo "$name" | tr -c 'a-z0-9\n' '-')
  # shellcheck disable=SC2086
  labelgrow -q extend $BASE --output "$out" --overwrite $opts > /dev/null 2>&1
  labelgrow -q eval --model "$out" --teacher runs/demo/teacher --data data/test --report "$out/report" \
      --parent FACILITY=LOC,ORG > "$out/eval.txt" 2> /dev/null
  echo "== $name"
  python - "$out/report/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
blocks = {**r["scores"]["languages"], "all": r["scores"]["overall"]}
teacher = {**r["teacher_scores"]["languages"], "all": r["teacher_scores"]["overall"]}
for lang, block in blocks.items():
    cells = "  ".join(
        f"{t} {block['labels'].get(t, {}).get('f1', 0):5.1f}/{teacher[lang]['labels'].get(t, {}).get('f1', 0):5.1f}"
        for t in r["old_types"]
    )
    print(f"  {lang:3} {cells}  FACILITY {block['labels'].get('FACILITY', {}).get('f1', 0):5.1f}")
totals = {c: sum(row[c] for row in r["changes"]["overall"].values()) for c in r["changes"]["changes"]}
print("  changes", totals)
PY
done
