"""What a user made in a checkpoint's workspace (bookmarks, saved paths, map settings), kept between runs.

One JSON file per checkpoint, keyed by a hash of the checkpoint file, under
``$XDG_DATA_HOME/latent-explorer/workspaces``; written to a temporary name and renamed, so a crash
never leaves a half-written file; an unreadable file is set aside, not fatal.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from explorer.io.atomic import atomic_write_bytes
from explorer.errors import ExplorerError


def workspace_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "latent-explorer" / "workspaces"


def checkpoint_key(path: str | Path) -> str:
    from explorer.core.export import checkpoint_sha256

    return checkpoint_sha256(path)[:32]


def memory_key(ckpt) -> str:
    """The workspace key of a checkpoint made in memory (``explorer.show``): its latents and names, so that
    showing the same arrays again brings back the bookmarks and paths."""
    import hashlib

    h = hashlib.sha256(ckpt.latents.numpy().tobytes())
    h.update("\n".join(ckpt.names).encode())
    return "memory-" + h.hexdigest()[:25]


def load_workspace(key: str) -> tuple[dict, Path | None]:
    """The saved workspace of checkpoint ``key`` (``{}`` when there is none), and where a file that is not
    a JSON object was set aside (``set_aside``; then the workspace reads as ``{}``), else None."""
    path = workspace_dir() / f"{key}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        return data, None
    return {}, set_aside(key)


def set_aside(key: str) -> Path | None:
    """Rename a damaged workspace file to ``KEY.damaged.json`` (kept for the user to look at; the next save
    writes a clean one); returns its new name, or None when there was none or it could not be renamed."""
    path = workspace_dir() / f"{key}.json"
    aside = path.with_suffix(".damaged.json")
    try:
        path.replace(aside)
    except OSError:
        return None
    return aside


def save_workspace(key: str, data: dict) -> str | None:
    """Write the workspace; return a one-line reason if it could not be saved (the app goes on)."""
    try:
        atomic_write_bytes(workspace_dir() / f"{key}.json", json.dumps(data, indent=1).encode())
    except ExplorerError as e:
        return f"could not save the workspace: {e}"
    return None
