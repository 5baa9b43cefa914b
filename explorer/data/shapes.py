"""3-D shape sets as SDF samples: synthetic superquadrics with known factors, and folders of meshes.

Every item gets the same ``shared`` uniform points of the cube (so that items can be compared
point by point, for GEM's isometry loss) followed by as many near-surface points (surface
samples plus Gaussian noise): half near the surface, half uniform.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels, streamed
from explorer.errors import ExplorerError
from explorer.modalities.mesh_file import MESH_SUFFIXES, load_mesh
from explorer.modalities.sdf import (
    grid_coords,
    near_surface_points,
    sdf_to_mesh,
    shared_uniform_points,
    shell_sdf,
    superquadric_sdf,
)

SUPERQUADRIC_FACTORS = {
    "a": (0.3, 0.8), "b": (0.3, 0.8), "c": (0.3, 0.8),  # radii along x, y, z
    "e1": (0.3, 1.2), "e2": (0.3, 1.2),  # roundness: small = box-like, 1 = ellipsoid
}


def superquadrics_set(n: int = 500, points: int = 4096, seed: int = 0, test_fraction: float = 0.1,
                      resolution: int = 64) -> SignalSet:
    rng = np.random.default_rng(seed)
    factors = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in SUPERQUADRIC_FACTORS.items()}

    def exact(i: int, pts: np.ndarray) -> np.ndarray:
        f = {k: v[i] for k, v in factors.items()}
        return superquadric_sdf(pts, (f["a"], f["b"], f["c"]), f["e1"], f["e2"])[:, None]

    shared = shared_uniform_points(points // 2)
    grid = grid_coords(48).numpy()
    coords, values = [], []
    for i in range(n):
        v, f = sdf_to_mesh(exact(i, grid)[:, 0].reshape(48, 48, 48))
        near = near_surface_points(v, f, points - len(shared), rng)
        pts = np.concatenate([shared, near])
        coords.append(pts)
        values.append(exact(i, pts))
    names = [f"superquadric-{i:04d}" for i in range(n)]
    return SignalSet(
        modality="shape", values=np.stack(values), resolution=(resolution,), names=names,
        labels={k: [float(x) for x in v] for k, v in factors.items()}, is_test=hash_split(names, test_fraction),
        source={"spec": "superquadrics", "max_items": n, "seed": seed, "resolution": resolution},
        coords=np.stack(coords), shared_points=len(shared), exact=exact,
    )


SAMPLING = 3
"""Version of how mesh folders are sampled (part of the cache key: a change resamples). 3: distances near open
meshes are distances (``sdf.mesh_sdf``), no longer shrunk by the winding number."""


def mesh_folder_set(folder: str | Path, max_items: int | None = None, points: int = 4096, seed: int = 0,
                    test_fraction: float = 0.1, resolution: int = 64, stream: bool | None = None,
                    progress=None, shell: float = 0.0) -> SignalSet:
    """SDF samples of every mesh in ``folder``: ``points // 2`` uniform points shared by all items, then
    near-surface points, half within about 0.025 of the surface and half within about 0.005 (thin
    parts — plates, frames, legs — are only seen by the close ones). Computing the distances takes
    minutes for a large folder, so the samples are kept in the user cache, keyed by the files'
    names, sizes and times and the options; the meshes themselves are read again only when an exact
    signed distance is asked for (grid metrics). A folder whose samples would pass
    ``decoded.STREAM_FROM_BYTES`` (or any, with ``stream=True``) is sampled by worker processes, each mesh
    with a generator of its own (``samples_row``), into a memory-mapped array (``io.decoded``). A ``shell``
    moves every surface out by that distance (``sdf.shell_sdf``: open meshes become thin solids)."""
    if not (isinstance(shell, (int, float)) and 0.0 <= shell <= 0.5):
        raise ExplorerError(f"shell {shell!r}: the distance a mesh's surface is moved out is from 0 to 0.5")
    shell = float(shell)
    folder = Path(folder)
    paths = find_files(folder, MESH_SUFFIXES, "OBJ, PLY, STL or OFF meshes", max_items)
    paths, both = streamed(folder, paths, test_fraction, partial(samples_row, points=points, seed=seed, shell=shell),
                           (points, 4), "mesh SDF samples " + _sampling_key(points, seed, shell), stream, progress)
    coords, values = _cached_samples(paths, points, seed, shell) if both is None else (both[..., :3], both[..., 3:])
    names, labels = names_and_labels(folder, paths)
    meshes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def exact(i: int, pts: np.ndarray) -> np.ndarray:
        if i not in meshes:
            meshes[i] = load_mesh(paths[i])
        return shell_sdf(pts, *meshes[i], shell)[:, None]

    source = {"spec": str(folder.resolve()), "max_items": max_items, "seed": seed, "resolution": resolution}
    if points != 4096:
        source["points"] = points
    if shell:
        source["shell"] = shell
    return SignalSet(
        modality="shape", values=values, resolution=(resolution,), names=names, labels=labels,
        is_test=hash_split(names, test_fraction), source=source, coords=coords, shared_points=points // 2,
        exact=exact,
    )


def _sampling_key(points: int, seed: int, shell: float) -> str:
    """What a folder's cached samples depend on besides its files (no shell: the key of before shells)."""
    return f"{SAMPLING} {points} {seed}" + (f" shell {shell!r}" if shell else "")


def _sample_mesh(path: Path, points: int, rng: np.random.Generator, shell: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    v, f = load_mesh(path)
    shared = shared_uniform_points(points // 2)
    near = points - len(shared)
    pts = np.concatenate([shared, near_surface_points(v, f, near // 2, rng, offset=shell),
                          near_surface_points(v, f, near - near // 2, rng, std=0.005, offset=shell)])
    sdf = shell_sdf(pts, v, f, shell)[:, None]
    if not np.isfinite(sdf).all():
        raise ExplorerError(f"{path}: its signed distances came out NaN or infinite; check the mesh for broken faces")
    return pts, sdf


def samples_row(path: Path, points: int, seed: int, shell: float = 0.0) -> np.ndarray:
    """``[points, 4]``: one mesh's sample points and signed distances, from a generator of its own (seeded by
    ``seed`` and the file's path), so that worker processes can sample meshes in any order."""
    import zlib

    pts, sdf = _sample_mesh(path, points, np.random.default_rng([seed, zlib.crc32(str(path).encode())]), shell)
    return np.concatenate([pts, sdf], axis=1)


def _cached_samples(paths: list[Path], points: int, seed: int, shell: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(coords [N, P, 3], values [N, P, 1])`` of the meshes at ``paths``, from the cache when it has them."""
    import hashlib
    import io

    from explorer.io.cache import user_cache
    from explorer.io.atomic import atomic_write_bytes

    h = hashlib.sha256(_sampling_key(points, seed, shell).encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()} {st.st_size} {st.st_mtime_ns}".encode())
    cache = user_cache("samples", h.hexdigest()[:32] + ".npz")
    try:
        with np.load(cache) as data:
            return data["coords"], data["values"]
    except (OSError, ValueError, KeyError):
        pass
    rng = np.random.default_rng(seed)
    samples = [_sample_mesh(p, points, rng, shell) for p in paths]
    coords = np.stack([c for c, _ in samples]).astype(np.float32)
    values = np.stack([v for _, v in samples]).astype(np.float32)
    buf = io.BytesIO()
    np.savez(buf, coords=coords, values=values)
    try:
        atomic_write_bytes(cache, buf.getvalue())
    except ExplorerError:
        pass  # a read-only or full cache costs time on the next run, nothing else
    return coords, values
