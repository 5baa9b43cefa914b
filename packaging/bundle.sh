#!/usr/bin/env bash
# A self-contained one-folder bundle of the app for Linux x86_64 (PyInstaller), with the example checkpoints,
# and its .tar.gz:  OUT/latent-explorer/latent-explorer  and  OUT/latent-explorer-VERSION-linux-x86_64.tar.gz
#   bash packaging/bundle.sh [OUT]        (default dist/; needs the project's venv and pip install pyinstaller)
# The machine that runs it needs only what Qt and PortAudio need from the system (scripts/bootstrap.sh's
# Debian packages without the data ones): no Python, no venv, no repository.
set -euo pipefail
source "$(dirname "$0")/common.sh" "${1:-dist}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# what the app never imports stays out: the test and notebook stacks, other GUI toolkits, torch's extras
"$PY" -m PyInstaller --noconfirm --clean --onedir --name latent-explorer \
    --distpath "$OUT" --workpath "$WORK/build" --specpath "$WORK" \
    --collect-submodules explorer --collect-data explorer \
    --collect-data vispy --collect-data pyqtgraph --collect-data imageio_ffmpeg --collect-binaries imageio_ffmpeg \
    --collect-submodules openTSNE --collect-submodules sklearn.neighbors \
    --add-data "$ROOT/checkpoints:checkpoints" \
    --copy-metadata PySide6-Essentials \
    --exclude-module tkinter --exclude-module matplotlib --exclude-module IPython --exclude-module ipykernel \
    --exclude-module jupyter_client --exclude-module pytest --exclude-module hypothesis \
    --exclude-module torch.utils.tensorboard --exclude-module tensorboard --exclude-module onnx \
    --exclude-module PySide6.QtWebEngineCore --exclude-module PySide6.Qt3DCore \
    packaging/bundle_entry.py >&2
tar -C "$OUT" -czf "$OUT/latent-explorer-$VERSION-linux-x86_64.tar.gz" latent-explorer
du -sh "$OUT/latent-explorer" "$OUT/latent-explorer-$VERSION-linux-x86_64.tar.gz"
