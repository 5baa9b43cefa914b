#!/usr/bin/env bash
# Build what reaches users, into OUT (default dist/):
#   latent_explorer-VERSION-py3-none-any.whl and latent_explorer-VERSION.tar.gz   the app (python -m build)
#   latent_explorer_examples-VERSION-py3-none-any.whl                            the example checkpoints
# Needs the project's venv (bash scripts/bootstrap.sh setup) or PYTHON with setuptools and build installed.
#   bash packaging/build.sh [OUT]
set -euo pipefail
source "$(dirname "$0")/common.sh" "${1:-dist}"

# the app: wheel and sdist by the standard build frontend, from a copy of the tracked files only
# and the new ones git does not ignore (no venv, caches or egg-info of this checkout end up in them)
SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
git ls-files -z --cached --others --exclude-standard | grep -zv '^checkpoints/' | xargs -0 cp --parents -t "$SRC"
"$PY" -m build --no-isolation --sdist --wheel --outdir "$OUT" "$SRC" >&2

# the examples: the shipped checkpoints, their model cards and contact sheets as package data
EX="$SRC/examples"
mkdir -p "$EX/latent_explorer_examples"
sed "s/@VERSION@/$VERSION/" packaging/examples/pyproject.toml > "$EX/pyproject.toml"
echo '"""The example checkpoints of latent-explorer: this folder holds them (explorer.core.shipped finds it)."""' \
    > "$EX/latent_explorer_examples/__init__.py"
cp checkpoints/*.safetensors checkpoints/*.md checkpoints/*.png "$EX/latent_explorer_examples/"
"$PY" -m build --no-isolation --wheel --outdir "$OUT" "$EX" >&2

ls -la "$OUT"
