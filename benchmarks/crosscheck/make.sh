#!/usr/bin/env bash
# Makes the checkpoints and Graft's logits that transformers_check.py compares against transformers.
# Usage: benchmarks/crosscheck/make.sh [DIR]   (default: crosscheck/ at the repository root; ignored by git)
# One small model per supported architecture; the prompt is long enough (160 tokens) for Llama 3 RoPE scaling
# (original context 64 in the synthetic config) to matter.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/crosscheck}
graft=$root/graft
rm -rf "$out"
mkdir -p "$out"
ids=$(python3 -c 'import random; r=random.Random(7); print(",".join(str(r.randrange(3,1024)) for _ in range(160)))')
text="The quick brown fox jumps over the lazy dog; merging models is fun, and so is testing them."
for arch in llama llama3 mistral qwen2 qwen3; do
  extra=()
  case $arch in
    llama3|qwen2) extra+=(--tie-embeddings) ;;
    qwen3) extra+=(--head-dim 64) ;;
  esac
  "$graft" synth -q -o "$out/tmp" --arch "$arch" --vocab 1024 --hidden 256 --layers 4 --heads 8 --kv-heads 2 \
    --intermediate 512 --fine-tunes 0 --seed 11 --dtype bf16 "${extra[@]}" >/dev/null
  mv "$out/tmp/base" "$out/$arch"
  rm -rf "$out/tmp"
  "$graft" logits "$out/$arch" --ids "$ids" --top 3 -o "$out/$arch/graft-ids.safetensors" >/dev/null
  "$graft" logits "$out/$arch" --text "$text" --top 3 -o "$out/$arch/graft-text.safetensors" >/dev/null
  echo "$text" > "$out/$arch/graft-text.txt"
  echo "made $out/$arch"
done
