#!/usr/bin/env bash
# GEM Table 1 ablation: test PSNR after test-time fitting for Rec, Rec+LLE, Rec+LLE+Iso at the same budget.
#   bash scripts/ablation.sh DATA OUTDIR [extra train args...]
# Prints one JSON line per variant (and keeps the checkpoints and eval JSON in OUTDIR).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1; OUT=$2; shift 2
LE=.venv/bin/latent-explorer
mkdir -p "$OUT"
for variant in rec rec+lle rec+lle+iso; do
  flags=()
  case $variant in
    rec) flags=(--no-lle --no-iso) ;;
    rec+lle) flags=(--no-iso) ;;
  esac
  ckpt="$OUT/$variant.safetensors"
  start=$(date +%s)
  $LE train --data "$DATA" --preset small --out "$ckpt" --force "${flags[@]}" "$@" 2>"$OUT/$variant.train.log"
  trained=$(date +%s)
  $LE eval "$ckpt" --json --max-items 200 --fit-steps 300 > "$OUT/$variant.eval.json"
  python3 -c "import json,sys; r=json.load(open('$OUT/$variant.eval.json')); print(json.dumps({'data': '$DATA', 'variant': '$variant', 'train_psnr': round(r['train']['psnr'],2), 'test_psnr': round(r['test']['psnr'],2), 'test_mse': round(r['test']['mse'],5), 'n_test': r['test']['n'], 'train_s': $trained-$start, 'eval_s': $(date +%s)-$trained}))"
done
