# Sourced by build.sh and bundle.sh with the output folder as $1: the repository root (ROOT, and the working
# folder), the output folder made absolute (OUT, default dist/), the Python that builds (PY, default the
# project's venv; PYTHON overrides it) and the version it builds (VERSION, from explorer/__init__.py).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
OUT=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
VERSION=$("$PY" -c "import re; print(re.search(r'__version__ = \"(.+)\"', open('explorer/__init__.py').read())[1])")
