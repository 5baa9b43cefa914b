"""Datasets: built-in names and folders, resolved from the ``--data SPEC`` of the command line."""
from __future__ import annotations

from pathlib import Path

from explorer.data.dataset import SignalSet
from explorer.errors import ExplorerError

BUILTIN = ("fashion-mnist", "sprites", "superquadrics")


def load_dataset(spec: str, modality: str = "image", max_items: int | None = None, max_test: int | None = None,
                 resolution: int | None = None, seed: int = 0, points: int | None = None, shell: float = 0.0) -> SignalSet:
    """A built-in dataset by name, or a folder of files of the modality. A folder that ``data build``
    made is recorded as such in the set's ``source``, so that a checkpoint can rebuild it elsewhere."""
    dataset = _load(spec, modality, max_items, max_test, resolution, seed, points, shell)
    if spec not in BUILTIN and Path(spec).is_dir():
        from explorer.data.build import read_record

        record = read_record(spec)
        if record is not None:
            dataset.source["build"] = record
    return dataset


def _load(spec: str, modality: str, max_items: int | None, max_test: int | None, resolution: int | None,
          seed: int, points: int | None, shell: float = 0.0) -> SignalSet:
    from explorer.modalities import KNOWN, get_modality

    reader = _READERS.get(get_modality(modality).dataset_reader) if modality in KNOWN else None
    if reader is None:
        raise ExplorerError(f"the {modality} modality has no datasets in this version yet")
    return reader(spec, max_items, max_test, resolution, seed, points, shell)


def _sounds(spec: str, max_items, max_test, resolution, seed, points, shell) -> SignalSet:
    path = Path(spec)
    if not path.is_dir():
        raise ExplorerError(f"--data {spec!r}: audio data is a folder of WAV/FLAC/OGG files")
    from explorer.data.audio_folder import audio_folder_set

    return audio_folder_set(path, max_items=max_items)


def _pairs(spec: str, max_items, max_test, resolution, seed, points, shell) -> SignalSet:
    if not Path(spec).is_dir():
        raise ExplorerError(f"--data {spec!r}: audio-visual data is a folder of X.png + X.wav pairs "
                            "(latent-explorer data build av-notes --out DIR)")
    from explorer.data.av_folder import av_folder_set

    return av_folder_set(spec, resolution=resolution or 48, max_items=max_items)


def _shapes(spec: str, max_items, max_test, resolution, seed, points, shell) -> SignalSet:
    from explorer.data.shapes import mesh_folder_set, superquadrics_set

    if spec == "superquadrics":
        return superquadrics_set(n=max_items or 500, seed=seed, resolution=resolution or 64)
    if not Path(spec).is_dir():
        raise ExplorerError(f"--data {spec!r} is neither 'superquadrics' nor a folder of meshes")
    return mesh_folder_set(spec, max_items=max_items, seed=seed, resolution=resolution or 64,
                           points=points or 4096, shell=shell)


def _pictures(spec: str, max_items, max_test, resolution, seed, points, shell) -> SignalSet:
    if spec == "fashion-mnist":
        from explorer.data.fashion_mnist import fashion_mnist_set

        if resolution not in (None, 28):
            raise ExplorerError("fashion-mnist is 28x28; drop --resolution or use a folder of images")
        return fashion_mnist_set(max_items, max_test)
    if spec == "sprites":
        from explorer.data.sprites import sprites_set

        return sprites_set(n=max_items or 2000, resolution=resolution or 32, seed=seed)
    path = Path(spec)
    if path.is_dir():
        from explorer.data.image_folder import image_folder_set

        return image_folder_set(path, resolution=resolution or 32, max_items=max_items)
    raise ExplorerError(f"--data {spec!r} is neither a built-in dataset ({', '.join(BUILTIN)}) nor a folder")


_READERS = {"pictures": _pictures, "sounds": _sounds, "pairs": _pairs, "shapes": _shapes}
"""Each plug's ``dataset_reader``: ``(spec, max_items, max_test, resolution, seed, points, shell) -> SignalSet``
(``points`` and ``shell`` are of mesh folders; the other readers take and ignore them)."""


def reload_dataset(source: dict, modality: str, consume=None) -> SignalSet:
    """Rebuild the dataset a checkpoint was trained on, from the ``source`` stored in it.

    A folder that ``data build`` made and that is not on this machine is built again, once, into
    the user cache (``explorer.data.build.rebuild``; ``consume`` runs the build, to show progress).
    """
    spec = source.get("spec", "")
    if spec not in BUILTIN and not Path(spec).is_dir():
        if not source.get("build"):
            raise ExplorerError(f"this checkpoint was trained on the folder {spec}, which is not on this machine: "
                                "copy it there or pass --data DIR (the checkpoint's split is kept by item name)")
        from explorer.data.build import rebuild

        spec = str(rebuild(source["build"], consume))
    return load_dataset(spec, modality, max_items=source.get("max_items"), max_test=source.get("max_test"),
                        resolution=source.get("resolution"), seed=source.get("seed", 0), points=source.get("points"),
                        shell=source.get("shell", 0.0))


__all__ = ["SignalSet", "load_dataset", "reload_dataset", "BUILTIN"]
