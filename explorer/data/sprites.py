"""A synthetic image set with known continuous generating factors.

A sprite (an ellipse with a round knob, so that rotation is visible) whose position, scale,
rotation and hue vary continuously. It is rendered analytically with anti-aliased edges, at any
resolution, so the true image at any interpolated factors is known (the ground truth for the
interpolation metric of "Data Interpolation in Latent Space", section 5).
"""
from __future__ import annotations

import colorsys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split

FACTORS = {
    "x": (-0.35, 0.35),
    "y": (-0.35, 0.35),
    "scale": (0.55, 1.0),
    "rotation": (-np.pi / 2, np.pi / 2),
    "hue": (0.0, 0.8),
}


def render_sprite(factors: dict[str, float], resolution: int) -> np.ndarray:
    """RGB pixels ``[R, R, 3]`` in [0, 1] of one sprite on a black background."""
    r = resolution
    c = (np.arange(r, dtype=np.float64) + 0.5) / r * 2 - 1
    yy, xx = np.meshgrid(c, c, indexing="ij")
    px, py = xx - factors["x"], yy - factors["y"]
    cos, sin = np.cos(factors["rotation"]), np.sin(factors["rotation"])
    u, v = cos * px + sin * py, -sin * px + cos * py  # sprite frame
    s = 0.5 * factors["scale"]
    a, b = 0.75 * s, 0.38 * s
    d_body = (np.sqrt((u / a) ** 2 + (v / b) ** 2) - 1.0) * b  # approximate signed distance
    d_knob = np.sqrt((u - 0.8 * s) ** 2 + v**2) - 0.22 * s
    d = np.minimum(d_body, d_knob)
    pixel = 2.0 / r
    coverage = np.clip(0.5 - d / pixel, 0.0, 1.0)
    rgb = np.array(colorsys.hsv_to_rgb(factors["hue"], 0.85, 0.95))
    return (coverage[..., None] * rgb).astype(np.float32)


def sample_factors(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in FACTORS.items()}


def sprites_set(n: int = 2000, resolution: int = 32, seed: int = 0, test_fraction: float = 0.1) -> SignalSet:
    from explorer.modalities.image import ImageModality

    factors = sample_factors(n, seed)
    pixels = np.stack([render_sprite({k: float(v[i]) for k, v in factors.items()}, resolution) for i in range(n)])
    names = [f"sprite-{i:05d}" for i in range(n)]
    return SignalSet(
        modality="image",
        values=ImageModality.to_field(pixels),
        resolution=(resolution, resolution),
        names=names,
        labels={k: [float(x) for x in v] for k, v in factors.items()},
        is_test=hash_split(names, test_fraction),
        source={"spec": "sprites", "max_items": n, "resolution": resolution, "seed": seed},
    )


def write_sprites(out: Path, n: int = 2000, resolution: int = 32, seed: int = 0) -> Iterator[int]:
    """The files of ``sprites_set(n, resolution, seed)`` as a folder (``data build sprites``), one sprite rendered
    and written at a time: the memory of one image whatever ``n``, a Ctrl-C answered between two files, and the
    same PNG files and ``labels.csv`` as ``export_folder.write_image_folder`` writes from the whole set. Yields
    the count written so far."""
    import torch

    from explorer.data.folders import require_empty_folder, write_labels_csv
    from explorer.modalities.image import ImageModality

    out = require_empty_folder(out)
    image = ImageModality()
    factors = sample_factors(n, seed)
    names = [f"sprite-{i:05d}.png" for i in range(n)]
    for i, name in enumerate(names):
        field = ImageModality.to_field(render_sprite({k: float(v[i]) for k, v in factors.items()}, resolution)[None])[0]
        image.write(out / name, image.to_signal(torch.from_numpy(field), (resolution, resolution)))
        yield i + 1
    keys = list(factors)
    write_labels_csv(out, ["file", *keys], [[name, *(float(factors[k][i]) for k in keys)] for i, name in enumerate(names)])

