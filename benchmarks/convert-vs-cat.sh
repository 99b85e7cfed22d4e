#!/usr/bin/env bash
# What this measures: `graft convert` of a ~2 GB bf16 checkpoint to f16 against `cat` reading the same input and
# writing an equally large output (page cache warm), and the peak RSS of the convert process.
# How to run: benchmarks/convert-vs-cat.sh [WORK_DIR [OUT_DIR]]   (needs ~8 GB free disk; deletes its outputs)
# OUT_DIR (default WORK_DIR) may be a tmpfs such as /dev/shm, to time the work without the disk's writeback.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
w=${1:-/tmp/graft-bench}
o=${2:-$w}
mkdir -p "$w" "$o"
in="$w/fam/base"
if [ ! -f "$in/model.safetensors.index.json" ]; then
  "$root/graft" synth -q -o "$w/fam" --fine-tunes 0 --vocab 32000 --hidden 2048 --layers 20 --heads 16 \
    --kv-heads 4 --intermediate 5632 --shard-size 1GB
fi
bytes=$(cat "$in"/*.safetensors | wc -c)
echo "input: $(ls "$in"/*.safetensors | wc -l) shards, $bytes bytes"
cat "$in"/*.safetensors > /dev/null   # warm the page cache
"$root/graft" --version > /dev/null    # build/warm the launcher outside the timing
elapsed() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
for i in 1 2 3 4 5; do
  rm -f "$o/cat.out"; sync
  c=$(elapsed sh -c "cat '$in'/*.safetensors > '$o/cat.out'")
  rm -rf "$o/out"; sync
  g=$(elapsed /usr/bin/time -f "%M" -o "$w/rss" "$root/graft" convert -q "$in" -o "$o/out" --dtype f16 --shard-size 1GB)
  echo "run $i: cat ${c}s, graft convert ${g}s, ratio $(echo "scale=2; $g / $c" | bc), convert peak RSS $(( $(tail -n1 "$w/rss") / 1024 )) MB"
done
rm -rf "$o/out" "$o/cat.out"
