"""Median timings and the line ``latent-explorer bench`` prints for each (shared by the app's and the
training's benches)."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass



GROUPS = ("matmul", "precision", "train", "decode", "deepsdf", "graph", "tsne", "ddp", "scale", "app")
"""Every part of ``latent-explorer bench`` (``--only``), in the order a full run takes them (``core.bench``; the
``app`` part, start-up and map frames, is measured by the command line: it needs Qt). Here, without torch,
so that building the command line's help imports none."""


@dataclass
class BenchResult:
    name: str
    median_ms: float
    repeats: int
    budget_ms: float | None = None
    detail: str = ""
    unit: str = "ms"
    """What ``median_ms`` and ``budget_ms`` count: milliseconds, or "MiB" for a memory entry."""

    def line(self) -> str:
        u = f"{self.unit:<3}"
        budget = f"budget {self.budget_ms:>8.0f} {u}" if self.budget_ms else " " * 20
        verdict = "" if not self.budget_ms else ("  ok" if self.median_ms <= self.budget_ms else "  OVER")
        return f"{self.name:<40} {self.median_ms:>10.1f} {u}  {budget}{verdict}  {self.detail}".rstrip()


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def timed_in_turns(fns: list[Callable[[], object]], repeats: int, warmup: int = 2,
                   sync: Callable[[], object] = lambda: None) -> list[float]:
    """Median milliseconds of each of ``fns``, called in turns (a noisy neighbour slows all alike);
    ``sync`` waits for queued device work before each clock reading."""
    for _ in range(warmup):  # the first calls of compiled kernels are slower
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(max(1, repeats)):
        for fn, ts in zip(fns, times):
            sync()
            t = time.perf_counter()
            fn()
            sync()
            ts.append((time.perf_counter() - t) * 1000)
    return [statistics.median(ts) for ts in times]
