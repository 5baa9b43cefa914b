"""Signed-distance-field geometry for the shape modality: grids, meshes, samples and metrics.

Convention: the SDF is negative inside, positive outside, over the cube [-1, 1]^3; meshes are
normalised into [-0.9, 0.9]^3 so that the surface never touches the cube's faces.
"""
from __future__ import annotations

import numpy as np
import torch


def shared_uniform_points(n: int, seed: int = 12345) -> np.ndarray:
    """``[n, 3]`` uniform points of the cube, the same for every item (GEM's isometry compares items there)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, 3)).astype(np.float32)


def grid_coords(resolution: int) -> torch.Tensor:
    """``[R^3, 3]`` grid points spanning [-1, 1] inclusive, ``ij`` order (x slowest)."""
    axis = torch.linspace(-1.0, 1.0, resolution)
    return torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(-1, 3)


def sdf_to_mesh(sdf: np.ndarray, level: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes on an ``[R, R, R]`` grid from ``grid_coords(R)``; vertices mapped back to [-1, 1]^3.

    Returns ``(vertices [V, 3], faces [F, 3])``; both are empty when the level set is not crossed.
    """
    from skimage.measure import marching_cubes

    r = sdf.shape[0]
    if not (sdf.min() < level < sdf.max()):
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64)
    spacing = 2.0 / (r - 1)
    verts, faces, _, _ = marching_cubes(sdf, level=level, spacing=(spacing,) * 3)
    # skimage orients the faces so that, for an SDF positive outside, they point outwards
    return (verts - 1.0).astype(np.float32), faces.astype(np.int64)


def normalize_vertices(vertices: np.ndarray, extent: float = 0.9) -> np.ndarray:
    """Centre the bounding box at the origin and scale its longest side to ``2 * extent``."""
    lo, hi = vertices.min(0), vertices.max(0)
    scale = (hi - lo).max()
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError("the mesh has no extent")
    return ((vertices - (lo + hi) / 2) * (2 * extent / scale)).astype(np.float64)


def normalize_into_sphere(vertices: np.ndarray, radius: float = 1 / 1.03) -> np.ndarray:
    """DeepSDF's normalisation: the bounding box's centre at the origin, the farthest vertex at ``radius``
    (the unit sphere less DeepSDF's 3 % margin)."""
    lo, hi = vertices.min(0), vertices.max(0)
    centred = vertices - (lo + hi) / 2
    far = np.linalg.norm(centred, axis=1).max()
    if not np.isfinite(far) or far <= 0:
        raise ValueError("the mesh has no extent")
    return (centred * (radius / far)).astype(np.float64)


def mesh_sdf(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Signed distance of ``points [P, 3]`` to a mesh: the distance to the nearest face, negative where the
    fast winding number passes 1/2 (inside; open meshes work).

    point-cloud-utils (libigl) returns the distance times ``1 - 2|w|`` for a winding number ``w``: exact for a
    closed mesh, but near an open one (a sheet, a model with gaps) shrunk towards 0, so only its sign is
    kept and the distance is measured from the nearest point it reports (where that point is undefined, on a
    face of no area, its own distance stands)."""
    import point_cloud_utils as pcu

    n = len(points)
    if n == 1:  # point-cloud-utils 0.34 answers 0 for a lone query point: ask for it twice
        points = np.repeat(points, 2, axis=0)
    p = np.ascontiguousarray(points, np.float64)
    v, f = np.ascontiguousarray(vertices, np.float64), np.ascontiguousarray(faces, np.int32)
    s, face, bary = pcu.signed_distance_to_mesh(p, v, f)
    s = np.asarray(s)
    with np.errstate(invalid="ignore"):
        d = np.linalg.norm(p - np.einsum("pk,pkd->pd", bary, v[f[face]]), axis=1)
    d = np.where(np.isfinite(d), d, np.abs(s))
    return np.where(s < 0, -d, d).astype(np.float32)[:n]


def near_surface_points(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator,
                        std: float = 0.025, offset: float = 0.0) -> np.ndarray:
    """``n`` points near a mesh's surface: surface samples plus Gaussian noise, clipped to the cube. With an
    ``offset``, near the surface moved out that far (``shell_sdf``): each sample is stepped along its face's
    normal to the side where the moved surface is (either side of an open sheet, at random)."""
    import trimesh

    mesh = trimesh.Trimesh(vertices, faces, process=False)
    pts, face = trimesh.sample.sample_surface(mesh, n, seed=int(rng.integers(2**31)))
    if offset:
        step = mesh.face_normals[face] * offset
        both = np.concatenate([pts + step, pts - step])
        miss = np.abs(mesh_sdf(both, vertices, faces) - offset).reshape(2, n)  # 0 on the moved surface
        tie = np.abs(miss[0] - miss[1]) < 0.25 * offset
        outward = np.where(tie, rng.random(n) < 0.5, miss[0] <= miss[1])
        pts = np.where(outward[:, None], pts + step, pts - step)
    return np.clip(pts + rng.normal(0.0, std, pts.shape), -1.0, 1.0).astype(np.float32)


def shell_sdf(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, shell: float = 0.0) -> np.ndarray:
    """``mesh_sdf`` less ``shell``: the surface moved out by ``shell``. An open mesh (a leaf, a curtain, a
    card), which winding numbers leave with no inside, becomes a solid ``2 * shell`` thick that a grid
    sees; a closed one grows by ``shell``."""
    return mesh_sdf(points, vertices, faces) - np.float32(shell)


def chamfer_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric Chamfer distance: mean squared distance from each point to the other set, both ways summed."""
    from scipy.spatial import cKDTree

    if len(a) == 0 or len(b) == 0:
        return float("inf")
    d_ab, _ = cKDTree(b).query(a)
    d_ba, _ = cKDTree(a).query(b)
    return float((d_ab**2).mean() + (d_ba**2).mean())


def volumetric_iou(sdf_a: np.ndarray, sdf_b: np.ndarray) -> float:
    """Intersection over union of the insides (SDF < 0) on the same grid."""
    a, b = sdf_a < 0, sdf_b < 0
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def superquadric_sdf(points: np.ndarray, radii: tuple[float, float, float], e1: float, e2: float) -> np.ndarray:
    """Approximate signed distance to a superquadric: the radial distance (Jaklič et al.).

    ``F(p) = (|x/a|^(2/e2) + |y/b|^(2/e2))^(e2/e1) + |z/c|^(2/e1)`` is homogeneous of degree
    ``2/e1``, so along the ray of unit direction ``u`` the surface lies at ``rho(u) = F(u)^(-e1/2)``
    and the radial distance is ``|p| - rho(u)``: exact on that ray, signed, well defined at the
    centre, and a good distance estimate near the surface, which is what training and meshing need.
    """
    a, b, c = radii
    p = np.asarray(points, np.float64)
    r = np.linalg.norm(p, axis=1)
    u = np.where(r[:, None] > 1e-12, p / np.maximum(r, 1e-12)[:, None], np.array([1.0, 0.0, 0.0]))
    x, y, z = np.abs(u[:, 0]) / a, np.abs(u[:, 1]) / b, np.abs(u[:, 2]) / c
    f = (x ** (2 / e2) + y ** (2 / e2)) ** (e2 / e1) + z ** (2 / e1)
    return (r - f ** (-e1 / 2)).astype(np.float32)
