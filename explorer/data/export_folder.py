"""Write an image set to a folder of PNG files with a ``labels.csv``; the folder loader reads both back."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from explorer.data.dataset import SignalSet
from explorer.data.folders import require_empty_folder, write_labels_csv


def write_image_folder(ds: SignalSet, out: str | Path) -> Iterator[int]:
    """Yield the count written so far; every file is written atomically."""
    from explorer.modalities.image import ImageModality

    out = require_empty_folder(out)
    image = ImageModality()
    names = [f"{n.replace('/', '_')}.png" for n in ds.names]
    for i, name in enumerate(names):
        image.write(out / name, image.to_signal(torch.from_numpy(ds.values[i]), ds.resolution))
        yield i + 1
    keys = list(ds.labels)
    write_labels_csv(out, ["file", *keys], [[name, *(ds.labels[k][i] for k in keys)] for i, name in enumerate(names)])
