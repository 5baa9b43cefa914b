"""Paths between latents (Yadlin & Botchan §4.3, GEM §4.4): the straight line, and the geodesic through
the data — Dijkstra on the neighbourhood graph, piecewise linear between consecutive nodes — both
resampled by arc length into ``frames`` evenly spaced latents."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from explorer.core.graph import LatentGraph
from explorer.errors import ExplorerError

METHODS = ("lerp", "geodesic")


@dataclass
class LatentPath:
    latents: np.ndarray
    """``[T, d]`` frames, evenly spaced by arc length, first and last at the ends."""
    method: str
    """The method used: "lerp" or "geodesic" (after a fallback, what was actually done)."""
    nodes: list[int] = field(default_factory=list)
    """Training items the path passes through, ends included."""
    length: float = 0.0
    """Length in latent space."""
    note: str = ""
    """Why the path is not what was asked for (e.g. the ends lie in different components)."""


def resample_polyline(points: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` points evenly spaced by arc length along the polyline ``points [M, d]``."""
    points = np.asarray(points, dtype=np.float64)
    if frames < 2:
        raise ExplorerError("a path needs at least 2 frames")
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] == 0:
        return np.repeat(points[:1], frames, axis=0).astype(np.float32)
    s = np.linspace(0.0, cum[-1], frames)
    j = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    t = np.where(seg[j] > 0, (s - cum[j]) / np.where(seg[j] > 0, seg[j], 1), 0.0)
    out = points[j] + t[:, None] * (points[j + 1] - points[j])
    out[-1] = points[-1]
    return out.astype(np.float32)


def end_latent(latents: np.ndarray, end) -> np.ndarray:
    """A path end is a training item's index, or a latent of its own (an embedded signal, a completion)."""
    return np.asarray(latents[end] if np.ndim(end) == 0 else end, dtype=np.float32).reshape(-1)


def nearest_item(latents: np.ndarray, end) -> int:
    """The end itself if it is an item, else the training item nearest to its latent."""
    if np.ndim(end) == 0:
        return int(end)
    return int(np.argmin(((np.asarray(latents) - end_latent(latents, end)) ** 2).sum(1)))


def lerp_path(latents: np.ndarray, a, b, frames: int = 64) -> LatentPath:
    z = np.asarray(latents, dtype=np.float32)
    pts = np.stack([end_latent(z, a), end_latent(z, b)])
    nodes = [int(e) for e in (a, b) if np.ndim(e) == 0]
    return LatentPath(resample_polyline(pts, frames), "lerp", nodes, float(np.linalg.norm(pts[1] - pts[0])))


def shortest_nodes(graph: LatentGraph, a: int, b: int) -> list[int] | None:
    """Item indices of the shortest graph path from a to b (Dijkstra), or None if b is unreachable. A graph
    with a corridor (a large one) is searched between the two items' cells first (``core.corridor``)."""
    if graph.component[a] != graph.component[b]:
        return None
    from explorer.core.corridor import corridor_path, walk_back

    if graph.corridor is not None:
        nodes = corridor_path(graph.matrix, graph.corridor, a, b)
        if nodes is not None:
            return nodes
    # the matrix is symmetric (every graph is built so): as a directed graph it needs no symmetrised copy
    _, pred = dijkstra(graph.matrix, directed=True, indices=a, return_predecessors=True)
    return walk_back(pred, a, b)


def geodesic_path(latents: np.ndarray, graph: LatentGraph, a, b, frames: int = 64) -> LatentPath:
    """Through the data along the graph; when a and b are not connected, the straight line, said so.
    An end that is a latent of its own joins the graph at its nearest training item."""
    z = np.asarray(latents, dtype=np.float32)
    na, nb = nearest_item(z, a), nearest_item(z, b)
    nodes = shortest_nodes(graph, na, nb)
    if nodes is None:
        path = lerp_path(z, a, b, frames)
        path.note = (f"items {na} and {nb} lie in different components of the {graph.describe()}; "
                     "showing the straight line instead (raise k to connect them)")
        return path
    pts = [end_latent(z, a)] * (np.ndim(a) > 0) + list(z[nodes]) + [end_latent(z, b)] * (np.ndim(b) > 0)
    pts = np.stack(pts)
    length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
    return LatentPath(resample_polyline(pts, frames), "geodesic", nodes, length)


def make_path(method: str, latents: np.ndarray, a, b, frames: int = 64,
              graph: LatentGraph | None = None) -> LatentPath:
    if method == "lerp":
        return lerp_path(latents, a, b, frames)
    if method == "geodesic":
        if graph is None:
            raise ExplorerError("a geodesic path needs the neighbourhood graph")
        return geodesic_path(latents, graph, a, b, frames)
    raise ExplorerError(f"unknown path method {method!r}; choose one of {', '.join(METHODS)}")
