"""How good a path is, per frame and in total.

- off-manifold distance: from each frame to its LLE projection on its k nearest training latents;
- interpolationMSE (Yadlin & Botchan §5): each decoded frame's MSE to its nearest training signal;
- smoothness: the RMS signal change between consecutive frames (jumps show as peaks);
- ground truth (the seed's proposed metric, §6.2.2): where a dataset's factors are known, each
  decoded frame's MSE to the true signal at the linearly interpolated factors.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.models.losses import lle_projection, nearest_latents


def off_manifold(frames, bank, k: int = 10) -> np.ndarray:
    """``[T]`` latent distance from each frame to the affine hull of its k nearest training latents."""
    z = torch.as_tensor(np.asarray(frames), dtype=torch.float32)
    b = torch.as_tensor(np.asarray(bank), dtype=torch.float32)
    proj, _ = lle_projection(z, b[nearest_latents(z, b, min(k, b.shape[0]))])
    return (z - proj).norm(dim=1).numpy()


def interpolation_mse(decoded: np.ndarray, signals: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """``(mse [T], nearest [T])``: each frame's MSE to the closest training signal and that signal's index.

    ``decoded: [T, ...]`` and ``signals: [N, ...]`` in the same units (field values on the same grid).
    """
    f = torch.as_tensor(np.asarray(decoded, dtype=np.float32)).flatten(1)
    best = torch.full((f.shape[0],), float("inf"))
    arg = torch.zeros(f.shape[0], dtype=torch.long)
    for i in range(0, len(signals), chunk):
        s = torch.as_tensor(np.asarray(signals[i : i + chunk], dtype=np.float32)).flatten(1)
        d = torch.cdist(f, s) ** 2 / f.shape[1]
        v, j = d.min(dim=1)
        better = v < best
        best[better], arg[better] = v[better], j[better] + i
    return best.numpy(), arg.numpy()


def smoothness(decoded: np.ndarray) -> np.ndarray:
    """``[T - 1]`` RMS difference between consecutive decoded frames."""
    f = np.asarray(decoded, dtype=np.float32).reshape(len(decoded), -1)
    return np.sqrt(((f[1:] - f[:-1]) ** 2).mean(axis=1))


def ground_truth_error(decoded: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``[T]`` MSE of each decoded frame to the true signal at that frame's interpolated factors."""
    a = np.asarray(decoded, dtype=np.float32).reshape(len(decoded), -1)
    b = np.asarray(truth, dtype=np.float32).reshape(len(truth), -1)
    return ((a - b) ** 2).mean(axis=1)


def summarize(per_frame: dict[str, np.ndarray]) -> dict[str, float]:
    """Path totals: the mean of each per-frame measure and the largest smoothness step."""
    out = {f"{k}_mean": float(np.mean(v)) for k, v in per_frame.items() if len(v)}
    if "smoothness" in per_frame and len(per_frame["smoothness"]):
        out["smoothness_max"] = float(np.max(per_frame["smoothness"]))
    return out


def path_report(pipeline, path, signals: np.ndarray | None = None, truth: np.ndarray | None = None,
                k: int = 10, part: str | None = None) -> dict:
    """Per-frame measures and totals of a ``LatentPath`` decoded by ``pipeline`` at the trained resolution.

    ``signals [N, P, C]``: the training signals on the same grid (for interpolationMSE);
    ``truth [T, P, C]``: true frames where the factors are known (``explorer.data.factors``).
    """
    bank = pipeline.ckpt.latents.numpy()
    per_frame = {"off_manifold": off_manifold(path.latents, bank, k)}
    decoded = pipeline.values(path.latents, part=part).numpy()
    per_frame["smoothness"] = smoothness(decoded)
    if signals is not None:
        per_frame["interpolation_mse"], _ = interpolation_mse(decoded, signals)
    if truth is not None:
        per_frame["ground_truth_mse"] = ground_truth_error(decoded, truth)
    return {"method": path.method, "frames": len(path.latents), "length": path.length, "note": path.note,
            "per_frame": {k: v.tolist() for k, v in per_frame.items()}, "total": summarize(per_frame)}


def compare_paths(pipeline, signals: np.ndarray, pairs: int = 50, frames: int = 32, k: int = 10, seed: int = 0) -> dict:
    """Lerp against geodesic over random pairs of training items: mean off-manifold distance,
    interpolationMSE and smoothness of each (Yadlin & Botchan's comparison, on this checkpoint)."""
    from explorer.core.graph import knn_graph
    from explorer.core.paths import make_path

    z = pipeline.ckpt.latents.numpy()
    graph = knn_graph(z, k)
    rng = np.random.default_rng(seed)
    rows = {"lerp": [], "geodesic": []}
    fell_back = 0
    for _ in range(pairs):
        a, b = (int(i) for i in rng.choice(len(z), 2, replace=False))
        for method in rows:
            path = make_path(method, z, a, b, frames, graph)
            fell_back += method == "geodesic" and path.method != "geodesic"
            decoded = pipeline.values(path.latents).numpy()
            rows[method].append((off_manifold(path.latents, z, k).mean(), interpolation_mse(decoded, signals)[0].mean(),
                                 smoothness(decoded).mean(), path.length))
    out = {"pairs": pairs, "frames": frames, "k": k, "graph": graph.describe(), "geodesic_fell_back_to_lerp": fell_back}
    for method, r in rows.items():
        r = np.asarray(r)
        out[method] = {"off_manifold_mean": float(r[:, 0].mean()), "interpolation_mse_mean": float(r[:, 1].mean()),
                       "smoothness_mean": float(r[:, 2].mean()), "length_mean": float(r[:, 3].mean())}
    return out
