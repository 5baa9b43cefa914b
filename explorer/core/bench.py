"""``latent-explorer bench``: the interactions of DESIGN.md's performance budget, timed on this machine.

Every figure is a median over repeats, printed next to its budget. Nothing is asserted: the
numbers are for people (and for notes that quote them), not for tests.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np
import torch

from explorer.core.shipped import shipped_checkpoints
from explorer.io.timing import BenchResult, timed, timed_in_turns

BUDGETS_MS = {
    "image frame, preview": 33,
    "image frame, full": 33,
    "audio 1 s": 100,
    "mesh preview 32^3": 150,
    "mesh refined 64^3": 600,
    "geodesic query, 20000 latents": 10,
    "t-SNE 20000 latents": 45_000,
}


@functools.cache
def _checkpoints() -> dict[str, object]:
    """The first shipped checkpoint of each modality, opened once for all the benches of a run."""
    from explorer.models.checkpoint import load_checkpoint, peek_metadata

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
    from explorer.modalities import checkpoint_modality, plug_parts

    ckpts = _checkpoints()
    plugs = {name: checkpoint_modality(c.modality) for name, c in ckpts.items()}

    def first(wanted):  # the first shipped checkpoint of one field whose plug is what a bench wants
        return next((ckpts[n] for n, q in plugs.items() if not hasattr(q, "parts") and wanted(q)), None)

    out = []
    picture, shape = first(lambda q: "pictures" in q.produces and not q.is_sdf), first(lambda q: q.is_sdf)
    if picture is not None:
        p = DecodePipeline(picture)
        for label, res in (("preview", p.preview_resolution()), ("full", p.resolution())):
            ms = timed(lambda: p.signal(_fresh(p.ckpt), res), repeats)
            out.append(BenchResult(f"image frame, {label}", ms, repeats, BUDGETS_MS[f"image frame, {label}"],
                                   "x".join(map(str, res))))
        ms = timed(lambda: p.signal(_fresh(p.ckpt, 64)), max(1, repeats // 4))
        out.append(BenchResult("64-frame path decode (image, full)", ms, max(1, repeats // 4), None,
                               f"{ms / 64:.1f} ms a frame"))
    for name in sorted(ckpts):  # audio, then audiovisual
        part = next((k for k, q in plug_parts(checkpoint_modality(ckpts[name].modality)).items()
                     if "sound" in q.produces), "none")
        if part != "none":
            p = DecodePipeline(ckpts[name])
            ms = timed(lambda: p.signal(_fresh(p.ckpt), part=part), repeats)
            target = p.parts[part].target
            out.append(BenchResult(f"audio 1 s ({name}, {target})", ms, repeats, BUDGETS_MS["audio 1 s"]))
    if shape is not None:
        p = DecodePipeline(shape)
        ms = timed(lambda: p.mesh(_fresh(p.ckpt), 32), repeats)
        out.append(BenchResult("mesh preview 32^3", ms, repeats, BUDGETS_MS["mesh preview 32^3"], "decode + marching cubes"))
        ms = timed(lambda: p.mesh(_fresh(p.ckpt), 64), max(1, repeats // 2))
        out.append(BenchResult("mesh refined 64^3", ms, max(1, repeats // 2), BUDGETS_MS["mesh refined 64^3"],
                               f"{p.sdf_base[None]}^3 in {p.bulk_precision[None]}, then narrow bands in {p.part_precision[None]}"))
    return out


def deepsdf_benches(repeats: int, n: int = 10_000) -> list[BenchResult]:
    """A DeepSDF-sized model (latent 256, 8 x 512, the input again at layer 4) with ``n`` latents, written in
    DeepSDF's layout: importing it, opening the checkpoint (read, decoder, PCA map, k-NN graph), and its
    live meshes. Its weights are a geometric initialisation, so each latent decodes to a surface."""
    import tempfile
    from pathlib import Path

    from explorer.core.deepsdf_import import import_deepsdf
    from explorer.core.deepsdf_layout import sphere_field, write_experiment
    from explorer.core.session import read_checkpoint
    from explorer.models import DeepSDFConfig
    from explorer.models.checkpoint import save_checkpoint

    config = DeepSDFConfig(latent_dim=256, dims=[512] * 8, latent_in=[4])
    field = sphere_field(config)
    latents = torch.randn(n, 256, generator=torch.Generator().manual_seed(0)) * 0.3
    items = [("ShapeNetV2", "03001627", f"{i:06d}") for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        exp = write_experiment(Path(tmp, "chairs"), config, field.state_dict(), latents, items,
                               Path(tmp, "splits", "train.json"), "splits/train.json")
        ckpt = Path(tmp, "chairs.safetensors")
        t = time.perf_counter()
        save_checkpoint(import_deepsdf(exp, split=Path(tmp, "splits", "train.json")).checkpoint, ckpt)
        imported = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        opened = read_checkpoint(ckpt)
        opening = (time.perf_counter() - t) * 1000
    p = opened.pipeline
    label = f"DeepSDF {n} latents, 256-d, 8 x 512"
    out = [BenchResult(f"import ({label})", imported, 1, None, "specs, .pth weights and codes to a checkpoint"),
           BenchResult(f"open ({label})", opening, 1, None, "read, decoder, PCA map, k-NN graph")]
    ms = timed(lambda: p.mesh(_fresh(p.ckpt), 32), repeats)
    out.append(BenchResult(f"mesh preview 32^3 ({label})", ms, repeats, BUDGETS_MS["mesh preview 32^3"],
                           "decode + marching cubes"))
    ms = timed(lambda: p.mesh(_fresh(p.ckpt), 64), max(1, repeats // 2))
    out.append(BenchResult(f"mesh refined 64^3 ({label})", ms, max(1, repeats // 2), BUDGETS_MS["mesh refined 64^3"],
                           f"{p.sdf_base[None]}^3 in {p.bulk_precision[None]}, then narrow bands in {p.part_precision[None]}"))
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


def clustered_latents(n: int, d: int = 64, clusters: int = 1000, seed: int = 0) -> np.ndarray:
    """Synthetic latents with cluster structure: ``clusters`` centres drawn from N(0, I), each latent one of
    them plus N(0, I) noise (neighbouring clusters overlap)."""
    g = np.random.default_rng(seed)
    centres = g.standard_normal((clusters, d), dtype=np.float32)
    z = centres[g.integers(clusters, size=n)]
    z += g.standard_normal((n, d), dtype=np.float32)
    return z


def scale_benches(quick: bool) -> list[BenchResult]:
    """The engine at a million latents (issue 19): the k-NN graph with its recall against the exact search, a
    geodesic query with its length against the exact shortest path, and the peak memory of the process."""
    import resource

    from scipy.sparse.csgraph import dijkstra

    from explorer.core.ann import recall_at_k
    from explorer.core.graph import knn_graph, nearest_neighbours
    from explorer.core.paths import shortest_nodes

    n = 60_000 if quick else 1_000_000
    z = clustered_latents(n)
    t = time.perf_counter()
    dist, idx = nearest_neighbours(z, 10)
    graph = knn_graph(z, 10, (dist, idx))
    build = (time.perf_counter() - t) * 1000
    recall = recall_at_k(z, idx, queries=200 if quick else 1000)
    out = [BenchResult(f"k-NN graph, {n} latents (k=10)", build, 1, 120_000 if n == 1_000_000 else None,
                       f"recall@10 {recall:.3f} vs exact on {200 if quick else 1000} queries; {graph.describe()}"
                       + ("; with its geodesic corridor" if graph.corridor is not None else ""))]
    g = np.random.default_rng(1)
    pairs = [(int(a), int(b)) for a, b in g.integers(n, size=(200, 2)) if graph.component[a] == graph.component[b]]
    pairs = pairs[: 3 if quick else 20]
    times, ratios = [], []
    for i, (a, b) in enumerate(pairs):
        t = time.perf_counter()
        nodes = shortest_nodes(graph, a, b)
        times.append((time.perf_counter() - t) * 1000)
        if i < (2 if quick else 8):  # against Dijkstra over the whole graph
            exact = dijkstra(graph.matrix, directed=True, indices=a)[b]
            length = float(sum(graph.matrix[nodes[j], nodes[j + 1]] for j in range(len(nodes) - 1)))
            ratios.append(length / exact if exact > 0 else 1.0)
    out.append(BenchResult(f"geodesic query, {n} latents", float(np.median(times)), len(times),
                           100 if n == 1_000_000 else None,
                           f"path length / exact shortest: mean {np.mean(ratios):.3f}, max {np.max(ratios):.3f} "
                           f"over {len(ratios)} pairs"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out.append(BenchResult("peak resident memory so far", peak, 1, 4096 if n == 1_000_000 else None,
                           f"this process, after the {n}-latent graph", unit="MiB"))
    del graph, dist, idx, z
    out.append(background_tsne_bench(2000, 50, 50) if quick else background_tsne_bench(100_000))
    return out


def background_tsne_bench(n: int, iterations: int = 750, exaggeration_iterations: int = 250) -> BenchResult:
    """t-SNE of ``n`` clustered latents as the app makes it: in a child process (``tsne_steps_in_process``),
    its layouts streamed back while it runs; the time to the last layout, and how often one arrived."""
    from explorer.core.projection import tsne_steps_in_process

    z = clustered_latents(n)
    t = time.perf_counter()
    shown = []
    for step in tsne_steps_in_process(z, iterations=iterations, exaggeration_iterations=exaggeration_iterations):
        if step is not None:
            shown.append(time.perf_counter())
    ms = (time.perf_counter() - t) * 1000
    gaps = np.diff(shown) if len(shown) > 2 else np.array([0.0])
    return BenchResult(f"t-SNE {n} latents, in a background process", ms, 1, None,
                       f"{iterations} + {exaggeration_iterations} iterations; first layout after {(shown[0] - t):.1f} s, then one "
                       f"every {np.median(gaps):.1f} s (median)")


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


def matmul_rate(dtype: torch.dtype, n: int = 1024, repeats: int = 10) -> float:
    """GFLOP/s of a dense ``n x n`` matrix product in ``dtype`` on the CPU (this process's threads)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    ms = timed(lambda: a @ b, repeats, warmup=2)
    return 2 * n**3 / ms / 1e6


def matmul_benches(repeats: int) -> tuple[list[BenchResult], dict[str, float]]:
    """Dense matmul rates in float32 and bfloat16: what the fields' products could reach here."""
    rates = {}
    out = []
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        rate = rates[name] = matmul_rate(dtype, repeats=repeats)
        out.append(BenchResult(f"matmul 1024^2 ({name})", 2 * 1024**3 / rate / 1e6, repeats, None,
                               f"{rate:.0f} GFLOP/s on {torch.get_num_threads()} threads"))
    return out, rates


def precision_decode_benches(repeats: int, quick: bool, rates: dict[str, float]) -> list[BenchResult]:
    """64 full-resolution image frames decoded in float32 and in the fast mode (auto precision, compiled),
    the pixel error of the fast mode against float32, and each decode's FLOP rate against the matmuls."""
    from torch.utils.flop_counter import FlopCounterMode

    from explorer.core.pipeline import DecodePipeline

    ckpt = _checkpoints().get("image")
    if ckpt is None:
        return []
    full = DecodePipeline(ckpt, cache_items=0, precision="fp32", compile="off")
    fast = DecodePipeline(ckpt, cache_items=0, precision="auto", compile="off" if quick else "auto")
    compile_s = fast.warm_up()
    z = _fresh(ckpt, 64)
    err = np.abs(full.signal(z) - fast.signal(z)) * 255  # displayed pixels, 0..255
    with FlopCounterMode(display=False) as counter:
        full.values(z)
    flops = counter.get_total_flops()
    ms = dict(zip(("fp32", "auto"), timed_in_turns([lambda: full.values(_fresh(ckpt, 64)),
                                                     lambda: fast.values(_fresh(ckpt, 64))], repeats)))
    how = f"{fast.precision}, " + ("compiled" if fast.compiled else "uncompiled") + \
        (f" (compile {compile_s:.1f} s, apart)" if fast.compiled else "") + "".join(f"; {n}" for n in fast.notes)
    out = [BenchResult("decode 64 image frames (fp32)", ms["fp32"], repeats, None, f"{ms['fp32'] / 64:.2f} ms a frame"),
           BenchResult("decode 64 image frames (auto)", ms["auto"], repeats, None,
                       f"{ms['fp32'] / ms['auto']:.2f} x faster; {how}; pixel error vs fp32 mean "
                       f"{err.mean():.3f} / 255, worst {err.max():.1f} / 255")]
    for name, rate_of in (("fp32", "fp32"), ("auto", fast.precision)):
        achieved = flops / ms[name] / 1e6
        out.append(BenchResult(f"decode FLOP rate ({name})", ms[name], repeats, None,
                               f"{achieved:.1f} GFLOP/s = {achieved / rates['fp32']:.2f} x the fp32 matmul, "
                               f"{achieved / rates['bf16']:.2f} x the bf16 matmul"
                               + ("" if name == "fp32" else f" (computing in {rate_of})")))
    return out


def ddp_benches(quick: bool) -> list[BenchResult]:
    """Training steps per second of one model in 1 and in 2 CPU processes (``torchrun``, gloo), each process
    with one torch thread, the same global batch (preset ``small`` on sprites: 64 signals a step)."""
    import os
    import re
    import subprocess
    import sys
    import tempfile

    steps = 10 if quick else 300
    out = []
    with tempfile.TemporaryDirectory(prefix="latent-explorer-ddp-") as folder:
        for n in (1, 2):
            cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}", "-m", "explorer",
                   "train", "--data", "sprites", "--preset", "small", "--steps", str(steps), "--compile", "off",
                   "--out", f"{folder}/{n}.safetensors"]
            run = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
            found = re.search(r"after (\d+) steps in (\d+) s", run.stderr)
            if run.returncode != 0 or not found:
                last = (run.stderr.strip().splitlines() or ["no output"])[-1]
                out.append(BenchResult(f"train steps, {n} process(es) (gloo)", float("nan"), 1, None, f"failed: {last}"))
                continue
            seconds = max(int(found.group(2)), 1)
            out.append(BenchResult(f"train step, {n} process(es) (gloo)", seconds * 1000 / steps, steps, None,
                                   f"{steps / seconds:.1f} steps/s; sprites, preset small, global batch 64, 1 thread each"))
    return out


def bench_groups(quick: bool, device, rates: dict) -> dict[str, Callable[[], list[BenchResult]]]:
    """The bench's parts by name (``bench --only``), in the order a full run takes them."""
    from explorer.train.step_bench import train_step_benches

    repeats = 3 if quick else 15

    def matmuls() -> list[BenchResult]:
        found, measured = matmul_benches(3 if quick else 10)
        rates.update(measured)
        return found

    def precision() -> list[BenchResult]:
        if not rates:
            matmuls()
        return precision_decode_benches(repeats, quick, rates)

    return {"matmul": matmuls, "precision": precision,
            "train": lambda: train_step_benches(3 if quick else 20, quick, device),
            "decode": lambda: decode_benches(repeats),
            "deepsdf": lambda: deepsdf_benches(repeats, n=2000 if quick else 10_000),
            "graph": lambda: graph_benches(repeats, n=2000 if quick else 20_000),
            "tsne": lambda: tsne_benches((1000,) if quick else (5000, 20_000), iterations=100 if quick else 750),
            "ddp": lambda: ddp_benches(quick),
            "scale": lambda: scale_benches(quick)}


def run_bench(quick: bool = False, report: Callable[[BenchResult], None] = lambda r: None,
              only: tuple[str, ...] | None = None) -> list[BenchResult]:
    from explorer.core.device import resolve_device

    results: list[BenchResult] = []
    groups = bench_groups(quick, resolve_device("auto"), {})
    for name, step in groups.items():
        if only is not None and name not in only:
            continue
        for r in step():
            results.append(r)
            report(r)
    return results
