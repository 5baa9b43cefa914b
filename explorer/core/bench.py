"""``latent-explorer bench``: the interactions of DESIGN.md's performance budget, timed on this machine.

Every figure is a median over repeats, printed next to its budget. Nothing is asserted: the
numbers are for people (and for notes that quote them), not for tests.
"""
from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.shipped import shipped_checkpoints

BUDGETS_MS = {
    "image frame, preview": 33,
    "image frame, full": 33,
    "audio 1 s": 100,
    "mesh preview 32^3": 150,
    "mesh refined 64^3": 600,
    "geodesic query, 20000 latents": 10,
    "t-SNE 20000 latents": 45_000,
}


@dataclass
class BenchResult:
    name: str
    median_ms: float
    repeats: int
    budget_ms: float | None = None
    detail: str = ""

    def line(self) -> str:
        budget = f"budget {self.budget_ms:>8.0f} ms" if self.budget_ms else " " * 19
        verdict = "" if not self.budget_ms else ("  ok" if self.median_ms <= self.budget_ms else "  OVER")
        return f"{self.name:<40} {self.median_ms:>10.1f} ms  {budget}{verdict}  {self.detail}".rstrip()


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


@functools.cache
def _checkpoints() -> dict[str, object]:
    """The first shipped checkpoint of each modality, opened once for all the benches of a run."""
    from explorer.core.checkpoint import load_checkpoint, peek_metadata

    first: dict[str, object] = {}
    for path in shipped_checkpoints():
        first.setdefault(peek_metadata(path)["modality"]["name"], path)
    return {name: load_checkpoint(path) for name, path in first.items()}


def _fresh(ckpt, n: int = 1, seed: list = [0]) -> np.ndarray:  # noqa: B006 - a counter on purpose
    """Latents the cache has never seen: a random blend of two training latents."""
    seed[0] += 1
    g = np.random.default_rng(seed[0])
    z = ckpt.latents.numpy()
    i, j = g.integers(len(z), size=(2, n))
    t = g.uniform(size=(n, 1)).astype(np.float32)
    return (1 - t) * z[i] + t * z[j]


def decode_benches(repeats: int) -> list[BenchResult]:
    from explorer.core.pipeline import DecodePipeline

    ckpts = _checkpoints()
    out = []
    if "image" in ckpts:
        p = DecodePipeline(ckpts["image"])
        for label, res in (("preview", p.preview_resolution()), ("full", p.resolution())):
            ms = timed(lambda: p.signal(_fresh(p.ckpt), res), repeats)
            out.append(BenchResult(f"image frame, {label}", ms, repeats, BUDGETS_MS[f"image frame, {label}"],
                                   "x".join(map(str, res))))
        ms = timed(lambda: p.signal(_fresh(p.ckpt, 64)), max(1, repeats // 4))
        out.append(BenchResult("64-frame path decode (image, full)", ms, max(1, repeats // 4), None,
                               f"{ms / 64:.1f} ms a frame"))
    for name in ("audio", "audiovisual"):
        if name in ckpts:
            p = DecodePipeline(ckpts[name])
            part = None if name == "audio" else "audio"
            ms = timed(lambda: p.signal(_fresh(p.ckpt), part=part), repeats)
            target = p.parts[part].target
            out.append(BenchResult(f"audio 1 s ({name}, {target})", ms, repeats, BUDGETS_MS["audio 1 s"]))
    if "shape" in ckpts:
        p = DecodePipeline(ckpts["shape"])
        ms = timed(lambda: p.mesh(_fresh(p.ckpt), 32), repeats)
        out.append(BenchResult("mesh preview 32^3", ms, repeats, BUDGETS_MS["mesh preview 32^3"], "decode + marching cubes"))
        ms = timed(lambda: p.mesh(_fresh(p.ckpt), 64), max(1, repeats // 2))
        out.append(BenchResult("mesh refined 64^3", ms, max(1, repeats // 2), BUDGETS_MS["mesh refined 64^3"],
                               "narrow band above 32^3"))
    return out


def graph_benches(repeats: int, n: int = 20_000, d: int = 64) -> list[BenchResult]:
    from explorer.core.graph import knn_graph
    from explorer.core.paths import shortest_nodes

    z = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    t = time.perf_counter()
    graph = knn_graph(z, 10)
    build = (time.perf_counter() - t) * 1000
    g = np.random.default_rng(1)
    pairs = iter(g.integers(n, size=(repeats + 1, 2)))
    ms = timed(lambda: shortest_nodes(graph, *next(pairs)), repeats)
    return [BenchResult(f"k-NN graph build, {n} latents (k=10)", build, 1, None, graph.describe()),
            BenchResult(f"geodesic query, {n} latents", ms, repeats, BUDGETS_MS["geodesic query, 20000 latents"])]


def tsne_benches(sizes: tuple[int, ...], iterations: int = 750) -> list[BenchResult]:
    from explorer.core.projection import tsne

    out = []
    for n in sizes:
        z = np.random.default_rng(0).normal(size=(n, 64)).astype(np.float32)
        t = time.perf_counter()
        tsne(z, iterations=iterations)
        ms = (time.perf_counter() - t) * 1000
        budget = BUDGETS_MS["t-SNE 20000 latents"] if n == 20_000 else None
        out.append(BenchResult(f"t-SNE {n} latents", ms, 1, budget, f"{iterations} + 250 iterations"))
    return out


def flop_rate(repeats: int) -> list[BenchResult]:
    """Achieved FLOP rate of a full-resolution image decode (64 frames) against a dense matmul of the same work."""
    from torch.utils.flop_counter import FlopCounterMode

    from explorer.core.pipeline import DecodePipeline

    ckpts = _checkpoints()
    ckpt = ckpts.get("image") or next(iter(ckpts.values()), None)
    if ckpt is None:
        return []
    p = DecodePipeline(ckpt, cache_items=0)
    part = None if "parts" not in ckpt.modality else next(iter(p.parts))
    z = _fresh(ckpt, 64)
    with FlopCounterMode(display=False) as counter:
        p.values(z, part=part)
    flops = counter.get_total_flops()
    ms = timed(lambda: p.values(_fresh(ckpt, 64), part=part), repeats)
    n = max(64, int(round((flops / 2) ** (1 / 3))))
    a, b = torch.randn(n, n), torch.randn(n, n)
    mm = timed(lambda: a @ b, repeats)
    achieved, peak = flops / ms / 1e6, 2 * n**3 / mm / 1e6
    return [BenchResult("decode FLOP rate (64 image frames)", ms, repeats, None,
                        f"{achieved:.1f} GFLOP/s = {achieved / peak:.2f} x a {n}x{n} matmul ({peak:.1f} GFLOP/s)")]


def bfloat16_bench(repeats: int) -> list[BenchResult]:
    """Is bfloat16 worth it here? Time and worst error of 64 full-resolution frames against float32."""
    from explorer.core.pipeline import DecodePipeline

    ckpts = _checkpoints()
    ckpt = ckpts.get("image")
    if ckpt is None:
        return []
    full, half = DecodePipeline(ckpt, cache_items=0), DecodePipeline(ckpt, cache_items=0, bfloat16=True)
    z = _fresh(ckpt, 64)
    err = float((full.values(z) - half.values(z)).abs().max())
    ms32 = timed(lambda: full.values(z), repeats)
    ms16 = timed(lambda: half.values(z), repeats)
    return [BenchResult("64 image frames, bfloat16", ms16, repeats, None,
                        f"float32 {ms32:.1f} ms; worst pixel error {err * 127.5:.1f} / 255")]


def run_bench(quick: bool = False, report: Callable[[BenchResult], None] = lambda r: None) -> list[BenchResult]:
    repeats = 3 if quick else 15
    results: list[BenchResult] = []
    steps = [lambda: decode_benches(repeats), lambda: flop_rate(repeats), lambda: bfloat16_bench(repeats),
             lambda: graph_benches(repeats, n=2000 if quick else 20_000),
             lambda: tsne_benches((1000,) if quick else (5000, 20_000), iterations=100 if quick else 750)]
    for step in steps:
        for r in step():
            results.append(r)
            report(r)
    return results
