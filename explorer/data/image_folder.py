"""A folder of PNG/JPEG images of any size, grey or colour, resized to the training resolution."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels
from explorer.errors import ExplorerError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def load_image(path: Path, resolution: int, grey: bool) -> np.ndarray:
    """Pixels ``[R, R, C]`` in [0, 1]: centre-cropped to a square, then resized with Lanczos."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            img = img.convert("L" if grey else "RGB")
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise ExplorerError(f"{path} is not a readable image ({e.__class__.__name__}); remove it or fix it") from e
    w, h = img.size
    side = min(w, h)
    img = img.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    img = img.resize((resolution, resolution), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return arr[..., None] if grey else arr


def is_grey(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.mode in ("1", "L", "LA", "I", "I;16", "F")
    except OSError as e:
        raise ExplorerError(f"{path} is not a readable image; remove it or fix it") from e


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
