"""Geodesic queries on graphs too large for a Dijkstra over every node: search a corridor.

The latents are grouped into about ``sqrt(N)`` cells by k-means, and each cell is split into the pieces that
its own edges keep connected; two pieces are joined in a coarse graph where any edge of the k-NN graph joins
their members, weighted by the distance between their centres. A query finds the shortest coarse path between
the two items' pieces, then runs Dijkstra on the k-NN graph restricted to the members of those pieces and of
the pieces next to them. A path always exists there (consecutive pieces are joined, each piece is connected),
but it can be longer than the shortest path through the whole graph: ``latent-explorer bench`` measures by
how much against the exact search (``bench --only scale`` on 1 000 000 clustered latents: 4.6 % longer on
average over 8 pairs, 17.9 % at most; without the neighbouring pieces, a probe of 40 queries was ten times
faster but 44 % longer).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

CORRIDOR_FROM = 200_000
"""Nodes from which geodesic queries search a corridor instead of the whole graph."""


def walk_back(pred: np.ndarray, a: int, b: int) -> list[int]:
    """The nodes from ``a`` to ``b`` along Dijkstra's predecessors ``pred`` (a search from ``a`` that reached ``b``)."""
    nodes = [int(b)]
    while nodes[-1] != a:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


@dataclass
class Corridor:
    cells: np.ndarray
    """``[N]`` each node's piece: the nodes of one k-means cell that its own edges connect."""
    coarse: csr_matrix
    """``[C, C]``: centre distance between pieces that a k-NN edge joins."""
    order: np.ndarray
    """Nodes sorted by piece; the members of piece c are ``order[starts[c]:starts[c + 1]]``."""
    starts: np.ndarray

    def members(self, cells) -> np.ndarray:
        return np.sort(np.concatenate([self.order[self.starts[c]:self.starts[c + 1]] for c in cells]))


def build_corridor(latents: np.ndarray, matrix: csr_matrix, seed: int = 0) -> Corridor:
    """Cells of ``latents`` by k-means, each split into the pieces its own edges keep connected (so that a walk
    between two joined pieces never needs to leave them), and the coarse graph over those pieces."""
    import torch

    from scipy.sparse.csgraph import connected_components

    from explorer.core.ann import _nearest_centre, kmeans

    x = torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32))
    n = len(x)
    count = max(2, int(math.sqrt(n)))
    sample = x[torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: 32 * count]]
    cells = _nearest_centre(x, kmeans(sample, count, seed=seed)).numpy()
    coo = matrix.tocoo()
    inside = cells[coo.row] == cells[coo.col]
    intra = csr_matrix((coo.data[inside], (coo.row[inside], coo.col[inside])), shape=matrix.shape)
    pieces, piece = connected_components(intra, directed=True, connection="weak")  # symmetric: weak = strong
    sizes = np.bincount(piece, minlength=pieces)
    centres = torch.zeros(pieces, x.shape[1]).index_add_(0, torch.from_numpy(piece), x) / torch.from_numpy(sizes)[:, None]
    across = ~inside
    pairs = np.unique(np.stack([piece[coo.row[across]], piece[coo.col[across]]], 1), axis=0)
    c = centres.numpy()
    w = np.maximum(np.linalg.norm(c[pairs[:, 0]] - c[pairs[:, 1]], axis=1), 1e-12)
    coarse = csr_matrix((w, (pairs[:, 0], pairs[:, 1])), shape=(pieces, pieces))
    order = np.argsort(piece, kind="stable")
    starts = np.zeros(pieces + 1, dtype=np.int64)
    starts[1:] = np.cumsum(sizes)
    return Corridor(piece, coarse.maximum(coarse.T).tocsr(), order, starts)


def corridor_path(matrix: csr_matrix, corridor: Corridor, a: int, b: int, widen: bool = True) -> list[int] | None:
    """Nodes of the shortest path from ``a`` to ``b`` through the pieces of the shortest coarse path between
    theirs (``widen``: and the pieces next to those), or None where no coarse path joins them."""
    ca, cb = int(corridor.cells[a]), int(corridor.cells[b])
    _, pred = dijkstra(corridor.coarse, directed=True, indices=ca, return_predecessors=True)  # symmetric already
    if ca != cb and pred[cb] < 0:
        return None
    path = walk_back(pred, ca, cb)
    cells = set(path)
    if widen:
        for c in path:
            cells.update(corridor.coarse.indices[corridor.coarse.indptr[c]:corridor.coarse.indptr[c + 1]].tolist())
    nodes = corridor.members(sorted(cells))
    sub = matrix[nodes][:, nodes]
    la, lb = np.searchsorted(nodes, [a, b])
    dist, sub_pred = dijkstra(sub, directed=True, indices=int(la), return_predecessors=True)
    if not np.isfinite(dist[lb]):  # cannot happen: consecutive pieces are joined, each piece connected
        return None
    return [int(nodes[i]) for i in walk_back(sub_pred, int(la), int(lb))]
