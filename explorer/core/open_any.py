"""Whatever a person points the app or a command at: a checkpoint file, an ONNX decoder bundle (folder or
ZIP), a DeepSDF experiment folder (imported once into the user cache), or plain embeddings (``.npy``,
``.tsv``/``.csv``, a projector log folder) with their files."""
from __future__ import annotations

from pathlib import Path

from explorer.models.checkpoint import Checkpoint, load_checkpoint


def open_model(path: str | Path, files: str | Path | None = None) -> Checkpoint:
    """``files``: the folder of the original files of plain embeddings."""
    from explorer.core.deepsdf_import import cached_import, is_experiment
    from explorer.core.onnx_bundle import is_bundle, read_bundle
    from explorer.core.plain_embeddings import is_plain, read_plain

    if is_experiment(path):
        return load_checkpoint(cached_import(path))
    if is_bundle(path):
        return read_bundle(path)
    if is_plain(path):
        return read_plain(path, files)
    return load_checkpoint(path)
