"""k nearest neighbours of every latent when there are too many for the exact search: an inverted-file
index (IVF, as in faiss's ``IndexIVFFlat``) written on torch's matrix products, and its recall measured
against the exact search on a sample.

The latents are split into ``lists`` cells by k-means. Each cell's members are compared, in one matrix
product, with the members of the ``probes`` cells whose centres are nearest to the cell's own centre; the
k nearest of those are a point's neighbours. With cells of a few hundred points and a few dozen probes,
each point is compared with a few thousand candidates instead of N.
"""
from __future__ import annotations

import math
import numpy as np
import torch

EXACT_UP_TO = 50_000
"""Latents up to which the graph's neighbours are found exactly (brute force); beyond, with ``ivf_neighbours``."""


def _sq_dist(a: torch.Tensor, b: torch.Tensor, a2: torch.Tensor | None = None, b2: torch.Tensor | None = None) -> torch.Tensor:
    """``[len(a), len(b)]`` squared distances by one matrix product (``a2``, ``b2``: the rows' squared norms)."""
    a2 = (a * a).sum(1) if a2 is None else a2
    b2 = (b * b).sum(1) if b2 is None else b2
    return torch.addmm(b2[None, :], a, b.T, alpha=-2).add_(a2[:, None]).clamp_min_(0)


def _nearest_centre(x: torch.Tensor, centres: torch.Tensor, chunk: int = 16_384) -> torch.Tensor:
    """Each row's nearest centre: ``argmin |c|^2 - 2 x.c`` (``|x|^2`` does not change which), in bfloat16 where
    that is fast (a cell assignment a rounding error moves to the next-nearest cell costs nothing but time)."""
    from explorer.models.precision import resolve_precision

    fast = resolve_precision("auto", x.device) == "bf16"
    c = centres.to(torch.bfloat16) if fast else centres
    c2 = (centres * centres).sum(1).to(c.dtype)
    out = []
    for i in range(0, len(x), chunk):
        part = x[i:i + chunk].to(c.dtype)
        out.append(torch.addmm(c2[None, :], part, c.T, alpha=-2).argmin(1))
    return torch.cat(out)


def kmeans(x: torch.Tensor, k: int, iterations: int = 8, seed: int = 0) -> torch.Tensor:
    """``[k, d]`` centres by Lloyd's iterations from ``k`` random points (``kmeans_steps`` to the end)."""
    for last in kmeans_steps(x, k, iterations, seed):
        pass
    return last


def kmeans_steps(x: torch.Tensor, k: int, iterations: int = 8, seed: int = 0):
    """Lloyd's iterations from ``k`` random points, ``None`` after each; then the ``[k, d]`` centres. An emptied
    cell takes a random point."""
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randperm(len(x), generator=g)[:k]].clone()
    for _ in range(iterations):
        yield None
        assign = _nearest_centre(x, centres)
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).float()
        empty = counts == 0
        centres = sums / counts.clamp_min(1)[:, None]
        if empty.any():
            centres[empty] = x[torch.randint(len(x), (int(empty.sum()),), generator=g)]
    yield centres


def ivf_neighbours(latents: np.ndarray, k: int, **options) -> tuple[np.ndarray, np.ndarray]:
    """``ivf_steps`` to the end."""
    for last in ivf_steps(latents, k, **options):
        pass
    return last


def ivf_steps(latents: np.ndarray, k: int, lists: int | None = None, probes: int | None = None,
              target_recall: float = 0.97, seed: int = 0, every: int = 64):
    """Approximately the ``k`` nearest other latents of each: ``(distances [N, k], indices [N, k])``, nearest
    first. ``lists``: cells (default ``4 sqrt(N)``); ``probes``: cells searched for each cell's members —
    by default the fewest that hold ``target_recall`` of the true neighbours of 256 sample latents (found
    exactly), so that overlapping clusters get a wider search than separate ones. A generator: ``None``
    after every ``every`` cells (a worker hears a cancel between them), then the result."""
    x = torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32))
    n = len(x)
    k = min(k, n - 1)
    lists = max(1, min(lists or int(4 * math.sqrt(n)), n // 8 or 1))
    gen = torch.Generator().manual_seed(seed)
    sample = x[torch.randperm(n, generator=gen)[: 32 * lists]]
    for centres in kmeans_steps(sample, lists, seed=seed):
        if centres is None:
            yield None
    assign = _nearest_centre(x, centres)
    yield None
    order = torch.argsort(assign, stable=True)
    counts = torch.bincount(assign, minlength=lists)
    starts = torch.zeros(lists + 1, dtype=torch.long)
    starts[1:] = torch.cumsum(counts, 0)
    nearest_cells = _sq_dist(centres, centres).argsort(dim=1)  # [lists, lists], each cell itself first
    yield None
    if probes is None:  # at most about 20 000 candidates a latent: a structureless cloud is not searched for ever
        probes = probes_for(x, assign, nearest_cells, k, target_recall, gen, most=max(8, int(20_000 * lists / n)))
    probe = nearest_cells[:, : min(probes, lists)]
    xs = x[order]  # points grouped by cell
    norms = (xs * xs).sum(1)
    out_d = torch.empty(n, k)
    out_i = torch.empty(n, k, dtype=torch.long)
    for c in range(lists):
        a, b = int(starts[c]), int(starts[c + 1])
        if a == b:
            continue
        cand = torch.cat([torch.arange(int(starts[p]), int(starts[p + 1])) for p in probe[c].tolist()])
        d = _sq_dist(xs[a:b], xs[cand], norms[a:b], norms[cand])  # [members, candidates]
        d[torch.arange(b - a), torch.arange(b - a)] = float("inf")  # itself: the first candidates are its own cell
        kk = min(k, len(cand) - 1)
        top = d.topk(kk, dim=1, largest=False)
        out_d[a:b, :kk] = top.values.sqrt()
        out_i[a:b, :kk] = order[cand[top.indices]]
        if kk < k:  # a tiny probe set: pad with the farthest found (never happens at the defaults' sizes)
            out_d[a:b, kk:] = out_d[a:b, kk - 1:kk]
            out_i[a:b, kk:] = out_i[a:b, kk - 1:kk]
        if c % every == every - 1:
            yield None
    dist, idx = torch.empty_like(out_d), torch.empty_like(out_i)
    dist[order], idx[order] = out_d, out_i  # back to the latents' order
    yield dist.numpy(), idx.numpy()


def probes_for(x: torch.Tensor, assign: torch.Tensor, nearest_cells: torch.Tensor, k: int, target: float,
               gen: torch.Generator, queries: int = 256, least: int = 8, most: int = 256) -> int:
    """The fewest probes (between ``least`` and ``most``) whose cells hold ``target`` of the true ``k`` nearest
    neighbours of ``queries`` random latents."""
    q = torch.randperm(len(x), generator=gen)[:queries]
    truth = torch.from_numpy(exact_neighbours_of(x.numpy(), q.numpy(), k)[1])  # [Q, k]
    rows = nearest_cells[assign[q]]  # [Q, lists]: cells in the order a query's cell probes them
    rank = torch.empty_like(rows)
    rank.scatter_(1, rows, torch.arange(rows.shape[1]).expand_as(rows).contiguous())
    needed = rank.gather(1, assign[truth]).flatten().sort().values  # probes each true neighbour needs, minus one
    p = int(needed[min(len(needed) - 1, math.ceil(target * len(needed)) - 1)]) + 1
    return max(least, min(p, most, nearest_cells.shape[1]))


def exact_neighbours(latents: np.ndarray, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` nearest other latents of each: ``(distances [N, k], indices [N, k])``, nearest first."""
    return exact_neighbours_of(latents, np.arange(len(latents)), k, chunk)


def exact_neighbours_of(latents: np.ndarray, queries: np.ndarray, k: int,
                        chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` nearest other latents of the latents ``queries`` (indices into ``latents``):
    ``(distances [Q, k], indices [Q, k])``, nearest first, by chunked matrix products (each chosen distance
    recomputed directly, so that nearly equal latents keep their small distances)."""
    x = torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32))
    q = torch.as_tensor(queries, dtype=torch.long)
    norms = (x * x).sum(1)
    dist, idx = torch.empty(len(q), k), torch.empty(len(q), k, dtype=torch.long)
    for a in range(0, len(q), chunk):
        rows = q[a:a + chunk]
        d = _sq_dist(x[rows], x, norms[rows], norms)
        d[torch.arange(len(rows)), rows] = float("inf")  # never itself
        top = d.argmin(1, keepdim=True) if k == 1 else d.topk(k, dim=1, largest=False).indices
        exact = (x[top] - x[rows][:, None, :]).norm(dim=-1)
        order = exact.argsort(dim=1, stable=True)
        dist[a:a + len(rows)], idx[a:a + len(rows)] = exact.gather(1, order), top.gather(1, order)
    return dist.numpy(), idx.numpy()


def recall_at_k(latents: np.ndarray, found: np.ndarray, queries: int = 1000, seed: int = 0) -> float:
    """The fraction of the true ``k`` nearest neighbours that ``found [N, k]`` holds, over ``queries`` random latents."""
    n, k = found.shape
    q = np.random.default_rng(seed).choice(n, min(queries, n), replace=False)
    truth = exact_neighbours_of(latents, q, k)[1]
    hits = sum(len(np.intersect1d(t, f)) for t, f in zip(truth, found[q]))
    return hits / truth.size


def sampled_spacing(latents: np.ndarray, sample: int = 256, seed: int = 0) -> float:
    """The median distance from a latent to its nearest other latent, over ``sample`` random latents (exact
    for each of them): the neighbour spacing of a map too large for every latent's neighbours at once."""
    q = np.random.default_rng(seed).choice(len(latents), min(sample, len(latents)), replace=False)
    dist, _ = exact_neighbours_of(latents, q, 1)
    return float(torch.from_numpy(dist[:, 0]).median()) or 1.0
