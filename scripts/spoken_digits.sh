#!/usr/bin/env bash
# Spoken digits "zero" to "nine" by espeak-ng (Debian package espeak-ng), a stand-in for the Speech
# Commands digits of the Zuiderveld thesis: sounds this project did not make, to choose training
# defaults on (docs/recipe.md). 10 digits x 6 accents x 4 voice variants = 240 WAV files + labels.csv.
#   bash scripts/spoken_digits.sh OUTDIR
set -euo pipefail
OUT=$1
command -v espeak-ng >/dev/null || { echo "needs espeak-ng (apt-get install espeak-ng)" >&2; exit 1; }
mkdir -p "$OUT"
echo "file,digit,accent,variant" > "$OUT/labels.csv"
digits=(zero one two three four five six seven eight nine)
for accent in en-gb en-us en-gb-scotland en-gb-x-rp en-029 en-gb-x-gbcwmd; do
  for variant in m1 m3 f2 f4; do
    mkdir -p "$OUT/$accent"
    for d in "${!digits[@]}"; do
      name="$accent/${digits[$d]}-$variant.wav"
      espeak-ng -v "$accent+$variant" -s 150 -w "$OUT/$name" "${digits[$d]}"
      echo "$name,$d,$accent,$variant" >> "$OUT/labels.csv"
    done
  done
done
echo "wrote $(find "$OUT" -name '*.wav' | wc -l) clips to $OUT" >&2
