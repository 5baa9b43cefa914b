"""Reading a mesh file: its triangles, normalised into the cube the SDF fields span."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError
from explorer.modalities.sdf import normalize_into_sphere, normalize_vertices

MESH_SUFFIXES = {".obj", ".ply", ".stl", ".off"}


MESH_FITS = ("cube", "sphere")


def load_mesh(path: Path, fit: str = "cube") -> tuple[np.ndarray, np.ndarray]:
    """Vertices normalised into [-0.9, 0.9]^3 (``fit="cube"``, how this project's shape data is made), into
    DeepSDF's unit sphere (``"sphere"``) or as written (``"keep"``), and the triangle faces, of any mesh file
    trimesh reads."""
    import trimesh

    try:
        mesh = trimesh.load(str(path), force="mesh", process=False)
    except Exception as e:  # trimesh raises many types for bad files
        raise ExplorerError(f"{path} is not a readable mesh ({e.__class__.__name__}: {e}); remove it or fix it") from e
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise ExplorerError(f"{path} has no triangles")
    faces = np.asarray(mesh.faces, dtype=np.int64)  # [F, 3]
    n = len(mesh.vertices)
    bad = (faces < 0) | (faces >= n)
    if bad.any():  # trimesh keeps the indices as written (process=False): an IndexError later
        f = int(np.argwhere(bad)[0][0])
        raise ExplorerError(f"{path}: face {f} uses vertex {int(faces[f][bad[f]][0])}, but the file has "
                            f"{n} vertices (0 to {n - 1}); fix or remove it")
    try:
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
        if fit == "keep":  # the file's own units (a model with ``bounds``): only checked
            if not np.isfinite(vertices).all():
                raise ValueError("the mesh has NaN or infinite vertices")
        else:
            vertices = (normalize_into_sphere if fit == "sphere" else normalize_vertices)(vertices)
    except ValueError as e:
        raise ExplorerError(f"{path}: {e}") from e
    return vertices, faces
