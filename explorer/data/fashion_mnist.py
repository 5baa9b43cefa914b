"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package (IDX files, official split)."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet
from explorer.errors import ExplorerError

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def fashion_mnist_dir() -> Path:
    return Path(os.environ.get("LATENT_EXPLORER_FASHION_MNIST", DEBIAN_DIR))


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic, dims, then big-endian data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise ExplorerError(f"could not read IDX file {path}: {e}") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ExplorerError(f"{path} is not an IDX file")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise ExplorerError(f"{path}: unknown IDX data type 0x{data[2]:02x}")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=dtypes[data[2]], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ExplorerError(f"{path} is truncated: expected {int(np.prod(dims))} values, found {arr.size}")
    return arr.reshape(dims)


def load_fashion_mnist(max_items: int | None = None, max_test: int | None = None) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Pixels ``[N, 28, 28, 1]`` in [0, 1], names, class names, held-out flags (official test split)."""
    root = fashion_mnist_dir()
    if not (root / "train-images-idx3-ubyte.gz").exists():
        raise ExplorerError(
            f"Fashion-MNIST not found in {root}; install it with 'apt-get install dataset-fashion-mnist'"
        )
    parts = []
    for split, limit in (("train", max_items), ("t10k", max_test)):
        images = read_idx(root / f"{split}-images-idx3-ubyte.gz")
        labels = read_idx(root / f"{split}-labels-idx1-ubyte.gz")
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        parts.append((split, images, labels))
    pixels = np.concatenate([p[1] for p in parts]).astype(np.float32)[..., None] / 255.0
    names = [f"{'test' if s == 't10k' else s}-{i:05d}" for s, imgs, _ in parts for i in range(len(imgs))]
    classes = [CLASSES[int(c)] for _, _, lab in parts for c in lab]
    is_test = np.concatenate([np.full(len(p[1]), p[0] == "t10k") for p in parts])
    return pixels, names, classes, is_test


def fashion_mnist_set(max_items: int | None = None, max_test: int | None = None) -> SignalSet:
    from explorer.modalities.image import ImageModality

    pixels, names, classes, is_test = load_fashion_mnist(max_items, max_test)
    return SignalSet(
        modality="image",
        values=ImageModality.to_field(pixels),
        resolution=(28, 28),
        names=names,
        labels={"class": classes},
        is_test=is_test,
        source={"spec": "fashion-mnist", "max_items": max_items, "max_test": max_test},
    )
