"""What every folder dataset shares: finding its files, naming them, their ``labels.csv``, and decoding a folder
larger than memory into a memory-mapped array (``io.decoded``)."""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer.data.dataset import hash_split
from explorer.io.atomic import atomic_write_bytes
from explorer.io.decoded import STREAM_FROM_BYTES, decode_to_cache
from explorer.errors import ExplorerError

LABELS_FILE = "labels.csv"


def find_files(folder: str | Path, suffixes: set[str], what: str, max_items: int | None = None) -> list[Path]:
    """Files below ``folder`` with one of ``suffixes`` (any case), sorted; an error names ``what`` when none."""
    folder = Path(folder)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if max_items is not None:
        paths = paths[:max_items]
    if not paths:
        raise ExplorerError(f"no {what} found in {folder}")
    return paths


def streamed(folder: str | Path, paths: list[Path], test_fraction: float, decode: Callable[[Path], np.ndarray],
             item_shape: tuple[int, ...], what: str, stream: bool | None,
             progress: Callable[[int, int], None] | None) -> tuple[list[Path], np.ndarray | None]:
    """With ``stream`` (None: where the folder's values would pass ``decoded.STREAM_FROM_BYTES``), the files
    in the order that puts training items first (each group in its own order: the training items of the
    memory-mapped set are then one slice of it, a view, where any other selection would copy them) and their
    rows decoded into the cache by worker processes (``decoded.decode_to_cache``); else ``(paths, None)``:
    the caller reads them into memory."""
    if stream is None:
        stream = len(paths) * math.prod(item_shape) * 4 > STREAM_FROM_BYTES
    if not stream:
        return paths, None
    names, _ = names_and_labels(folder, paths)
    order = np.argsort(hash_split(names, test_fraction), kind="stable")
    paths = [paths[i] for i in order]
    return paths, decode_to_cache(paths, decode, item_shape, what, progress)


def names_and_labels(folder: str | Path, paths: list[Path]) -> tuple[list[str], dict[str, list]]:
    """Names relative to ``folder``; labels from subfolder names and from a ``labels.csv`` if present."""
    folder = Path(folder)
    names = [p.relative_to(folder).as_posix() for p in paths]
    labels: dict[str, list] = {}
    parents = [p.parent.relative_to(folder).as_posix() for p in paths]
    if any(par != "." for par in parents):
        labels["folder"] = parents
    if (folder / LABELS_FILE).exists():
        labels |= read_labels_csv(folder / LABELS_FILE, names)
    return names, labels


def require_empty_folder(out: str | Path) -> Path:
    """A dataset builder writes into a new or empty folder only: nothing of the user's is overwritten."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExplorerError(f"{out} is a file, not a folder; choose a new folder")
    if out.exists() and any(out.iterdir()):
        raise ExplorerError(f"{out} is not empty; choose a new folder")
    return out


def write_labels_csv(out: Path, header: list[str], rows: list[list]) -> None:
    """``labels.csv`` in ``out``: a header (first column "file") and one row per file, written atomically."""
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    atomic_write_bytes(out / LABELS_FILE, buf.getvalue().encode())


def read_labels_csv(path: Path, names: list[str]) -> dict[str, list]:
    """Labels per file from ``labels.csv`` (first column: file name relative to the folder)."""
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
        raise ExplorerError(f"{path} has no row for {missing[0]} ({len(missing)} files missing)")
    labels: dict[str, list] = {}
    for j, key in enumerate(keys):
        values = [table[n][j] if j < len(table[n]) else "" for n in names]
        try:
            labels[key] = [float(v) for v in values]
        except ValueError:
            labels[key] = values
    return labels
