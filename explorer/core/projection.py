"""2-D maps of the latents: PCA at once, t-SNE (openTSNE, FFT-accelerated) as a cancellable generator,
new latents placed on an existing map, and a cache so that reopening a checkpoint is instant."""
from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.io.atomic import atomic_write_bytes
from explorer.io.cache import user_cache
from explorer.errors import ExplorerError


@dataclass
class Projection:
    method: str
    """"pca", "tsne", "identity" (a 2-D latent space is shown as it is) or "layout" (a person's own file)."""
    xy: np.ndarray
    """``[N, 2]`` positions of the training latents."""
    params: dict = field(default_factory=dict)
    components: np.ndarray | None = None
    """PCA only: ``(mean [d], axes [2, d])``, stacked as ``[3, d]``."""


def _z(latents) -> np.ndarray:
    z = np.asarray(latents.detach().cpu() if hasattr(latents, "detach") else latents, dtype=np.float32)
    if z.ndim != 2 or len(z) < 2:
        raise ExplorerError("a map needs at least two latents [N, d]")
    return z


def pca(latents) -> Projection:
    """The two principal axes (instant: the first map a user sees). A 2-D latent space is kept as is."""
    z = _z(latents)
    if z.shape[1] <= 2:
        xy = np.zeros((len(z), 2), np.float32)
        xy[:, : z.shape[1]] = z
        return Projection("identity", xy)
    mean = z.mean(0, dtype=np.float64).astype(np.float32)
    if len(z) > 4 * z.shape[1]:  # the d x d covariance's eigenvectors, summed in float64 over chunks: 10 000 x 256
        # latents in about 40 ms, where their SVD took 0.33 s (and a million: seconds, not minutes)
        cov = np.zeros((z.shape[1], z.shape[1]))
        for i in range(0, len(z), 65_536):
            c = (z[i:i + 65_536] - mean).astype(np.float64)
            cov += c.T @ c
        _, vecs = np.linalg.eigh(cov)
        axes = vecs[:, ::-1][:, :2].T.astype(np.float32).copy()
    else:
        _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
        axes = vt[:2]
    # a deterministic sign: the largest loading of each axis is positive
    axes *= np.sign(axes[np.arange(2), np.abs(axes).argmax(1)])[:, None]
    return Projection("pca", ((z - mean) @ axes.T).astype(np.float32), components=np.vstack([mean, axes]))


BH_BELOW = 5000
"""Below this many points t-SNE uses Barnes-Hut gradients: 40x faster than FFT for a few hundred points
(whose FFT grid costs as much as for thousands), still faster at 2 000."""


def align(xy: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``xy`` moved, turned (or mirrored) and scaled as a whole to lie as close as it can to ``ref``
    (orthogonal Procrustes): a new layout of the same points shown in the frame of the one on screen,
    so that the map changes where the points move and nowhere else."""
    xy, ref = np.asarray(xy, np.float64), np.asarray(ref, np.float64)
    a, b = xy - xy.mean(0), ref - ref.mean(0)
    na, nb = np.sqrt((a**2).sum()), np.sqrt((b**2).sum())
    if na < 1e-12:  # all points in one place: nothing to turn or scale
        return (a + ref.mean(0)).astype(np.float32)
    u, _, vt = np.linalg.svd(a.T @ b)
    return ((a @ (u @ vt)) * (nb / na) + ref.mean(0)).astype(np.float32)


def early_exaggeration(n: int) -> float:
    """The early exaggeration for ``n`` points: 12 (van der Maaten's) from 3 000 points, down to 2 for a
    few hundred. With 12, the attraction of the 222 notes or 300 garments outweighed all repulsion and
    the map shrank to 1e-15 of its size, losing the layout it started from, before it spread again."""
    return float(min(12.0, max(2.0, n / 250)))


def tsne_steps(latents, perplexity: float = 30.0, iterations: int = 750, seed: int = 0,
               every: int = 25, exaggeration_iterations: int = 250, init: np.ndarray | None = None,
               exaggeration: float | None = None, learning_rate: float | str = "auto",
               ) -> Iterator[tuple[int, int, np.ndarray | Projection]]:
    """Yield ``(done, total, xy [N, 2])`` every ``every`` iterations; the last yield holds the ``Projection``.

    Stop iterating to cancel. Early exaggeration (``early_exaggeration``) for the first
    ``exaggeration_iterations`` (``exaggeration`` overrides it), then plain optimisation at
    ``learning_rate`` (openTSNE's "auto": N / exaggeration); Barnes-Hut gradients below ``BH_BELOW`` points, FFT above. ``init``: the layout
    on screen (``[N, 2]``) to start from (else PCA); every layout yielded, the last included, is
    ``align``-ed to it, so the map holds still while the points find their places.
    """
    from openTSNE import TSNEEmbedding, affinity, initialization

    z = _z(latents)
    perplexity = float(min(perplexity, (len(z) - 1) / 3))
    aff = affinity.PerplexityBasedNN(z, perplexity=perplexity, n_jobs=os.cpu_count() or 1, random_state=seed,
                                     method="exact" if len(z) < 500 else "annoy")
    if init is None:
        start = initialization.pca(z, random_state=seed)
    else:
        start = initialization.rescale(np.asarray(init, np.float64), inplace=False)
    ref = None if init is None else np.asarray(init, np.float32)

    def shown(e) -> np.ndarray:
        xy = np.asarray(e, dtype=np.float32).copy()
        return xy if ref is None else align(xy, ref)

    emb = TSNEEmbedding(start, aff, negative_gradient_method="bh" if len(z) < BH_BELOW else "fft",
                        n_jobs=os.cpu_count() or 1, random_state=seed, learning_rate=learning_rate)
    total = exaggeration_iterations + iterations
    given_exaggeration = exaggeration
    exaggeration = early_exaggeration(len(z)) if exaggeration is None else float(exaggeration)
    done = 0
    yield done, total, shown(emb)
    while done < total:
        early = done < exaggeration_iterations
        n = min(every, (exaggeration_iterations if early else total) - done)
        emb.optimize(n, inplace=True, exaggeration=exaggeration if early else 1, momentum=0.5 if early else 0.8)
        done += n
        if done < total:
            yield done, total, shown(emb)
    params = {"perplexity": perplexity, "iterations": iterations, "seed": seed}
    params |= {k: v for k, v in (("exaggeration", given_exaggeration), ("learning_rate", learning_rate))
               if v not in (None, "auto")}  # what was chosen: the cache key of the map
    yield done, total, Projection("tsne", shown(emb), params)


def _tsne_child(conn, latents, kwargs, paused=None) -> None:
    import time
    import warnings

    warnings.filterwarnings("ignore", message="Loky-backed parallel loops")  # sklearn, inside a child process
    try:
        for done, total, value in tsne_steps(latents, **kwargs):
            while paused is not None and paused.is_set():  # paused: hold between steps
                time.sleep(0.05)
            if isinstance(value, Projection):
                conn.send((done, total, "done", value.xy, value.params))
            else:
                conn.send((done, total, "partial", value, None))
    except Exception as e:  # reported to the parent as one line
        conn.send((0, 0, "error", f"{e.__class__.__name__}: {e}", None))
    finally:
        conn.close()


def tsne_pause_event():
    """An event that pauses ``tsne_steps_in_process`` while set (shared with its child process)."""
    import multiprocessing as mp

    return mp.get_context("spawn").Event()


def tsne_steps_in_process(latents, heartbeat: float | None = None, paused=None, **kwargs
                          ) -> Iterator[tuple[int, int, np.ndarray | Projection] | None]:
    """``tsne_steps`` run in a child process, yielding the same values; closing the generator stops the child.

    For callers with a GUI thread (the app): t-SNE of thousands of points keeps a core busy for tens
    of seconds, and in a process of its own it neither competes with the GUI thread for the GIL nor
    can it take the app down if it fails. With ``heartbeat`` (seconds), ``None`` is yielded while
    the child has nothing new, so a caller that cancels between yields is heard within that time.
    ``paused``: an event of ``tsne_pause_event()``; while it is set the child holds between steps.
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_tsne_child, args=(child, _z(latents), kwargs, paused), daemon=True)
    proc.start()
    child.close()
    try:
        while True:
            if heartbeat is not None and not parent.poll(heartbeat):
                if not proc.is_alive() and not parent.poll(0):
                    raise ExplorerError("the t-SNE process stopped unexpectedly")
                yield None
                continue
            try:
                done, total, kind, value, params = parent.recv()
            except EOFError:
                raise ExplorerError("the t-SNE process stopped unexpectedly") from None
            if kind == "error":
                raise ExplorerError(f"t-SNE failed: {value}")
            if kind == "done":
                yield done, total, Projection("tsne", value, params)
                return
            yield done, total, value
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        parent.close()


def tsne(latents, **kwargs) -> Projection:
    from explorer.io.progress import run_to_end

    return run_to_end(tsne_steps(latents, **kwargs), "t-SNE")[-1]


def read_layout(path, n: int) -> Projection:
    """A person's own 2-D map of the ``n`` training latents (UMAP, a figure's coordinates, ...): an ``[n, 2]``
    array in a ``.npy`` file, or two numeric columns of a ``.csv``/``.tsv`` (a header row is skipped).
    ``ExplorerError`` in one line when it is not that."""
    from pathlib import Path

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            xy = np.load(path, allow_pickle=False)
        elif suffix in (".csv", ".tsv"):
            import csv

            with open(path, newline="", encoding="utf-8") as f:
                rows = [r for r in csv.reader(f, delimiter="," if suffix == ".csv" else "\t") if any(c.strip() for c in r)]
            try:
                float(rows[0][0])
            except (IndexError, ValueError):
                rows = rows[1:]  # a header row
            xy = np.array([[float(c) for c in r] for r in rows], dtype=np.float64) if rows else np.zeros((0, 0))
        else:
            raise ExplorerError(f"{path.name}: a 2-D layout is a .npy, .csv or .tsv file")
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise ExplorerError(f"{path.name} is not a readable 2-D layout ({e.__class__.__name__}: {e})") from e
    xy = np.asarray(xy)
    if xy.ndim != 2 or xy.shape != (n, 2) or not np.issubdtype(xy.dtype, np.number):
        raise ExplorerError(f"{path.name} holds an array of shape {list(xy.shape)}; the map needs [{n}, 2]: "
                            "one (x, y) per training latent, in their order")
    if not np.isfinite(xy).all():
        raise ExplorerError(f"{path.name}: {int((~np.isfinite(xy)).any(1).sum())} rows hold NaN or infinite values")
    return Projection("layout", xy.astype(np.float32), {"file": str(path)})


def place(projection: Projection, latents, new, k: int = 10) -> np.ndarray:
    """Positions ``[M, 2]`` of new latents on an existing map, without recomputing it.

    PCA and identity maps are linear: exact. t-SNE maps use openTSNE's ``transform`` when
    ``exact_tsne`` is wanted elsewhere; here (and on a person's own layout) new points go to the barycentre of their k nearest
    training latents' positions, weighted by inverse distance (instant, and a point equal to a
    training latent lands exactly on it).
    """
    new = np.asarray(new, dtype=np.float32).reshape(-1, _z(latents).shape[1])
    if projection.method == "identity":
        xy = np.zeros((len(new), 2), np.float32)
        xy[:, : new.shape[1]] = new
        return xy
    if projection.method == "pca":
        mean, axes = projection.components[0], projection.components[1:]
        return ((new - mean) @ axes.T).astype(np.float32)
    from sklearn.neighbors import NearestNeighbors

    z = _z(latents)
    dist, idx = NearestNeighbors(n_neighbors=min(k, len(z)), algorithm="brute").fit(z).kneighbors(new)
    w = 1.0 / np.maximum(dist, 1e-9) ** 2
    w /= w.sum(1, keepdims=True)
    return np.einsum("mk,mkc->mc", w, projection.xy[idx]).astype(np.float32)


# --- cache -----------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    return user_cache("projections")


def cache_key(latents, method: str, params: dict) -> str:
    h = hashlib.sha256(np.ascontiguousarray(_z(latents)).tobytes())
    h.update(json.dumps({"method": method, **params}, sort_keys=True).encode())
    return h.hexdigest()[:32]


def save_cached(latents, projection: Projection, folder: Path | None = None) -> Path:
    folder = folder or cache_dir()
    path = folder / f"{cache_key(latents, projection.method, projection.params)}.npz"
    buf = io.BytesIO()
    arrays = {"xy": projection.xy}
    if projection.components is not None:
        arrays["components"] = projection.components
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_cached(latents, method: str, params: dict, folder: Path | None = None) -> Projection | None:
    """The cached map for these latents and parameters, or None (a damaged cache file counts as none)."""
    path = (folder or cache_dir()) / f"{cache_key(latents, method, params)}.npz"
    try:
        with np.load(path) as f:
            xy = f["xy"]
            components = f["components"] if "components" in f else None
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if xy.shape != (len(_z(latents)), 2):
        return None
    return Projection(method, xy.astype(np.float32), dict(params), components)
