#!/usr/bin/env bash
# End to end: `graft merge` of recipes/ties.yml over a synthetic Llama family (a base and 3 bf16 fine-tunes of about
# 1 B parameters each, from `graft synth`), page cache warm, against the time `cat` needs to read the inputs and write
# an output of the same size; wall time and peak RSS of the merge (/usr/bin/time). Alternating runs.
# Usage: benchmarks/merge-e2e.sh [OUT_DIR] [LAYERS (default 20: 1.03 B parameters)] [RUNS (default 3)]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/graft-e2e}
layers=${2:-20}
runs=${3:-3}
mkdir -p "$out"
"$here/graft" --version >/dev/null   # build first
fam="$out/family"
if [ ! -f "$fam/ft-3/config.json" ]; then
  "$here/graft" synth -o "$fam" --hidden 2048 --intermediate 5632 --layers "$layers" --heads 32 --kv-heads 8 --vocab 32000 \
    --fine-tunes 3 --dtype bf16 --shard-size 1GB -q
fi
sed 's#family/#'"$fam"'/#' "$here/recipes/ties.yml" >"$out/ties.yml"
du -sh "$fam"/* | sed 's/^/input /'
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'; }
cat "$fam"/*/*.safetensors >/dev/null   # page cache warm
for r in $(seq "$runs"); do
  rm -rf "$out/cat-out" "$out/merged"
  mkdir -p "$out/cat-out"
  c=$(t sh -c "cat '$fam'/base/*.safetensors '$fam'/ft-2/*.safetensors '$fam'/ft-3/*.safetensors >/dev/null; cat '$fam'/ft-1/*.safetensors >'$out/cat-out/model.bin'")
  sync
  m=$(t /usr/bin/time -f "%M" -o "$out/rss" "$here/graft" merge "$out/ties.yml" -o "$out/merged" -q)
  sync   # neither timing includes writeback
  printf 'run %s: cat %s s, graft merge %s s, ratio %s, merge peak RSS %s MB\n' "$r" "$c" "$m" \
    "$(awk -v a="$m" -v b="$c" 'BEGIN { printf "%.2f", a / b }')" "$(( $(cat "$out/rss") / 1024 ))"
done
