#!/usr/bin/env bash
# Set up everything latent-explorer needs on a Debian machine, then run it.
#   bash scripts/bootstrap.sh app [CKPT]   set up, then open a checkpoint (the shipped default when omitted)
#   bash scripts/bootstrap.sh test [ARGS]  set up, then run the full test suite (ARGS go to pytest)
#   bash scripts/bootstrap.sh setup        set up only
# Idempotent: a second run checks what is installed and skips straight to the command.
# Environment: PYTHON (default python3), TORCH_SPEC (default torch==2.13.0; e.g. "torch" for a CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-app}
[ $# -gt 0 ] && shift

# data: Fashion-MNIST, the soundfont and its synthesiser, the furniture catalogue;
# app: PortAudio for sound, Mesa/EGL for the 3-D view, Qt's xcb needs, and Xvfb for the GUI tests;
# desktop: the freedesktop tools desktop-install runs and the validators of its files
APT_PACKAGES=(dataset-fashion-mnist fluidsynth fluid-soundfont-gm sweethome3d-furniture
              desktop-file-utils appstream shared-mime-info xdg-utils git
              libportaudio2 xvfb xauth libgl1-mesa-dri libegl1 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0
              libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-cursor0)

missing_apt() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

need=$(missing_apt)
if [ -n "$need" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "latent-explorer needs Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y $(echo $need)" >&2
    exit 1
  fi
  echo "installing Debian packages: $(echo $need)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends $need >&2
fi

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
VENV="$ROOT/.venv"
STAMP="$VENV/.bootstrap-stamp"
want=$( (cat pyproject.toml scripts/bootstrap.sh; echo "$TORCH_SPEC") | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV with $($PYTHON --version 2>&1)" >&2
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  # torch first, pinned, so nothing that depends on it pulls a different (CUDA) build
  "$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/python" -m pip install -q "$TORCH_SPEC" >&2
  "$VENV/bin/python" -m pip install -q -e ".[test]" >&2
  echo "$want" > "$STAMP"
fi

case "$MODE" in
  setup) ;;
  app)
    # the desktop app on the shipped default checkpoint (or the checkpoint given); without a
    # display (a server, CI), say so instead of failing inside Qt
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      echo "no display: run this in a desktop session, or under Xvfb: xvfb-run -a bash scripts/bootstrap.sh app" >&2
      exit 1
    fi
    exec "$VENV/bin/latent-explorer" "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    # test files in parallel, one worker per core up to four (pytest-xdist; a file's tests stay on one
    # worker, so its module fixtures are made once); -n 0 after the command runs them in this process
    workers=$(nproc 2>/dev/null || echo 2)
    [ "$workers" -gt 4 ] && workers=4
    # files go out in the order tests/conftest.py puts them (the longest first), not xdist's most-tests-first
    exec "$VENV/bin/python" -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh app|test|setup" >&2
    exit 2
    ;;
esac
