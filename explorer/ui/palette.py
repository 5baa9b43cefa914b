"""Colours for labels, apart from the paths' colours: ten distinct hues from the Okabe-Ito and Paul Tol
schemes (colour-blind safe), each category's fixed by its place in the sorted values, so the same labels
look the same in every checkpoint; viridis for numbers."""
from __future__ import annotations

import numpy as np

PATH_COLOURS = {"lerp": "#D55E00", "geodesic": "#0072B2", "walk": "#009E73"}
"""Okabe-Ito vermillion, blue and bluish green: no label uses them."""
CATEGORICAL = [
    "#E69F00", "#56B4E9", "#F0E442", "#CC79A7", "#000000",  # Okabe-Ito, less the paths' three
    "#332288", "#117733", "#882255", "#999933", "#AA4499",  # Tol muted, less the near twins of those above
]
OTHER = "#BBBBBB"


def _natural(value) -> tuple:
    """Numbers by value, then text alphabetically ("2" before "10")."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def label_colours(values: list) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """``(rgb [N, 3] uint8, legend [(text, hex)])`` for a label's values.

    Categories get distinct colours in sorted order (beyond the palette, the rarest share grey "other");
    the legend lists them in that order. Numbers get a viridis ramp between their minimum and maximum.
    """
    if values and all(isinstance(v, (int, float)) for v in values) and len(set(values)) > len(CATEGORICAL):
        from pyqtgraph import colormap

        v = np.asarray(values, dtype=np.float64)
        lo, hi = float(v.min()), float(v.max())
        t = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
        cmap = colormap.get("viridis")
        rgb = (cmap.map(t, mode="float")[:, :3] * 255).astype(np.uint8)
        stops = [(f"{lo + f * (hi - lo):.3g}", "#%02X%02X%02X" % tuple(int(c * 255) for c in cmap.map([f], mode="float")[0][:3]))
                 for f in (0.0, 0.5, 1.0)]
        return rgb, stops
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    kept = set(sorted(counts, key=lambda c: (-counts[c], _natural(c)))[: len(CATEGORICAL)])
    order = sorted(kept, key=_natural)
    colour = {c: CATEGORICAL[i] for i, c in enumerate(order)}
    table = {c: _hex(h) for c, h in colour.items()}  # each colour parsed once, not once per point
    other = _hex(OTHER)
    rgb = np.array([table.get(v, other) for v in values], dtype=np.uint8).reshape(-1, 3)
    legend = [(str(c), colour[c]) for c in order]
    if len(counts) > len(kept):
        legend.append((f"{len(counts) - len(kept)} more", OTHER))
    return rgb, legend
