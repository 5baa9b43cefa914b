"""A folder of PNG/JPEG images of any size, grey or colour, resized to the training resolution."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels
from explorer.modalities.image_file import IMAGE_SUFFIXES


def load_image(path: Path, resolution: int, grey: bool) -> np.ndarray:
    """Pixels ``[R, R, C]`` in [0, 1]: centre-cropped to a square, then resized with Lanczos; 16-bit
    files scaled by their depth; a file too large to decode safely refused (``modalities.image_file``)."""
    from explorer.modalities.image_file import read_picture

    return read_picture(path, grey, (resolution, resolution), square=True)


def is_grey(path: Path) -> bool:
    from explorer.modalities.image_file import is_grey_mode, picture_mode

    return is_grey_mode(picture_mode(path))


def image_folder_set(folder: str | Path, resolution: int = 32, max_items: int | None = None, test_fraction: float = 0.1) -> SignalSet:
    from explorer.modalities.image import ImageModality

    folder = Path(folder)
    paths = find_files(folder, IMAGE_SUFFIXES, "PNG or JPEG images", max_items)
    grey = all(is_grey(p) for p in paths)
    pixels = np.stack([load_image(p, resolution, grey) for p in paths])
    names, labels = names_and_labels(folder, paths)
    return SignalSet(
        modality="image",
        values=ImageModality.to_field(pixels),
        resolution=(resolution, resolution),
        names=names,
        labels=labels,
        is_test=hash_split(names, test_fraction),
        source={"spec": str(folder.resolve()), "max_items": max_items, "resolution": resolution},
    )
