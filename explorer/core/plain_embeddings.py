"""Embeddings without a decoder: latents from ``.npy`` or ``.csv``/``.tsv`` (the TensorBoard projector's
``tensors.tsv`` + ``metadata.tsv``, or a projector log folder with ``projector_config.pbtxt``), and
optionally the original files, one per latent.

The map, search, the k-NN graph and geodesic paths need only the latents. With the files, a frame
anywhere shows the training item nearest to it (``NearestItemField``: its picture, its sound, its mesh's
distance field), so a path shows the items it passes; nothing between two items can be decoded without a
decoder, and the app says so. Files come from a metadata column named ``file``, ``path`` or
``filename`` (relative to the metadata file), or a folder whose files match the names (by stem) or, one
per latent, in name order.
"""
from __future__ import annotations

import csv
import io
import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from explorer.errors import ExplorerError
from explorer.io.memory import check_fits, gb
from explorer.models.checkpoint import Checkpoint

FILE_COLUMNS = ("file", "path", "filename", "filepath")
TABLE_SUFFIXES = (".tsv", ".csv", ".txt")
MAX_SIDE = 256
"""Pictures are shown at most this many pixels on their long side."""
NOTE = ("no decoder: each frame shows the training item nearest to it, so a path shows the items it passes; "
        "nothing between two items can be decoded without a decoder")


def is_plain(path: str | Path) -> bool:
    path = Path(path)
    if path.is_dir():
        return (path / "projector_config.pbtxt").is_file()
    return path.is_file() and path.suffix.lower() in (".npy", *TABLE_SUFFIXES)


# --- reading the latents and their metadata ---------------------------------------------------------------
def _read_table(path: Path) -> list[list[str]]:
    check_fits(8 * path.stat().st_size, f"reading {path} ({gb(path.stat().st_size)})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ExplorerError(f"{path} is not a readable text table: {e}") from e
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] or path.suffix.lower() == ".tsv" else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row and any(c.strip() for c in row)]


def _numbers(rows: list[list[str]], path: Path, first_row: int = 1) -> np.ndarray:
    bad = next((i for i, row in enumerate(rows) if not all(_is_number(c) for c in row)), None)
    if bad is not None:
        raise ExplorerError(f"{path}: row {bad + first_row} is not all numbers ({', '.join(rows[bad][:3])}...); a "
                            "tensors file holds one latent per row, tab- or comma-separated")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ExplorerError(f"{path}: rows have different lengths ({min(widths)} to {max(widths)} numbers); a tensors "
                            "file holds one latent per row")
    return np.array([[float(c) for c in row] for row in rows], np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_latents(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        try:  # memory-mapped, copy-on-write: float32 latents are paged in from the file, never copied
            arr = np.load(path, mmap_mode="c", allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise ExplorerError(f"{path} is not a plain .npy array ({str(e).splitlines()[0]}); pickled arrays are "
                                "not opened") from e
        if arr.dtype != np.float32:  # converted: a copy in memory
            check_fits(2 * path.stat().st_size, f"reading {path} ({gb(path.stat().st_size)})")
    else:
        rows = _read_table(path)
        header = rows and not all(_is_number(c) for c in rows[0])
        arr = _numbers(rows[1:] if header else rows, path, 2 if header else 1)
    arr = np.asarray(arr, np.float32)
    if arr.ndim != 2 or len(arr) < 2 or arr.shape[1] < 1:
        raise ExplorerError(f"{path} holds an array of shape {list(arr.shape)}; latents are [N, d] with N of 2 or more")
    if not np.isfinite(arr).all():
        raise ExplorerError(f"{path}: {int((~np.isfinite(arr)).any(1).sum())} latents hold NaN or infinite values")
    return arr


def read_metadata(path: Path, n: int) -> dict[str, list[str]]:
    """``{column: values}``: the projector's format, one column without a header, or several under one."""
    rows = _read_table(path)
    if len(rows) == n and all(len(r) == 1 for r in rows):
        return {"label": [r[0] for r in rows]}
    if len(rows) != n + 1:
        raise ExplorerError(f"{path} has {len(rows)} rows for {n} latents (one column: a row each; several: a header, "
                            "then a row each)")
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
    out = {h: [] for h in header}
    for i, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ExplorerError(f"{path}: row {i + 2} has {len(row)} columns, the header {len(header)}")
        for h, v in zip(header, row):
            out[h].append(v)
    return out


def read_projector_config(folder: Path) -> tuple[Path, Path | None, list[str]]:
    """The first embedding of a projector log folder: its tensors, its metadata, and notes on the others."""
    text = (folder / "projector_config.pbtxt").read_text(errors="replace")
    blocks = re.findall(r"embeddings\s*\{(.*?)\}", text, re.S)
    if not blocks:
        raise ExplorerError(f"{folder}/projector_config.pbtxt lists no embeddings")

    def field(block, key):
        m = re.search(rf'{key}\s*:\s*"((?:[^"\\]|\\.)*)"', block)
        return m[1] if m else None

    tensor = field(blocks[0], "tensor_path")
    if tensor is None:
        raise ExplorerError(f"{folder}: the embedding {field(blocks[0], 'tensor_name')!r} keeps its tensor in a TensorFlow "
                            "checkpoint, which is not read here; write it as tensors.tsv (tensor_path)")
    meta = field(blocks[0], "metadata_path")
    notes = [f"the projector config lists {len(blocks)} embeddings; the first, {field(blocks[0], 'tensor_name') or tensor}, "
             "is shown"] if len(blocks) > 1 else []
    return folder / tensor, (folder / meta) if meta else None, notes


def _sibling_metadata(tensors: Path) -> Path | None:
    for name in ("metadata.tsv", f"{tensors.stem}_metadata.tsv", f"{tensors.stem}.metadata.tsv", "metadata.csv"):
        if (tensors.parent / name).is_file() and tensors.parent / name != tensors:
            return tensors.parent / name
    return None


# --- the original files -------------------------------------------------------------------------------
def _file_plug(files: list[Path]):
    """The plug that reads these files (by their suffix), or an error naming a file nobody reads."""
    from explorer.modalities import file_plug, get_modality

    kinds = set()
    for f in files:
        plug = file_plug(f)
        if plug is None:
            raise ExplorerError(f"{f}: no reader for {f.suffix or 'a file without an extension'} files (pictures: .png, "
                                ".jpg; sounds: .wav, .flac, .ogg; meshes: .obj, .ply, .stl, .off)")
        kinds.add(plug.name)
    if len(kinds) > 1:
        raise ExplorerError(f"the files are of several kinds ({', '.join(sorted(kinds))}); one kind per set of latents")
    return get_modality(kinds.pop())


def match_files(folder: Path, names: list[str] | None, n: int) -> list[Path]:
    """One file of ``folder`` per latent: by name (a metadata column, file stems) or, one per latent, in name order."""
    from explorer.modalities import file_plugs

    if not folder.is_dir():
        raise ExplorerError(f"{folder} is not a folder of files")
    suffixes = {s for p in file_plugs() for s in p.read_suffixes}
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if names:
        by_name = {}
        for p in found:
            by_name.setdefault(p.name, p)
            by_name.setdefault(p.stem, p)
            by_name.setdefault(str(p.relative_to(folder)), p)
        matched = [by_name.get(str(name)) for name in names]
        if all(matched):
            return matched
    if len(found) == n:
        return found
    raise ExplorerError(f"{folder} holds {len(found)} readable files for {n} latents, and their names do not match the "
                        "latents' names; give a metadata column 'file' instead")


def _file_column(meta: dict[str, list[str]], base: Path) -> list[Path] | None:
    key = next((k for k in meta if k.strip().lower() in FILE_COLUMNS), None)
    if key is None:
        return None
    files = [(base / v).resolve() if not Path(v).is_absolute() else Path(v) for v in meta.pop(key)]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise ExplorerError(f"column {key!r} names {len(missing)} files that do not exist, such as {missing[0]}")
    return files


class ZeroField(nn.Module):
    """What the decode pipeline holds for latents without a decoder or files; the ``none`` plug shows nothing
    of it (``modalities.nothing``), so its values are never a frame."""

    cannot_fit = "these latents have no decoder: a latent cannot be fitted to a file (embedding, completion)"

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        return torch.zeros(z.shape[0], coords.shape[-2], 1)


class NearestItemField(nn.Module):
    """The field of the training item nearest to each latent: values of its file at the coordinates asked."""

    cannot_fit = ZeroField.cannot_fit

    def __init__(self, latents: torch.Tensor, files: list[Path], plug, resolution: tuple[int, ...], cache: int = 64) -> None:
        super().__init__()
        self.register_buffer("bank", latents.float())
        self.files, self.plug, self.resolution = files, plug, resolution
        self._cache: OrderedDict[int, object] = OrderedDict()
        self.cache_items = cache

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cdist(z.float(), self.bank).argmin(dim=1)

    def _item(self, i: int):
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        item = _load_item(self.plug, self.files[i], self.resolution)
        self._cache[i] = item
        while len(self._cache) > self.cache_items:
            self._cache.popitem(last=False)
        return item

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        out = []
        for b, i in enumerate(self.nearest(z).tolist()):
            c = coords if coords.ndim == 2 else coords[b]
            out.append(_sample(self.plug, self._item(i), c.float()))
        return torch.stack(out)


def _load_item(plug, path: Path, resolution):
    from explorer.modalities.audio_file import load_clip
    from explorer.modalities.image_file import read_picture
    from explorer.modalities.mesh_file import load_mesh

    if plug.name == "image":
        h, w = resolution
        pixels = read_picture(path, False, (w, h))  # [H, W, 3] in [0, 1]: grey files as three equal channels
        return torch.from_numpy(pixels * 2 - 1).permute(2, 0, 1)[None].float()  # [1, C, H, W] in [-1, 1]
    if plug.name == "audio":
        return torch.from_numpy(load_clip(path, plug.sample_rate, resolution[0] / plug.sample_rate)).float()
    return load_mesh(path)


def _sample(plug, item, coords: torch.Tensor) -> torch.Tensor:
    if plug.name == "image":  # coords (y, x) in [-1, 1] at pixel centres; grid_sample takes (x, y)
        grid = coords[:, [1, 0]].reshape(1, 1, -1, 2)
        values = torch.nn.functional.grid_sample(item, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return values[0, :, 0].T  # [P, C]
    if plug.name == "audio":  # t in [-1, 1] over the clip, at sample centres
        n = item.shape[0]
        pos = ((coords[:, 0] + 1) / 2 * n - 0.5).clamp(0, n - 1)
        lo = pos.floor().long()
        hi = (lo + 1).clamp(max=n - 1)
        frac = pos - lo
        return (item[lo] * (1 - frac) + item[hi] * frac)[:, None]
    from explorer.modalities.sdf import mesh_sdf

    vertices, faces = item
    return torch.from_numpy(mesh_sdf(coords.numpy().astype(np.float64), vertices, faces))[:, None].float()


def _resolution(plug, first: Path) -> tuple[list[int], int]:
    """What the items are shown at: pictures at their own size (at most ``MAX_SIDE`` a side), sounds a
    second (or the first file's length, up to 4 s) at 16 kHz, meshes on a 64³ grid."""
    if plug.name == "image":
        from explorer.modalities.image_file import open_picture

        with open_picture(first) as img:
            w, h = img.size
        scale = min(1.0, MAX_SIDE / max(w, h))
        return [max(8, round(h * scale)), max(8, round(w * scale))], 3
    if plug.name == "audio":
        import soundfile

        try:
            seconds = min(4.0, max(0.25, soundfile.info(str(first)).duration))
        except Exception:
            seconds = 1.0
        return [int(round(seconds * plug.sample_rate))], 1
    return [64], 1


def plain_checkpoint(latents, names: list[str] | None, labels, files: list[Path] | None, where: str) -> Checkpoint:
    """Latents ``[N, d]`` with names, labels (a list, or a dict of lists) and one file each (or none)."""
    from explorer.core.own_model import _latents, _names_labels, held_checkpoint

    z = _latents(latents)
    names, labels = _names_labels(len(z), names, labels)
    if files is None:  # the latents alone: no frame to show
        from explorer.modalities.nothing import WHY

        return held_checkpoint(z, ZeroField(), {"name": "none", "resolution": [1], "channels": 1}, names, labels,
                               "no decoder, no files", {"source": where, "note": WHY})
    if len(files) != len(z):
        raise ExplorerError(f"{len(files)} files for {len(z)} latents")
    plug = _file_plug(files)
    resolution, channels = _resolution(plug, files[0])
    modality = {"name": plug.name, "resolution": resolution, "channels": channels}
    if plug.name == "audio":
        modality["options"] = {"target": "waveform"}
    if plug.name == "shape":
        modality["options"] = {"narrow_band": False}  # each frame is a mesh's exact distance: decoded whole
    return held_checkpoint(z, NearestItemField(z, files, plug, tuple(resolution)), modality, names, labels,
                           "no decoder (nearest item)", {"source": where, "note": NOTE})


def read_plain(path: str | Path, files: str | Path | None = None) -> Checkpoint:
    """Latents from ``path`` (a ``.npy``, a ``.tsv``/``.csv`` or a projector log folder) with their metadata,
    and their files from a metadata column or the folder ``files``."""
    path = Path(path)
    notes: list[str] = []
    if path.is_dir():
        tensors, meta_path, notes = read_projector_config(path)
    else:
        tensors, meta_path = path, _sibling_metadata(path)
    latents = read_latents(tensors)
    meta = read_metadata(meta_path, len(latents)) if meta_path else {}
    file_list = _file_column(meta, meta_path.parent) if meta_path else None
    name_key = next((k for k in meta if k.strip().lower() in ("name", "names", "label")), None) or next(iter(meta), None)
    names = list(meta[name_key]) if name_key else None
    if name_key and name_key.strip().lower() in ("name", "names"):
        del meta[name_key]  # a name per item colours nothing
    if files is not None:
        file_list = match_files(Path(files), names, len(latents))
    if names is None and file_list is not None:
        names = [f.name for f in file_list]
    ckpt = plain_checkpoint(latents, names, meta, file_list, str(path))
    ckpt.path = path
    ckpt.train["notes"] = notes
    return ckpt
