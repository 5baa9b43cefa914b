"""Which part of a signal is hidden, from what a person writes or draws: a preset or painted region of a
picture, a time range of a sound, a half-space of a shape (each plug's ``hidden_mask`` picks one)."""
from __future__ import annotations

import numpy as np

from explorer.errors import ExplorerError

PRESET_MASKS = ("left-half", "right-half", "top-half", "bottom-half", "centre")


def preset_image_mask(name: str, h: int, w: int) -> np.ndarray:
    """``[H, W]`` bool, True where the signal is hidden."""
    m = np.zeros((h, w), bool)
    if name == "left-half":
        m[:, : w // 2] = True
    elif name == "right-half":
        m[:, w // 2 :] = True
    elif name == "top-half":
        m[: h // 2] = True
    elif name == "bottom-half":
        m[h // 2 :] = True
    elif name == "centre":
        m[h // 4 : h - h // 4, w // 4 : w - w // 4] = True
    else:
        raise ExplorerError(f"unknown mask {name!r}; use an image file or one of {', '.join(PRESET_MASKS)}")
    return m


def image_mask(spec: str, h: int, w: int) -> np.ndarray:
    """A preset name, or an image file (white where hidden) resized to the signal's grid."""
    if spec in PRESET_MASKS:
        return preset_image_mask(spec, h, w)
    from pathlib import Path

    if not Path(spec).is_file():
        raise ExplorerError(f"--mask {spec}: neither a mask image nor one of {', '.join(PRESET_MASKS)} (unknown mask)")
    from explorer.modalities.image_file import read_picture

    g = read_picture(spec, grey=True, size=(w, h), resample="nearest", label="--mask ")[..., 0]
    return g > 0.5


def time_mask(spec: str, resolution: tuple[int, ...], seconds: float = 1.0) -> np.ndarray:
    """``START:END`` in seconds, hidden; on the field's grid (samples, or spectrogram frames)."""
    try:
        start, end = (float(x) for x in spec.split(":"))
    except ValueError as e:
        raise ExplorerError(f"--mask {spec!r}: give a time range START:END in seconds, e.g. 0.5:1") from e
    if len(resolution) == 1:
        t = (np.arange(resolution[0]) + 0.5) / resolution[0] * seconds
        return (t >= start) & (t < end)
    f, frames = resolution
    t = np.arange(frames) / (frames - 1) * seconds
    return np.broadcast_to((t >= start) & (t < end), (f, frames)).reshape(-1).copy()


def half_space_mask(spec: str, points: np.ndarray) -> np.ndarray:
    """``x>0``, ``y<0.2`` ...: the hidden half-space of a shape's sample points."""
    import re

    m = re.fullmatch(r"\s*([xyz])\s*([<>])\s*(-?[0-9.]+)\s*", spec)
    if not m:
        raise ExplorerError(f"--mask {spec!r}: give a half-space such as x>0 or z<-0.2")
    axis = "xyz".index(m.group(1))
    v = float(m.group(3))
    return points[:, axis] > v if m.group(2) == ">" else points[:, axis] < v
