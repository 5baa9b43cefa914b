"""3-D shapes as signed-distance fields over [-1, 1]^3 (negative inside); meshes by marching cubes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.io.atomic import atomic_write_bytes
from explorer.modalities.base import Observed, check_suffix
from explorer.modalities.masks import half_space_mask
from explorer.modalities.mesh_file import MESH_FITS, MESH_SUFFIXES, load_mesh
from explorer.modalities.render import shade_sdf
from explorer.modalities.sdf import (
    chamfer_distance,
    grid_coords,
    near_surface_points,
    sdf_to_mesh,
    shared_uniform_points,
    shell_sdf,
    volumetric_iou,
)

MAX_GRID = 256
"""The largest stored grid side: 256³ cells."""
CLAMP = 0.1
"""DeepSDF's clamp: distances beyond it do not matter for the surface."""


class ShapeModality:
    name = "shape"
    produces = ("pictures", "meshes")
    """What an export of this part can hold (``core.export``): rendered frames, or the meshes themselves."""
    bf16_decode = False
    """``precision auto`` decodes shapes in float32: bfloat16 rounding (up to 0.004 on the shipped
    furniture model) flips the sign of near-zero distances far from the surface, and the specks it
    leaves at the grid's edge make exported meshes open."""
    in_dim = 3
    signal_words = ("shape", "shapes")
    preset_settings = {name: {"omega0_first": 5.0, "coords_per_signal": 1024, "batch_size": 32, "shell": 0.016}
                       for name in ("small", "base")}
    """What the ``small`` and ``base`` presets change for shapes (``train.config.preset``): with the image
    first-layer omega0 of 30 the fields were high-frequency noise away from the samples, every decoded
    grid a cloud of specks; omega0 5 gave smooth shapes (``checkpoints/furniture.md``). An SDF item has
    thousands of samples, of which a thousand per step cover the surface and the space around it. Mesh
    surfaces are moved out by half a cell of the 64³ grid (``shell``): an open mesh — a curtain, a leaf, a
    card — has no inside, and would decode as specks; as a solid one cell thick it is a shape."""

    def __init__(self, mesh_fit: str = "cube", narrow_band: bool = True, bounds=None) -> None:
        if mesh_fit not in MESH_FITS:
            raise ExplorerError(f"shape option mesh_fit is {mesh_fit!r}; it is one of {', '.join(MESH_FITS)}")
        self.mesh_fit = mesh_fit
        """How a mesh file read for this model is scaled into its space: ``"cube"`` ([-0.9, 0.9]³, as this
        project's shape data is made) or ``"sphere"`` (DeepSDF's unit sphere: an imported DeepSDF model)."""
        if not isinstance(narrow_band, bool):
            raise ExplorerError("shape option narrow_band must be true or false")
        self.narrow_band = narrow_band
        self.bounds = None if bounds is None else _check_bounds(bounds)
        """``[[x0, y0, z0], [x1, y1, z1]]``: the box of a person's own decoder (``explorer.show``'s domain) that
        this project's cube [-1, 1]³ stands for. Meshes are written in those units, and mesh files read for
        the model are taken as in them (``mesh_fit`` is not applied); None: the cube itself."""
        """Whether a fine grid may be decoded only near the surface (``DecodePipeline.sdf_grid``): true of a
        signed distance in the cube's units; an occupancy field or another scale is decoded whole."""

    def check_resolution(self, resolution: tuple[int, ...]) -> None:
        if len(resolution) != 1 or not 4 <= resolution[0] <= MAX_GRID:
            raise ExplorerError(f"a shape's resolution is [R], its grid's side, from 4 to {MAX_GRID}; not {list(resolution)}")

    def coords(self, resolution: tuple[int]) -> torch.Tensor:
        """An ``R x R x R`` grid spanning [-1, 1]^3: ``[R^3, 3]``."""
        return grid_coords(int(resolution[0]))

    is_sdf = True
    quick_signal_iters = None

    def to_signal(self, values: torch.Tensor, resolution: tuple[int], level: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """SDF values on the grid ``[R^3, 1]`` -> mesh ``(vertices [V, 3], faces [F, 3])`` at ``level``."""
        r = int(resolution[0])
        sdf = values.detach().float().cpu().numpy().reshape(r, r, r)
        return sdf_to_mesh(sdf, level)

    file_suffix = ".ply"
    write_suffixes = (".ply", ".obj", ".stl", ".off")

    read_suffixes = tuple(sorted(MESH_SUFFIXES))
    file_kind = "a mesh"

    def read_file(self, path: Path, pipeline, part, invert: bool | None = None) -> Observed:
        """The mesh's SDF at 2 048 uniform points shared with the training items and 2 048 near its surface;
        ``exact`` gives it anywhere."""
        if self.bounds is None:
            v, f = load_mesh(path, self.mesh_fit)
        else:
            v, f = load_mesh(path, "keep")
            v = self.from_file_units(v)
        shell = float(pipeline.ckpt.data.get("shell", 0.0))  # the model's surfaces were moved out this far
        shared = shared_uniform_points(2048)
        pts = np.concatenate([shared, near_surface_points(v, f, 2048, np.random.default_rng(0), offset=shell)])
        values = torch.from_numpy(shell_sdf(pts, v, f, shell)[None, :, None])
        return Observed(part, values, torch.from_numpy(pts)[None], exact=lambda q: shell_sdf(q, v, f, shell)[:, None])

    dataset_reader = "shapes"
    """Synthetic superquadrics or a folder of meshes."""

    def data_resolution(self, info: dict) -> int | None:
        return None

    def target_options(self, target: str | None, preset: str) -> dict | None:
        return None

    def export_memory(self, fmt: str, resolution: tuple[int, ...], options) -> tuple[int, int]:
        """Once the grid's points ``[R³, 3]``, its values and their band; a frame a mesh of about 2.5 R²
        vertices and 5 R² faces and its file (a ZIP of meshes), or a rendered picture."""
        r = options.resolution or 64
        if r > MAX_GRID:
            raise ExplorerError(f"--resolution {r}: a shape's grid is at most {MAX_GRID} (its side)")
        once = r**3 * 4 * 8
        if fmt == ".zip":
            return 300 * r * r, once
        if fmt in (".gif", ".mp4", ".png"):
            return options.render_size**2 * 3 * 3, once
        return 0, once

    mask_kind = "half-space"

    def hidden_mask(self, spec: str, resolution: tuple[int, ...], coords: np.ndarray) -> np.ndarray:
        """``[P]`` bool, True where hidden: a half-space of the sample points, such as ``x>0``."""
        return half_space_mask(spec, coords)

    def visible_part(self, values, hidden, resolution):
        return None

    def preview_resolution(self, resolution: tuple[int, ...]) -> tuple[int, ...]:
        """A 32³ grid at most for the quick first mesh of a live preview."""
        return (min(32, resolution[0]),)

    def export_picture(self, pipeline, z: np.ndarray, part, options) -> np.ndarray:
        """One frame of an exported path: the surface on a ``options.resolution`` grid (64³ by default),
        rendered at ``options.render_size`` pixels."""
        return shade_sdf(pipeline.sdf_grid(z, options.resolution or 64, part=part), options.render_size)

    def export_mesh(self, pipeline, z: np.ndarray, part, options) -> tuple[np.ndarray, np.ndarray]:
        """The surface on an ``options.resolution`` grid (64³ by default), in the units files are written in."""
        v, f = sdf_to_mesh(pipeline.sdf_grid(z, options.resolution or 64, part=part))
        return self.to_file_units(v), f

    def to_file_units(self, vertices: np.ndarray) -> np.ndarray:
        """Vertices in the cube [-1, 1]³ as they are written to files: in ``bounds`` where the model has them."""
        if self.bounds is None:
            return vertices
        lo, hi = (np.asarray(b, np.float64) for b in self.bounds)
        return (np.asarray(vertices, np.float64) * (hi - lo) / 2 + (hi + lo) / 2).astype(np.float32)

    def from_file_units(self, vertices: np.ndarray) -> np.ndarray:
        """``to_file_units`` undone: a file's vertices in the cube."""
        if self.bounds is None:
            return vertices
        lo, hi = (np.asarray(b, np.float64) for b in self.bounds)
        return (np.asarray(vertices, np.float64) - (hi + lo) / 2) / ((hi - lo) / 2)

    # pictures of a signal (hover thumbnails, contact sheets): the surface rendered without OpenGL
    def decoded_picture(self, pipeline, z: np.ndarray, part, grid: int) -> np.ndarray:
        return shade_sdf(pipeline.sdf_grid(z[0], grid, part=part), 4 * grid)

    def item_picture(self, data, i: int, grid: int) -> np.ndarray:
        if data.exact is None:
            raise ValueError("a shape's picture needs its exact SDF")
        return shade_sdf(np.asarray(data.exact(i, grid_coords(grid).numpy())).reshape((grid,) * 3), 4 * grid)

    def observed_picture(self, observed, resolution: tuple[int, ...], grid: int) -> np.ndarray:
        return shade_sdf(np.asarray(observed.exact(grid_coords(grid).numpy())).reshape((grid,) * 3), 4 * grid)

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """DeepSDF's clamped L1: ``| clamp(pred) - clamp(target) |`` with clamp at +-0.1."""
        return torch.mean(torch.abs(pred.clamp(-CLAMP, CLAMP) - target.clamp(-CLAMP, CLAMP)))

    def options(self) -> dict:
        return ({} if self.mesh_fit == "cube" else {"mesh_fit": self.mesh_fit}) | ({} if self.narrow_band else {"narrow_band": False}) \
            | ({} if self.bounds is None else {"bounds": self.bounds})

    def prepare(self, dataset):
        """The dataset as field values: already so."""
        return dataset

    def metrics(self, pred: torch.Tensor, target: torch.Tensor, signals=None, resolution=None,
                labels=None) -> dict[str, torch.Tensor]:
        """On sampled points ``[B, P, 1]``: clamped L1 error and the fraction of points on the right side."""
        l1 = torch.abs(pred.clamp(-CLAMP, CLAMP) - target.clamp(-CLAMP, CLAMP)).flatten(1).mean(1)
        sign = ((pred < 0) == (target < 0)).float().flatten(1).mean(1)
        return {"sdf_l1": l1, "sign_accuracy": sign}

    def grid_metrics(self, pred_sdf: np.ndarray, true_sdf: np.ndarray, points: int = 10_000, seed: int = 0) -> dict[str, float]:
        """Chamfer distance (GEM Table 2) between the two marching-cubes surfaces and volumetric IoU, on ``[R, R, R]`` grids.

        A decode with no surface has an infinite Chamfer distance. Where the true SDF has no inside on
        this grid (a mesh with no volume, such as an open sheet whose SDF is only a distance, or a part
        thinner than a cell) there is nothing to compare with: both are NaN, and the item is not scored.
        """
        import trimesh

        if not (true_sdf < 0).any():
            return {"chamfer": float("nan"), "iou": float("nan")}
        rng = np.random.default_rng(seed)
        clouds = []
        for sdf in (pred_sdf, true_sdf):
            v, f = sdf_to_mesh(sdf)
            if len(f) == 0:
                clouds.append(np.zeros((0, 3)))
                continue
            pts, _ = trimesh.sample.sample_surface(trimesh.Trimesh(v, f, process=False), points, seed=int(rng.integers(2**31)))
            clouds.append(pts)
        return {"chamfer": chamfer_distance(*clouds), "iou": volumetric_iou(pred_sdf, true_sdf)}

    def write(self, path: str | Path, mesh: tuple[np.ndarray, np.ndarray]) -> None:
        """Save a mesh of the cube [-1, 1]³ as PLY, OBJ, STL or OFF (by the file's extension), in the file units
        (``to_file_units``), atomically."""
        import trimesh

        path = Path(path)
        check_suffix(path, self.write_suffixes)
        data = trimesh.Trimesh(self.to_file_units(mesh[0]), mesh[1], process=False).export(file_type=path.suffix.lstrip(".").lower())
        atomic_write_bytes(path, data if isinstance(data, bytes) else data.encode())


def _check_bounds(bounds) -> list[list[float]]:
    try:
        arr = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (2, 3) or not np.isfinite(arr).all() or not (arr[1] > arr[0]).all():
        raise ExplorerError(f"shape option bounds must be [[x0, y0, z0], [x1, y1, z1]] with each low below its high, "
                            f"not {bounds!r}")
    return arr.tolist()
