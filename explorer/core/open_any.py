"""Whatever a person points the app or a command at: a checkpoint file, an ONNX decoder bundle (folder or
ZIP), or a DeepSDF experiment folder (imported once into the user cache)."""
from __future__ import annotations

from pathlib import Path

from explorer.models.checkpoint import Checkpoint, load_checkpoint


def open_model(path: str | Path) -> Checkpoint:
    from explorer.core.deepsdf_import import cached_import, is_experiment
    from explorer.core.onnx_bundle import is_bundle, read_bundle

    if is_experiment(path):
        return load_checkpoint(cached_import(path))
    if is_bundle(path):
        return read_bundle(path)
    return load_checkpoint(path)
