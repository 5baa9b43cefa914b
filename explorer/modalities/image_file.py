"""Reading a picture file as what it is: 8-bit or 16-bit, grey or colour; one that is too large to
decode safely (a decompression bomb: a small file that unpacks to gigabytes) refused before decoding.

Every picture the project reads from a user (a folder to train on, a file to embed, a painted mask)
goes through ``read_picture``, so each failure is one ``ExplorerError`` naming the file.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError
from explorer.io.memory import check_fits

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
"""Extensions of the files taken as pictures (a folder to train on, a file to embed)."""
GREY_MODES = ("1", "L", "LA", "I", "F")
"""Pillow modes of one grey channel (and any ``I;16...``: 16-bit grey PNGs)."""
BYTES_PER_PIXEL = 16
"""About what decoding costs per pixel at most: the decoded bands, their float copy, the resized image."""


def is_deep(mode: str) -> bool:
    """Pixels wider than 8 bits (16-bit grey PNGs open as ``I;16`` or ``I``), read as floats."""
    return mode in ("I", "F") or mode.startswith("I;16")


@contextmanager
def open_picture(path: str | Path, label: str = ""):
    """The image at ``path``, opened but not decoded; ``label`` (e.g. ``"--mask "``) starts its errors.
    A file larger than Pillow's pixel limit (``Image.MAX_IMAGE_PIXELS``) is refused without decoding
    it, and one that would not fit in the free memory is refused with both figures."""
    from PIL import Image

    try:
        with warnings.catch_warnings():  # Pillow only warns between its limit and twice it
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = Image.MAX_IMAGE_PIXELS or 0
        raise ExplorerError(f"{label}{path} has more than {limit / 1e6:.0f} million pixels: too large to read safely "
                            "(a decompression bomb?); shrink it or remove it") from None
    except Image.UnidentifiedImageError as e:  # not a picture at all, or a picture's name on other contents
        raise ExplorerError(f"{label}{path} is not a picture that can be read: its contents are in none of the "
                            "image formats Pillow knows (PNG, JPEG, BMP, GIF, TIFF, WebP, ...)") from e
    except Exception as e:  # Pillow raises many types for bad files
        raise ExplorerError(f"{label}{path} is not a readable image ({e}); remove it or fix it") from e
    with img:
        w, h = img.size
        check_fits(w * h * BYTES_PER_PIXEL, f"reading {path} ({w} x {h} pixels)")
        yield img


def picture_mode(path: str | Path, label: str = "") -> str:
    """The Pillow mode of the picture at ``path`` (its header only)."""
    with open_picture(path, label) as img:
        return img.mode


def is_grey_mode(mode: str) -> bool:
    return mode in GREY_MODES or mode.startswith("I;16")


def read_picture(path: str | Path, grey: bool, size: tuple[int, int], square: bool = False,
                 resample: str = "lanczos", label: str = "") -> np.ndarray:
    """Pixels ``[H, W, C]`` in [0, 1] (``C`` 1 when ``grey``, else 3), resized to ``size = (W, H)``;
    ``square``: centre-cropped to a square first. 8-bit files are resized as 8-bit; 16-bit grey files
    are scaled by their depth (65535 is white) and resized as floats (converted to 8-bit by Pillow,
    every value above 255 would be white)."""
    from PIL import Image

    method = {"lanczos": Image.Resampling.LANCZOS, "nearest": Image.Resampling.NEAREST}[resample]
    with open_picture(path, label) as img:
        try:
            img.load()
            deep = is_deep(img.mode)
            img = _as_float(img) if deep else img.convert("L" if grey else "RGB")
        except ExplorerError:
            raise
        except Exception as e:  # truncated or damaged data: OSError, zlib.error, SyntaxError, ...
            raise ExplorerError(f"{label}{path} is not a readable image ({e.__class__.__name__}); "
                                "remove it or fix it") from e
    if square:
        w, h = img.size
        side = min(w, h)
        img = img.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    img = img.resize(size, method)
    arr = np.asarray(img, dtype=np.float32)
    arr = np.clip(arr, 0.0, 1.0) if deep else arr / 255.0
    if arr.ndim == 2:  # one band: grey
        arr = arr[..., None]
    if not grey and arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def _as_float(img):
    """A 16- or 32-bit grey image as a float image (mode ``F``) in [0, 1], scaled by its bit depth."""
    from PIL import Image

    arr = np.asarray(img)
    if img.mode == "F":
        values = arr.astype(np.float32)
    else:
        depth = 16 if img.mode.startswith("I;16") or (arr.size and int(arr.max()) <= 65535) else 32
        values = np.clip(arr.astype(np.float64), 0, None) / (2.0 ** depth - 1)
    return Image.fromarray(np.ascontiguousarray(values, dtype=np.float32))  # float32 [H, W]: mode F
