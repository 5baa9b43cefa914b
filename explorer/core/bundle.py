"""Reproducible path bundles: everything needed to regenerate a path's frames exactly (JSON)."""
from __future__ import annotations

import numpy as np

from explorer.core.graph import knn_graph
from explorer.core.paths import LatentPath, make_path
from explorer.core.projection import pca, place
from explorer.core.walk import lle_walk
from explorer.errors import ExplorerError

BUNDLE_VERSION = 1


def resolve_item(ckpt, spec: str | int) -> int:
    """An item index from an index or a name (as shown by ``info`` and the app)."""
    text = str(spec)
    if text.lstrip("-").isdigit():
        i = int(text)
        if not 0 <= i < ckpt.n_items:
            raise ExplorerError(f"item {i} is not in 0..{ckpt.n_items - 1}")
        return i
    if text in ckpt.names:
        return ckpt.names.index(text)
    matches = [i for i, n in enumerate(ckpt.names) if n.rsplit(".", 1)[0] == text]
    if len(matches) == 1:
        return matches[0]
    raise ExplorerError(f"no item is called {text!r} (give an index 0..{ckpt.n_items - 1} or a name)")


def build_path(ckpt, method: str, a, b=None, frames: int = 64, k: int = 10,
               steps: int = 32, seed: int = 0, beta: float = 0.1, progress=None) -> tuple[LatentPath, dict]:
    """The path and the parameters that regenerate it; an end of a lerp or geodesic is an item's index
    or a latent of its own (an embedded signal), kept in the parameters as a list of numbers.
    ``progress(done, total)``: called along a walk's steps (``lle_walk``)."""
    z = ckpt.latents.numpy()
    if method == "walk":
        walk = lle_walk(z, a, steps, k=min(k, len(z) - 1), beta=beta, seed=seed, progress=progress)
        length = float(np.linalg.norm(np.diff(walk, axis=0), axis=1).sum())
        return LatentPath(walk, "walk", [a], length), {"method": "walk", "start": a, "steps": steps, "k": k,
                                                        "seed": seed, "beta": beta}
    graph = knn_graph(z, k) if method == "geodesic" else None
    a, b = (np.asarray(e, np.float32) if isinstance(e, list) else e for e in (a, b))
    path = make_path(method, z, a, b, frames, graph)
    params = {"method": method, "from": _param(a), "to": _param(b), "frames": frames}
    if graph is not None:
        params |= {"k": k, "graph": graph.describe()}
    return path, params


def _param(end):
    return int(end) if np.ndim(end) == 0 else [float(v) for v in np.asarray(end).reshape(-1)]


def make_bundle(ckpt, ckpt_sha256: str, path: LatentPath, params: dict, quality: dict | None = None,
                names: dict | None = None) -> dict:
    """``names``: what to call ends that are latents of their own, e.g. ``{"from": "mine.png"}``."""
    z = ckpt.latents.numpy()
    names = names or {}
    xy = place(pca(z), z, path.latents)
    return {
        "latent_explorer_path": BUNDLE_VERSION,
        "checkpoint": {"file": str(ckpt.path.name) if ckpt.path else "", "sha256": ckpt_sha256},
        "ends": {k: {"latent": True, "name": names.get(k, "latent")} if isinstance(params[k], list)
                 else {"index": params[k], "name": ckpt.names[params[k]]} for k in ("from", "to", "start")
                 if params.get(k) is not None},
        "params": params,
        "method_used": path.method,
        "note": path.note,
        "length": path.length,
        "nodes": [int(n) for n in path.nodes],
        "latents": path.latents.astype(float).tolist(),
        "map": {"projection": "pca", "xy": xy.astype(float).tolist()},
        "quality": quality or {},
    }


def regenerate(bundle: dict, ckpt, ckpt_sha256: str) -> np.ndarray:
    """The bundle's frames computed again from its parameters (they must equal ``bundle['latents']``)."""
    if bundle.get("latent_explorer_path") != BUNDLE_VERSION:
        raise ExplorerError("not a latent-explorer path bundle (or a newer one)")
    if bundle["checkpoint"]["sha256"] != ckpt_sha256:
        raise ExplorerError("this bundle was made with another checkpoint (its sha256 differs)")
    p = bundle["params"]
    if p["method"] == "walk":
        path, _ = build_path(ckpt, "walk", p["start"], steps=p["steps"], k=p["k"], seed=p["seed"], beta=p["beta"])
    else:
        path, _ = build_path(ckpt, p["method"], p["from"], p["to"], p["frames"], p.get("k", 10))
    return path.latents


def path_bundle(pipeline, path: LatentPath, params: dict, names: dict | None = None) -> dict:
    """The bundle of a path decoded by ``pipeline``, with its quality measured (``quality.path_report``):
    what the command line's and the app's exports both write."""
    from explorer.core.export import checkpoint_sha256
    from explorer.core.quality import path_report

    ckpt = pipeline.ckpt
    report = path_report(pipeline, path)
    return make_bundle(ckpt, checkpoint_sha256(ckpt.path) if ckpt.path else "", path, params,
                       {"per_frame": report["per_frame"], "total": report["total"]}, names=names)
