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
    # an audio-visual checkpoint without a part named: the smoothness of every part, averaged
    parts = [part] if part in pipeline.parts else list(pipeline.parts)
    decodes = {p: pipeline.values(path.latents, part=p).numpy() for p in parts}
    per_frame["smoothness"] = np.mean([smoothness(d) for d in decodes.values()], axis=0)
    decoded = decodes[parts[0]]
    if signals is not None:
        per_frame["interpolation_mse"], _ = interpolation_mse(decoded, signals)
    if truth is not None:
        per_frame["ground_truth_mse"] = ground_truth_error(decoded, truth)
    return {"method": path.method, "frames": len(path.latents), "length": path.length, "note": path.note,
            "per_frame": {k: v.tolist() for k, v in per_frame.items()}, "total": summarize(per_frame)}


def compare_paths(pipeline, signals: np.ndarray, pairs: int = 50, frames: int = 32, k: int = 10, seed: int = 0,
                  coords=None, truth=None) -> dict:
    """Lerp against geodesic over random pairs of training items (Yadlin & Botchan's comparison, on this
    checkpoint): for each, the means over pairs of the off-manifold distance, interpolationMSE (each
    frame's MSE to the closest training signal) and smoothness (RMS change between consecutive frames).

    ``signals [N, P, C]``: the training signals at ``coords`` (default: the checkpoint's grid), in the
    order of its latents. ``truth(a, b, frames) -> [T, P, C]``, where the data's generating factors are
    known, gives the frames of the perfect interpolation (linear in the factors) at the same points;
    the seed's ground-truth metric (§6.2.2) is then the mean MSE of the decoded frames to it
    (``ground_truth_mse_mean``; the seed takes the smallest over all perfect interpolations, and
    with factors that do not wrap around there is exactly one).
    """
    from explorer.core.graph import knn_graph
    from explorer.core.paths import make_path

    z = pipeline.ckpt.latents.numpy()
    graph = knn_graph(z, k)
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {"lerp": [], "geodesic": []}
    fell_back = 0
    for _ in range(pairs):
        a, b = (int(i) for i in rng.choice(len(z), 2, replace=False))
        true = None if truth is None else truth(a, b, frames)
        for method in rows:
            path = make_path(method, z, a, b, frames, graph)
            fell_back += method == "geodesic" and path.method != "geodesic"
            decoded = pipeline.values(path.latents, coords=coords).numpy()
            row = {"off_manifold_mean": off_manifold(path.latents, z, k).mean(),
                   "interpolation_mse_mean": interpolation_mse(decoded, signals)[0].mean(),
                   "smoothness_mean": smoothness(decoded).mean(), "length_mean": path.length}
            if true is not None:
                # a geodesic has its own frame count; the truth is read at the same fractions of the way
                at = np.linspace(0, frames - 1, len(decoded)).round().astype(int)
                row["ground_truth_mse_mean"] = ground_truth_error(decoded, true[at]).mean()
            rows[method].append(row)
    out = {"pairs": pairs, "frames": frames, "k": k, "graph": graph.describe(), "geodesic_fell_back_to_lerp": fell_back}
    for method, r in rows.items():
        out[method] = {key: float(np.mean([x[key] for x in r])) for key in r[0]}
    return out
