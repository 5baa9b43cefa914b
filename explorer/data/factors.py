"""Ground truth between items of datasets with known generating factors (sprites, superquadrics).

Yadlin & Botchan (§6.2.2) propose comparing each decoded frame of an interpolation with the true
signal at the corresponding point of a "perfect" interpolation. With known factors the natural
perfect interpolation is linear in factor space; ``truth_frames`` renders it as field values on
the modality's grid, in the same units as decoded frames.
"""
from __future__ import annotations

import numpy as np

from explorer.errors import ExplorerError


def has_factors(source: dict) -> bool:
    return source.get("spec") in ("sprites", "superquadrics")


def truth_frames(source: dict, labels: dict, a: int, b: int, frames: int, resolution: tuple[int, ...],
                 points: np.ndarray | None = None) -> np.ndarray:
    """``[T, P, C]`` true field values at factors interpolated linearly from item ``a`` to item ``b``:
    on the modality's grid of ``resolution``, or for shapes at ``points [P, 3]`` where given."""
    spec = source.get("spec")
    if not has_factors(source):
        raise ExplorerError(f"the data {spec!r} has no known generating factors; ground truth needs sprites or superquadrics")
    keys = {"sprites": ("x", "y", "scale", "rotation", "hue"), "superquadrics": ("a", "b", "c", "e1", "e2")}[spec]
    fa = np.array([labels[k][a] for k in keys], dtype=np.float64)
    fb = np.array([labels[k][b] for k in keys], dtype=np.float64)
    out = []
    for t in np.linspace(0.0, 1.0, frames):
        f = dict(zip(keys, (1 - t) * fa + t * fb))
        if spec == "sprites":
            from explorer.data.sprites import render_sprite
            from explorer.modalities.image import ImageModality

            out.append(ImageModality.to_field(render_sprite(f, int(resolution[0]))))
        else:
            from explorer.modalities.sdf import grid_coords, superquadric_sdf

            pts = grid_coords(int(resolution[0])).numpy() if points is None else points
            out.append(superquadric_sdf(pts, (f["a"], f["b"], f["c"]), f["e1"], f["e2"])[:, None])
    return np.stack(out).astype(np.float32)
