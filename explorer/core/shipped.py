"""The example checkpoints: the repository's ``checkpoints/`` folder in a clone, else those of the separate
``latent-explorer-examples`` wheel (``packaging/build.sh`` builds both wheels; the app's own stays small and
the examples, 48 MB, are installed once, with no download at run time)."""
from __future__ import annotations

from pathlib import Path

EXAMPLES_PACKAGE = "latent_explorer_examples"


def _checkpoint_dir() -> Path:
    repo = Path(__file__).resolve().parents[2] / "checkpoints"
    if repo.is_dir():
        return repo
    try:
        from importlib.util import find_spec

        spec = find_spec(EXAMPLES_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return repo  # neither: the Examples menu is empty and opening the default says what to install


CHECKPOINT_DIR = _checkpoint_dir()
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "fashion-mnist.safetensors"
MISSING_EXAMPLES = ("the example checkpoints are not installed: pip install latent-explorer-examples (its wheel is "
                    "built beside the app's by packaging/build.sh), or open a checkpoint of your own")


def shipped_checkpoints() -> list[Path]:
    return sorted(CHECKPOINT_DIR.glob("*.safetensors"))
