#!/usr/bin/env bash
# M2N2 from scratch on the UCI digits (recipes/evolve/m2n2-digits.yml, the paper's setting), one run per seed:
# wall time, peak RSS, and held-out accuracy of the best (by fit accuracy) after 50,000 evaluations; then the mean.
# Usage: benchmarks/m2n2-digits.sh [OUT_DIR] [SEED...]   (default: /tmp/graft-m2n2, seeds 42 43 44)
# Needs ../shared/data/digits next to the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/graft-m2n2}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 44)
mkdir -p "$out"
"$here/graft" --version >/dev/null   # build first, so that no run's time includes the build
sum=0
for s in "${seeds[@]}"; do
  /usr/bin/time -f "%e %M" -o "$out/time-$s" "$here/graft" evolve "$here/recipes/evolve/m2n2-digits.yml" -o "$out/seed-$s" \
    --seed "$s" --overwrite -q >"$out/log-$s" 2>&1
  read -r secs rss <"$out/time-$s"
  held=$(sed -n 's/.*"held_out_fitness" *: *\([0-9.]*\).*/\1/p' "$out/seed-$s/summary.json")
  fit=$(sed -n 's/^ *"fitness" *: *\([0-9.]*\).*/\1/p' "$out/seed-$s/summary.json" | head -n1)
  printf 'seed %s: held-out %.4f, fit %.4f, %s s, %s MB peak RSS\n' "$s" "$held" "$fit" "$secs" "$((rss / 1024))"
  sum=$(awk -v a="$sum" -v b="$held" 'BEGIN { print a + b }')
done
awk -v s="$sum" -v n="${#seeds[@]}" 'BEGIN { printf "mean held-out accuracy over %d seeds: %.4f\n", n, s / n }'
