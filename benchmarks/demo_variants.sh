#!/usr/bin/env bash
# The demo's FACILITY extension with each loss mode, scored on data/test against the demo teacher.
# Run after scripts/demo.sh (it needs runs/demo/teacher). ~4 minutes on 2 CPU cores.
#   bash benchmarks/demo_variants.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
for v in "o-aware (default):" "o-aware + pseudo-labels at 0.5:--pseudo-label-threshold 0.5" \
         "seed:--kd seed" "none:--kd none"; do
  name=${v%%:*}; opts=${v#*:}
  out=runs/variants/$(echo "$name" | tr -c 'a-z0-9\n' '-')
  # shellcheck disable=SC2086
  labelgrow -q extend --config recipes/demo-facility.yaml --output "$out" --overwrite $opts > /dev/null 2>&1
  echo "== $name"
  labelgrow -q eval --model "$out" --teacher runs/demo/teacher --data data/test --report "$out/report" \
      > "$out/eval.txt" 2> /dev/null
  head -6 "$out/eval.txt"
done
