"""The per-user cache folder (``$XDG_CACHE_HOME/latent-explorer``, else ``~/.cache/latent-explorer``):
t-SNE maps, compiled kernels and rebuilt datasets, all safe to delete."""
from __future__ import annotations

import os
from pathlib import Path


def user_cache(*parts: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "latent-explorer", *parts)
