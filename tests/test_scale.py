"""The engine for many latents: the approximate k-NN index (recall against the exact search) and geodesic
queries that search a corridor (valid paths, close to the exact shortest)."""
from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from explorer.core.bench import clustered_latents


def test_the_inverted_file_index_finds_the_exact_neighbours_of_clustered_latents():
    from explorer.core.ann import exact_neighbours_of, ivf_neighbours, recall_at_k

    z = clustered_latents(20_000, d=32, clusters=200)  # overlapping clusters: a wider search than the default 8 cells
    dist, idx = ivf_neighbours(z, 10)
    assert idx.shape == (20_000, 10) and not (idx == np.arange(20_000)[:, None]).any()  # never itself
    assert (np.diff(dist, axis=1) >= 0).all()  # nearest first
    assert np.allclose(dist[:, 0], np.linalg.norm(z - z[idx[:, 0]], axis=1), rtol=1e-4, atol=1e-4)
    assert recall_at_k(z, idx, queries=300) >= 0.95
    # the exact search it is measured against agrees with a brute force of its own
    q = np.array([0, 5, 17])
    brute = np.argsort(((z[q, None] - z[None]) ** 2).sum(-1), axis=1)[:, 1:11]
    assert all(set(a) == set(b) for a, b in zip(exact_neighbours_of(z, q, 10)[1], brute))


def test_a_large_graph_uses_the_index_and_answers_geodesics_through_a_corridor(monkeypatch):
    import explorer.core.ann as ann
    import explorer.core.graph as graph_module
    from explorer.core.graph import knn_graph
    from explorer.core.paths import shortest_nodes

    monkeypatch.setattr(ann, "EXACT_UP_TO", 1000)  # as if 6 000 latents were a million
    monkeypatch.setattr(graph_module, "CORRIDOR_FROM", 1000)
    z = clustered_latents(6000, d=16, clusters=30)
    graph = knn_graph(z, 10)
    assert graph.corridor is not None
    g = np.random.default_rng(0)
    checked = 0
    for a, b in g.integers(len(z), size=(40, 2)):
        nodes = shortest_nodes(graph, int(a), int(b))
        if graph.component[a] != graph.component[b]:
            assert nodes is None
            continue
        assert nodes[0] == a and nodes[-1] == b
        steps = [graph.matrix[i, j] for i, j in zip(nodes, nodes[1:])]
        assert all(s > 0 for s in steps)  # every step is an edge of the graph
        exact = dijkstra(graph.matrix, directed=True, indices=int(a))[b]
        assert sum(steps) <= 1.25 * exact + 1e-9
        checked += 1
    assert checked >= 10


def test_a_large_graph_is_built_in_steps_a_worker_can_cancel_between(monkeypatch):
    import explorer.core.ann as ann
    import explorer.core.graph as graph_module
    from explorer.core.graph import knn_graph, knn_graph_steps

    monkeypatch.setattr(ann, "EXACT_UP_TO", 1000)
    monkeypatch.setattr(graph_module, "CORRIDOR_FROM", 1000)
    z = clustered_latents(5000, d=16, clusters=30)
    steps = list(knn_graph_steps(z, 10))
    assert steps.count(None) >= 3 and steps[-1] is not None  # heartbeats, then the graph
    whole = knn_graph(z, 10)
    assert (steps[-1].matrix != whole.matrix).nnz == 0 and steps[-1].corridor is not None
