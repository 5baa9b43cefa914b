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


def sprite_at(factors: dict[str, np.ndarray], i: int, resolution: int) -> np.ndarray:
    """The pixels of the ``i``-th sprite of ``sample_factors``' draw."""
    return render_sprite({k: float(v[i]) for k, v in factors.items()}, resolution)


def sprite_names(n: int) -> list[str]:
    return [f"sprite-{i:05d}" for i in range(n)]


def sprites_set(n: int = 2000, resolution: int = 32, seed: int = 0, test_fraction: float = 0.1) -> SignalSet:
    from explorer.modalities.image import ImageModality

    factors = sample_factors(n, seed)
    pixels = np.stack([sprite_at(factors, i, resolution) for i in range(n)])
    names = sprite_names(n)
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
    and written at a time (``export_folder.write_images``): the memory of one image whatever ``n``, a Ctrl-C
    answered between two files, and the same files as the whole set exported. Yields the count written so far."""
    from explorer.data.export_folder import write_images
    from explorer.modalities.image import ImageModality

    factors = sample_factors(n, seed)
    fields = (ImageModality.to_field(sprite_at(factors, i, resolution)[None])[0] for i in range(n))
    return write_images(out, sprite_names(n), fields, (resolution, resolution),
                        {k: [float(x) for x in v] for k, v in factors.items()})
