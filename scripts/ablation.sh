#!/usr/bin/env bash
# GEM Table 1 ablation: test PSNR after test-time fitting for Rec, Rec+LLE, Rec+LLE+Iso at the same budget.
#   bash scripts/ablation.sh DATA OUTDIR [extra train args...]     (VARIANTS="rec+lle" for a subset)
# STEPS (default 12000, four times the first run's 3000) sets the budget of every variant.
# Trains the three variants with the "small" preset (a finished checkpoint in OUTDIR is kept: the
# train command's --resume), then evaluates 200 held-out items fitted with GEM's L_rec + L_LLE and,
# for comparison, with L_rec alone. Prints one JSON line per variant; checkpoints and logs stay in OUTDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1; OUT=$2; shift 2
LE=.venv/bin/latent-explorer
mkdir -p "$OUT"
for variant in ${VARIANTS:-rec rec+lle rec+lle+iso}; do
  flags=()
  case $variant in
    rec) flags=(--no-lle --no-iso) ;;
    rec+lle) flags=(--no-iso) ;;
  esac
  ckpt="$OUT/$variant.safetensors"
  start=$(date +%s)
  $LE train --data "$DATA" --preset small --steps "${STEPS:-12000}" --out "$ckpt" --resume "${flags[@]}" "$@" \
    2>"$OUT/$variant.train.log"
  trained=$(date +%s)
  $LE eval "$ckpt" --json --max-items 200 --fit-steps 300 > "$OUT/$variant.eval.json"
  $LE eval "$ckpt" --json --max-items 200 --fit-steps 300 --fit-loss rec > "$OUT/$variant.eval-rec.json"
  python3 - "$OUT" "$variant" "$DATA" $((trained - start)) $(( $(date +%s) - trained )) <<'PY'
import json, sys
out, variant, data, train_s, eval_s = sys.argv[1:]
r = json.load(open(f"{out}/{variant}.eval.json"))
q = json.load(open(f"{out}/{variant}.eval-rec.json"))
print(json.dumps({"data": data, "variant": variant, "train_psnr": round(r["train"]["psnr"], 2),
                  "test_psnr_fit_rec+lle": round(r["test"]["psnr"], 2), "test_psnr_fit_rec": round(q["test"]["psnr"], 2),
                  "n_test": r["test"]["n"], "train_s": int(train_s), "eval_s": int(eval_s)}))
PY
done
