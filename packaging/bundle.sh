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
# what PyInstaller takes with torch but nothing loads: its C++ test programs and test libraries (133 MB; of
# torch/bin only torch_shm_manager, which importing torch looks for, stays); and the static symbol tables of
# torch's and point_cloud_utils' libraries (names for debuggers; the dynamic symbols that loading needs stay)
INTERNAL="$OUT/latent-explorer/_internal"
rm -rf "$INTERNAL/torch/test"
find "$INTERNAL/torch/bin" -mindepth 1 -maxdepth 1 ! -name torch_shm_manager -exec rm -rf {} +
rm -f "$INTERNAL"/torch/lib/lib{jitbackend_test,torchbind_test,backend_with_compiler,aoti_custom_ops}.so
if command -v strip >/dev/null; then
  strip "$INTERNAL"/torch/lib/*.so* "$INTERNAL"/point_cloud_utils/*.so
fi
# gzip -1, the fastest level (the default level took 87 s on the untrimmed folder; stripping and archiving the
# trimmed one take about 40 s); written under a temporary name, so an interrupted build never leaves a
# truncated archive that looks finished
TARBALL="$OUT/latent-explorer-$VERSION-linux-x86_64.tar.gz"
tar -C "$OUT" -cf - latent-explorer | gzip -1 > "$TARBALL.part"
mv "$TARBALL.part" "$TARBALL"
du -sh "$OUT/latent-explorer" "$TARBALL"
