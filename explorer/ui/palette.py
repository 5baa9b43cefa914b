"""Colour-blind-safe colours for labels: Okabe-Ito, then Paul Tol's muted scheme; viridis for numbers."""
from __future__ import annotations

import numpy as np

CATEGORICAL = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",  # Okabe-Ito
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",  # Tol muted
]
OTHER = "#BBBBBB"


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def label_colours(values: list) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """``(rgb [N, 3] uint8, legend [(text, hex)])`` for a label's values.

    Categories get distinct colours (the most frequent first; beyond the palette, grey "other");
    numbers a viridis ramp between their minimum and maximum.
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
    order = sorted(counts, key=lambda c: (-counts[c], str(c)))
    colour = {c: CATEGORICAL[i] if i < len(CATEGORICAL) else OTHER for i, c in enumerate(order)}
    rgb = np.array([_hex(colour[v]) for v in values], dtype=np.uint8).reshape(-1, 3)
    legend = [(str(c), colour[c]) for c in order[: len(CATEGORICAL)]]
    if len(order) > len(CATEGORICAL):
        legend.append((f"{len(order) - len(CATEGORICAL)} more", OTHER))
    return rgb, legend
