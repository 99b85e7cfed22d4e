#!/usr/bin/env bash
# What this measures: `graft align` of two 0.5 B-parameter Qwen2-shaped checkpoints (hidden 896, intermediate 4864,
# 24 layers, 14 heads / 2 KV heads, vocab 151,936, tied, bf16): a base and a fine-tune whose hidden units were permuted
# at random (`graft synth --permute`). Reports wall time, peak RSS, sweeps, and whether every planted permutation was
# recovered (the aligned permutations equal OUT/planted-permutations.json).
# How to run: benchmarks/align-0.5b.sh [WORK_DIR]   (needs ~3 GB free disk; JVM heap capped at 1.5 GB to show the bound)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
w=${1:-/tmp/graft-bench-align}
mkdir -p "$w"
if [ ! -f "$w/fam/planted-permutations.json" ]; then
  "$root/graft" synth -q -o "$w/fam" --vocab 151936 --hidden 896 --layers 24 --heads 14 --kv-heads 2 --intermediate 4864 \
    --tie-embeddings --arch qwen2 --fine-tunes 1 --permute
fi
rm -rf "$w/aligned"
GRAFT_JAVA_OPTS=-Xmx1500m /usr/bin/time -f "wall %e s, peak RSS %M kB" "$root/graft" align -q --reference "$w/fam/base" "$w/fam/ft-1" -o "$w/aligned"
python3 - "$w" <<'PY'
import json, sys
w = sys.argv[1]
planted = json.load(open(f"{w}/fam/planted-permutations.json"))["models"]["ft-1"]
found = json.load(open(f"{w}/aligned/permutations.json"))["models"]["ft-1"]
report = json.load(open(f"{w}/aligned/alignment.json"))["models"]["ft-1"]
print(f"recovered {sum(planted[k] == found[k] for k in planted)} of {len(planted)} planted permutations")
print("sweeps (index, permutations changed, seconds):", [(s["sweep"], s["improved"], round(s["seconds"], 1)) for s in report["sweeps"]])
PY
