import numpy as np
import torch
import trimesh

from explorer.modalities.sdf import (
    chamfer_distance,
    grid_coords,
    mesh_sdf,
    normalize_vertices,
    near_surface_points,
    sdf_to_mesh,
    superquadric_sdf,
    volumetric_iou,
)


def sphere_sdf(r, radius=0.5, centre=(0.2, -0.1, 0.05)):
    p = grid_coords(r).numpy()
    return (np.linalg.norm(p - np.array(centre), axis=1) - radius).reshape(r, r, r)


def test_marching_cubes_maps_vertices_back_to_the_unit_cube():
    for r in (24, 48):
        v, f = sdf_to_mesh(sphere_sdf(r))
        dist = np.linalg.norm(v - np.array([0.2, -0.1, 0.05]), axis=1)
        assert np.abs(dist - 0.5).max() < 2.0 / r  # on the sphere, within a cell, at any resolution
        mesh = trimesh.Trimesh(v, f)
        assert mesh.is_watertight and mesh.volume > 0  # closed, faces outward
        assert abs(mesh.volume - 4 / 3 * np.pi * 0.5**3) / (4 / 3 * np.pi * 0.5**3) < 0.05


def test_an_empty_level_set_gives_an_empty_mesh():
    v, f = sdf_to_mesh(np.ones((8, 8, 8)))
    assert v.shape == (0, 3) and f.shape == (0, 3)


def test_winding_number_signs_work_on_an_open_mesh():
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-2])  # one side missing
    s = mesh_sdf(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.9], [0.3, 0.2, -0.1]]), open_box.vertices, open_box.faces)
    assert s[0] < 0 and s[1] > 0 and s[2] < 0
    # distances, not libigl's distance x (1 - 2|w|), which shrinks towards 0 about an open mesh
    assert np.allclose(s, [-0.5, 0.4, -0.3], atol=1e-5)
    sheet = (np.array([[-0.9, -0.9, 0], [0.9, -0.9, 0], [0.9, 0.9, 0], [-0.9, 0.9, 0]]), np.array([[0, 1, 2], [0, 2, 3]]))
    assert np.allclose(mesh_sdf(np.array([[0, 0, 0.02], [0.5, 0.5, -0.1]]), *sheet), [0.02, 0.1], atol=1e-6)
    # a face of no area (real furniture meshes have some) has no nearest point to measure from: still finite
    flat = (np.vstack([sheet[0], [[0, 0, 0.3], [0.1, 0, 0.3], [0.2, 0, 0.3]]]), np.vstack([sheet[1], [[4, 5, 6]]]))
    near_it = mesh_sdf(np.array([[0.05, 0.0, 0.35], [0.0, 0.01, 0.31], [0.1, 0.05, 0.3]]), *flat)
    assert np.isfinite(near_it).all() and (near_it > 0).all()


def test_samples_are_half_near_the_surface_and_signed():
    mesh = trimesh.creation.icosphere(subdivisions=3)
    v = normalize_vertices(mesh.vertices)
    assert np.allclose(v.max(0), 0.9, atol=1e-6)
    rng = np.random.default_rng(0)
    pts = np.concatenate([near_surface_points(v, mesh.faces, 1000, rng), rng.uniform(-1, 1, (1000, 3))])
    sdf = mesh_sdf(pts, v, mesh.faces)
    assert pts.shape == (2000, 3) and np.abs(pts).max() <= 1
    assert np.median(np.abs(sdf[:1000])) < 0.05 < np.median(np.abs(sdf[1000:]))
    exact = np.linalg.norm(pts, axis=1) - 0.9
    assert np.abs(sdf - exact).max() < 0.02


def test_chamfer_and_iou():
    a = sphere_sdf(32)
    assert volumetric_iou(a, a) == 1.0
    assert 0 < volumetric_iou(a, sphere_sdf(32, radius=0.4)) < 1
    v, _ = sdf_to_mesh(a)
    assert chamfer_distance(v, v) == 0
    assert chamfer_distance(v, v + 0.1) > chamfer_distance(v, v + 0.01) > 0


def test_superquadric_with_unit_exponents_is_an_ellipsoid_and_box_like_for_small_ones():
    p = np.array([[0.5, 0, 0], [0, 0.3, 0], [0, 0, 0.0], [0.9, 0, 0]])
    d = superquadric_sdf(p, (0.5, 0.3, 0.4), 1.0, 1.0)
    assert np.allclose(d[:2], 0, atol=1e-6) and d[2] < 0 and np.isclose(d[3], 0.4)
    corner = np.array([[0.4, 0.4, 0.4]])
    assert superquadric_sdf(corner, (0.5, 0.5, 0.5), 0.2, 0.2)[0] < 0 < superquadric_sdf(corner, (0.5, 0.5, 0.5), 1.0, 1.0)[0]


def test_grid_metrics_count_an_empty_decode_and_leave_out_a_true_shape_with_no_inside():
    """An open sheet (its SDF is only a distance, never negative) has nothing to compare a decode with:
    it is counted as unscored, not as an empty decode with IoU 0 (which is how two held-out furniture
    meshes were once reported as "fitted fields with no surface")."""
    from explorer.modalities.shape import ShapeModality
    from explorer.train.evaluate import summarise_grid_rows

    plug = ShapeModality()
    ball, smaller = sphere_sdf(24), sphere_sdf(24, radius=0.4)
    sheet = np.abs(grid_coords(24).numpy()[:, 2] - 0.1).reshape(24, 24, 24)  # a plane with no inside
    nothing = np.ones((24, 24, 24))
    rows = [plug.grid_metrics(smaller, ball), plug.grid_metrics(ball, ball), plug.grid_metrics(nothing, ball),
            plug.grid_metrics(ball, sheet)]
    assert np.isposinf(rows[2]["chamfer"]) and rows[2]["iou"] == 0.0
    assert np.isnan(rows[3]["chamfer"]) and np.isnan(rows[3]["iou"])
    summary = summarise_grid_rows(rows)
    assert summary["grid_items"] == 4 and summary["empty_surfaces"] == 1 and summary["unscored_items"] == 1
    # IoU over the three scored items (the empty decode's 0 among them); Chamfer over the two with surfaces
    assert summary["iou"] == np.mean([rows[0]["iou"], 1.0, 0.0])
    assert summary["chamfer"] == np.mean([rows[0]["chamfer"], rows[1]["chamfer"]])


def test_grid_metrics_draw_items_from_the_whole_split_not_its_first_category():
    """Items are sorted by name, so a folder's first items are all of its first category (furniture: the
    bathroom): the 16 items of eval's IoU (and of the contact sheet, by the same ``spread``) come from the
    whole split."""
    from explorer.data.dataset import spread
    from explorer.data.shapes import superquadrics_set
    from explorer.models import build_model
    from explorer.models.config import FieldConfig
    from explorer.modalities.shape import ShapeModality
    from explorer.train.evaluate import _grid_summary

    data = superquadrics_set(n=30, points=64, resolution=8)
    asked = []
    exact = data.exact
    data.exact = lambda i, pts: (asked.append(i), exact(i, pts))[1]
    model = build_model(FieldConfig(in_dim=3, out_dim=1, latent_dim=4, hidden=8, layers=1, rank=1, hyper_hidden=8,
                                    hyper_layers=1))
    pick = list(range(0, 30, 2))  # 15 items, sorted
    summary = _grid_summary(ShapeModality(), model, torch.zeros(15, 4), data, pick, 8, 4)
    assert summary["grid_items"] == 4 and asked == [0, 10, 18, 28]  # the first and last pick, two between
    assert spread(3, 16) == [0, 1, 2] and spread(5, 1) == [0] and spread(0, 4) == []
