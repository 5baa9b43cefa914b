"""Write an image set to a folder of PNG files with a ``labels.csv``; the folder loader reads both back."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from explorer.core.atomic import atomic_write_bytes
from explorer.data.dataset import SignalSet
from explorer.errors import ExplorerError

LABELS_FILE = "labels.csv"


def write_image_folder(ds: SignalSet, out: str | Path) -> Iterator[int]:
    """Yield the count written so far; every file is written atomically."""
    from explorer.modalities.image import ImageModality

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ExplorerError(f"{out} is not empty; choose a new folder")
    image = ImageModality()
    names = [f"{n.replace('/', '_')}.png" for n in ds.names]
    for i, name in enumerate(names):
        pixels = image.to_signal(_tensor(ds.values[i]), ds.resolution)
        image.write(out / name, pixels)
        yield i + 1
    buf = io.StringIO()
    writer = csv.writer(buf)
    keys = list(ds.labels)
    writer.writerow(["file", *keys])
    for i, name in enumerate(names):
        writer.writerow([name, *(ds.labels[k][i] for k in keys)])
    atomic_write_bytes(out / LABELS_FILE, buf.getvalue().encode())


def read_labels_csv(path: Path, names: list[str]) -> dict[str, list]:
    """Labels per image from ``labels.csv`` (first column: file name relative to the folder)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ExplorerError(f"could not read {path}: {e}") from e
    if not rows or len(rows[0]) < 2:
        return {}
    keys = rows[0][1:]
    table = {r[0]: r[1:] for r in rows[1:] if r}
    missing = [n for n in names if n not in table]
    if missing:
        raise ExplorerError(f"{path} has no row for {missing[0]} ({len(missing)} images missing)")
    labels: dict[str, list] = {}
    for j, key in enumerate(keys):
        values = [table[n][j] if j < len(table[n]) else "" for n in names]
        try:
            labels[key] = [float(v) for v in values]
        except ValueError:
            labels[key] = values
    return labels


def _tensor(values):
    import torch

    return torch.from_numpy(values)
