"""The drawing behind the plugs' pictures of signals (RGB arrays in [0, 1], no Qt): pixels as RGB,
sounds as log spectrograms in viridis (low frequencies at the bottom). Shapes are drawn by
``render.shade_sdf``. Each plug's ``decoded_picture``, ``item_picture`` and ``observed_picture`` use
these, so a decoded latent, a training item and a file look alike side by side (hover thumbnails,
the contact sheets of model cards)."""
from __future__ import annotations

import numpy as np


def rgb(pixels: np.ndarray) -> np.ndarray:
    """``[H, W]``, ``[H, W, 1]`` or ``[H, W, 3]`` -> ``[H, W, 3]`` clipped to [0, 1]."""
    p = np.clip(np.asarray(pixels, np.float32), 0, 1)
    if p.ndim == 2:
        p = p[..., None]
    return np.repeat(p, 3, axis=-1) if p.shape[-1] == 1 else p


VIRIDIS = np.array([[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
                    [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]], np.float32) / 255
"""Viridis at ten stops (perceptually even, colour-blind safe): quiet is dark blue, loud is yellow."""


def viridis(t: np.ndarray) -> np.ndarray:
    """Values in [0, 1] ``[...]`` -> colours ``[..., 3]``."""
    x = np.clip(np.asarray(t, np.float32), 0, 1) * (len(VIRIDIS) - 1)
    i = np.minimum(x.astype(int), len(VIRIDIS) - 2)
    f = (x - i)[..., None]
    return VIRIDIS[i] * (1 - f) + VIRIDIS[i + 1] * f


def spectrogram_picture(spec: np.ndarray) -> np.ndarray:
    """A log-magnitude spectrogram ``[F, frames]`` as a picture: twice as wide as high, frequencies on a
    logarithmic scale (where a note's harmonics are evenly spaced) with the lowest at the bottom,
    loudness in viridis. A linear axis put every harmonic of a note in the bottom tenth of a tall grey strip."""
    spec = np.asarray(spec, np.float32)
    f, frames = spec.shape
    rows = max(16, frames // 2)
    bins = np.geomspace(1, f - 1, rows)  # skip the DC bin; log-spaced up to the highest
    lo_bin = np.floor(bins).astype(int)
    w = (bins - lo_bin)[:, None]
    log_f = spec[lo_bin] * (1 - w) + spec[np.minimum(lo_bin + 1, f - 1)] * w
    lo, hi = np.percentile(log_f, 5), np.percentile(log_f, 99.5)
    return viridis(((log_f - lo) / max(hi - lo, 1e-6))[::-1])


def log_spectrogram_of(wave: np.ndarray) -> np.ndarray:
    import torch

    from explorer.modalities.spectrogram import log_spectrogram

    return log_spectrogram(torch.from_numpy(np.asarray(wave, np.float32).reshape(1, -1)), 512, 128)[0].numpy()
