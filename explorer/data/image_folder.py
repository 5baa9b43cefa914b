"""A folder of PNG/JPEG images of any size, grey or colour, resized to the training resolution."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels, streamed
from explorer.modalities.image_file import IMAGE_SUFFIXES


def load_image(path: Path, resolution: int, grey: bool) -> np.ndarray:
    """Pixels ``[R, R, C]`` in [0, 1]: centre-cropped to a square, then resized with Lanczos; 16-bit
    files scaled by their depth; a file too large to decode safely refused (``modalities.image_file``)."""
    from explorer.modalities.image_file import read_picture

    return read_picture(path, grey, (resolution, resolution), square=True)


def is_grey(path: Path) -> bool:
    from explorer.modalities.image_file import is_grey_mode, picture_mode

    return is_grey_mode(picture_mode(path))


def image_folder_set(folder: str | Path, resolution: int = 32, max_items: int | None = None, test_fraction: float = 0.1,
                     stream: bool | None = None, progress=None) -> SignalSet:
    """The pictures below ``folder`` as field values. A folder whose values would pass
    ``decoded.STREAM_FROM_BYTES`` (or any, with ``stream=True``) is decoded by worker processes into a
    memory-mapped cache, its training items first (``io.decoded``); ``progress(done, total)`` follows that."""
    from explorer.modalities.image import ImageModality

    folder = Path(folder)
    paths = find_files(folder, IMAGE_SUFFIXES, "PNG or JPEG images", max_items)
    grey = all(is_grey(p) for p in paths)
    channels = 1 if grey else 3
    paths, values = streamed(folder, paths, test_fraction, partial(field_row, resolution=resolution, grey=grey),
                             (resolution * resolution, channels), f"image field {resolution} {channels}", stream, progress)
    if values is None:
        values = ImageModality.to_field(np.stack([load_image(p, resolution, grey) for p in paths]))
    names, labels = names_and_labels(folder, paths)
    return SignalSet(
        modality="image",
        values=values,
        resolution=(resolution, resolution),
        names=names,
        labels=labels,
        is_test=hash_split(names, test_fraction),
        source={"spec": str(folder.resolve()), "max_items": max_items, "resolution": resolution},
    )


def field_row(path: Path, resolution: int, grey: bool) -> np.ndarray:
    """One picture's field values ``[R*R, C]`` (in a worker process of ``decoded.decode_to_cache``)."""
    from explorer.modalities.image import ImageModality

    return ImageModality.to_field(load_image(path, resolution, grey))
