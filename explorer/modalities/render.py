"""A software picture of an SDF (no OpenGL): for exporting shape paths as GIF, MP4 or PNG."""
from __future__ import annotations

import numpy as np


def shade_sdf(sdf: np.ndarray, size: int = 256, light=(0.4, 0.5, 0.77)) -> np.ndarray:
    """RGB ``[size, size, 3]`` in [0, 1]: the surface seen from the front, lit by a directional light.

    The first grid axis runs away from the viewer; the depth of the first inside cell along each
    ray gives the surface, its gradient the normal.
    """
    r = sdf.shape[0]
    inside = sdf < 0
    hit = inside.any(axis=0)
    first = np.where(hit, inside.argmax(axis=0), r - 1).astype(np.float64)
    # sub-cell depth: where the SDF crosses zero between the cell before and the first inside cell
    i0 = np.clip(first - 1, 0, r - 1).astype(int)
    j, k = np.indices(first.shape)
    a, b = sdf[i0, j, k], sdf[first.astype(int), j, k]
    depth = np.where(hit & (first > 0), i0 + a / np.where(a - b != 0, a - b, 1), first) / (r - 1)
    gy, gx = np.gradient(depth * r)
    normal = np.stack([-gx, -gy, -np.ones_like(depth)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    lamb = np.clip(-(normal @ np.asarray(light) / np.linalg.norm(light)), 0, 1)
    base = np.array([0.55, 0.68, 0.88])
    colour = (0.25 + 0.75 * lamb)[..., None] * base
    img = np.where(hit[..., None], colour, 1.0)[::-1]  # y up
    from PIL import Image

    pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(pil, dtype=np.float32) / 255.0
