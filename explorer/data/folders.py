"""What every folder dataset shares: finding its files, naming them, and their labels."""
from __future__ import annotations

from pathlib import Path

from explorer.errors import ExplorerError


def find_files(folder: str | Path, suffixes: set[str], what: str, max_items: int | None = None) -> list[Path]:
    """Files below ``folder`` with one of ``suffixes`` (any case), sorted; an error names ``what`` when none."""
    folder = Path(folder)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if max_items is not None:
        paths = paths[:max_items]
    if not paths:
        raise ExplorerError(f"no {what} found in {folder}")
    return paths


def names_and_labels(folder: str | Path, paths: list[Path]) -> tuple[list[str], dict[str, list]]:
    """Names relative to ``folder``; labels from subfolder names and from a ``labels.csv`` if present."""
    from explorer.data.export_folder import LABELS_FILE, read_labels_csv

    folder = Path(folder)
    names = [p.relative_to(folder).as_posix() for p in paths]
    labels: dict[str, list] = {}
    parents = [p.parent.relative_to(folder).as_posix() for p in paths]
    if any(par != "." for par in parents):
        labels["folder"] = parents
    if (folder / LABELS_FILE).exists():
        labels |= read_labels_csv(folder / LABELS_FILE, names)
    return names, labels
