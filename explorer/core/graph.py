"""The neighbourhood graph of the latents (Yadlin & Botchan §4.3): k-NN (exact, or approximate beyond
``ann.EXACT_UP_TO`` latents) or ε-radius, symmetric,
edges weighted by latent distance; its connected components; the smallest k (or ε) that connects it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from explorer.core.corridor import CORRIDOR_FROM, build_corridor
from explorer.errors import ExplorerError


@dataclass
class LatentGraph:
    matrix: csr_matrix
    """``[N, N]`` symmetric; entry (i, j) is the distance between latents i and j where they are joined."""
    k: int | None = None
    radius: float | None = None
    corridor: object | None = None
    """A large graph's cells (``corridor.Corridor``) that geodesic queries search within, or None."""

    def __post_init__(self) -> None:
        self.n_components, self.component = connected_components(self.matrix, directed=False)

    @property
    def connected(self) -> bool:
        return self.n_components == 1

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Each undirected edge once: ``(i, j)`` with ``i < j``."""
        coo = self.matrix.tocoo()
        keep = coo.row < coo.col
        return coo.row[keep], coo.col[keep]

    def describe(self) -> str:
        how = f"{self.k}-NN" if self.k is not None else f"radius {self.radius:.4g}"
        comps = "connected" if self.connected else f"{self.n_components} components"
        return f"{how} graph over {self.matrix.shape[0]} latents, {len(self.edges()[0])} edges, {comps}"


def _as_array(latents) -> np.ndarray:
    z = np.asarray(latents.detach().cpu() if hasattr(latents, "detach") else latents, dtype=np.float32)
    if z.ndim != 2 or len(z) < 2:
        raise ExplorerError("a neighbourhood graph needs at least two latents [N, d]")
    return z


def nearest_neighbours(latents, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other latents of each: ``(distances [N, k], indices [N, k])``, nearest first. Exact
    up to ``ann.EXACT_UP_TO`` latents (``ann.exact_neighbours``), found with an inverted-file index beyond
    (``ann.ivf_neighbours``)."""
    from explorer.core.ann import EXACT_UP_TO, exact_neighbours, ivf_neighbours

    z = _as_array(latents)
    k = min(k, len(z) - 1)
    if len(z) > EXACT_UP_TO:
        return ivf_neighbours(z, k)
    return exact_neighbours(z, k)


def _symmetric(n: int, rows: np.ndarray, cols: np.ndarray, dist: np.ndarray) -> csr_matrix:
    dist = np.maximum(dist, 1e-12)  # a zero would mean "no edge" in a sparse matrix
    m = csr_matrix((dist, (rows, cols)), shape=(n, n))
    return m.maximum(m.T).tocsr()


def knn_graph_steps(latents, k: int = 10):
    """``knn_graph`` as a generator for a worker: ``None`` now and then while a large graph is searched (a
    cancel is heard between them), then the graph."""
    from explorer.core.ann import EXACT_UP_TO, ivf_steps

    z = _as_array(latents)
    if len(z) <= EXACT_UP_TO:
        yield knn_graph(z, k)
        return
    neighbours = None
    for step in ivf_steps(z, min(k, len(z) - 1)):
        if step is None:
            yield None
        else:
            neighbours = step
    yield None
    graph = knn_graph(z, k, neighbours, corridor=False)
    yield None
    if len(z) > CORRIDOR_FROM:
        graph.corridor = build_corridor(z, graph.matrix)
    yield graph


def knn_graph(latents, k: int = 10, neighbours: tuple[np.ndarray, np.ndarray] | None = None,
              corridor: bool = True) -> LatentGraph:
    """Each latent joined to its ``k`` nearest (exact), symmetrised: i~j if either is among the other's k."""
    if k < 1:
        raise ExplorerError("k must be at least 1")
    z = _as_array(latents)
    dist, idx = neighbours if neighbours is not None else nearest_neighbours(z, k)
    dist, idx = dist[:, :k], idx[:, :k]
    rows = np.repeat(np.arange(len(z)), idx.shape[1])
    graph = LatentGraph(_symmetric(len(z), rows, idx.ravel(), dist.ravel()), k=int(idx.shape[1]))
    if corridor and len(z) > CORRIDOR_FROM:
        graph.corridor = build_corridor(z, graph.matrix)
    return graph


def radius_graph(latents, radius: float) -> LatentGraph:
    """Every pair of latents closer than ``radius`` joined (the seed's suggestion in §5.1.3)."""
    from sklearn.neighbors import NearestNeighbors

    z = _as_array(latents)
    nn = NearestNeighbors(radius=radius, algorithm="brute").fit(z)
    m = nn.radius_neighbors_graph(z, mode="distance").tocoo()
    keep = m.row != m.col
    m.row, m.col, m.data = m.row[keep], m.col[keep], m.data[keep]
    return LatentGraph(_symmetric(len(z), m.row, m.col, m.data), radius=float(radius))


def connecting_k(latents, k_max: int = 64) -> int | None:
    """The smallest k whose k-NN graph is connected (the seed's choice), or None if not even ``k_max``."""
    z = _as_array(latents)
    neighbours = nearest_neighbours(z, k_max)
    lo, hi = 1, neighbours[1].shape[1]
    if not knn_graph(z, hi, neighbours).connected:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if knn_graph(z, mid, neighbours).connected:
            hi = mid
        else:
            lo = mid + 1
    return lo


def connecting_radius(latents, k: int = 15) -> float:
    """The smallest ε whose radius graph is connected: the longest edge of the minimum spanning tree.

    The tree is taken over a k-NN graph (connected at that k) rather than all N² pairs; Euclidean
    minimum spanning trees lie within such graphs in practice (exact for N ≤ 2000, checked).
    """
    z = _as_array(latents)
    if len(z) <= 2000:
        from scipy.spatial.distance import pdist, squareform

        full = csr_matrix(np.maximum(squareform(pdist(z)), 1e-12) * (1 - np.eye(len(z))))
        return float(minimum_spanning_tree(full).max())
    kk = max(k, connecting_k(z) or k)
    return float(minimum_spanning_tree(knn_graph(z, kk).matrix).max())
