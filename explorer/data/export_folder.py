"""Write an image set to a folder of PNG files with a ``labels.csv``; the folder loader reads both back."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from explorer.data.dataset import SignalSet
from explorer.data.folders import require_empty_folder, write_labels_csv


def write_image_folder(ds: SignalSet, out: str | Path) -> Iterator[int]:
    """Yield the count written so far; every file is written atomically."""
    return write_images(out, ds.names, (ds.values[i] for i in range(len(ds.names))), ds.resolution, ds.labels)


def write_images(out: str | Path, names: list[str], fields: Iterable[np.ndarray], resolution: tuple[int, ...],
                 labels: dict[str, list]) -> Iterator[int]:
    """``names[i].png`` from the i-th image field (``[P, C]``, taken from ``fields`` as it is written: a
    generator renders one image at a time) and ``labels.csv``; yields the count written so far."""
    from explorer.modalities.image import ImageModality

    out = require_empty_folder(out)
    image = ImageModality()
    files = [f"{n.replace('/', '_')}.png" for n in names]
    for i, (name, field) in enumerate(zip(files, fields)):
        image.write(out / name, image.to_signal(torch.from_numpy(field), resolution))
        yield i + 1
    keys = list(labels)
    write_labels_csv(out, ["file", *keys], [[name, *(labels[k][i] for k in keys)] for i, name in enumerate(files)])
