import json

import numpy as np
import pytest
import trimesh

from explorer.models.checkpoint import load_checkpoint
from explorer.data import load_dataset
from explorer.errors import ExplorerError
from explorer.modalities import get_modality

from conftest import run_cli


def write_meshes(folder, n=8):
    """Real mesh files in four formats, in two class folders: boxes and spheres of varied proportions."""
    rng = np.random.default_rng(0)
    for i in range(n):
        cls = "box" if i % 2 else "ball"
        (folder / cls).mkdir(parents=True, exist_ok=True)
        if cls == "box":
            mesh = trimesh.creation.box(extents=rng.uniform(0.3, 1.0, 3))
        else:
            mesh = trimesh.creation.icosphere(subdivisions=2)
            mesh.apply_scale(rng.uniform(0.4, 1.0, 3))
        ext = ("obj", "ply", "stl", "off")[i % 4]
        mesh.export(folder / cls / f"m{i}.{ext}")
    return folder


def test_superquadrics_keep_factors_shared_points_and_signs():
    ds = load_dataset("superquadrics", "shape", max_items=6)
    assert ds.values.shape == (6, 4096, 1) and ds.coords.shape == (6, 4096, 3)
    assert ds.shared_points == 2048 and np.array_equal(ds.coords[0, :2048], ds.coords[5, :2048])
    assert set(ds.labels) == {"a", "b", "c", "e1", "e2"}
    assert np.median(np.abs(ds.values[:, 2048:])) < 0.05  # near-surface half
    assert np.allclose(ds.exact(3, ds.coords[3]), ds.values[3], atol=1e-6)


def test_mesh_folder_in_four_formats_normalised_with_labels(tmp_path):
    ds = load_dataset(str(write_meshes(tmp_path / "meshes")), "shape")
    assert len(ds.names) == 8 and set(ds.labels["folder"]) == {"box", "ball"}
    assert ds.coords.shape == (8, 4096, 3) and np.abs(ds.coords).max() <= 1
    centre = np.zeros((1, 3))
    assert all(ds.exact(i, centre)[0, 0] < 0 for i in range(8))  # every shape holds the origin
    (tmp_path / "meshes" / "bad.obj").write_text("v 1 2\nf 1 2 3 4 5\n")
    with pytest.raises(ExplorerError, match="bad.obj"):
        load_dataset(str(tmp_path / "meshes"), "shape")


def test_a_shell_makes_an_open_sheet_a_solid_that_trains_and_evaluates_with_it(tmp_path, monkeypatch):
    """An open mesh (a curtain, a card) has no inside by winding numbers, so a 64³ grid sees nothing of it;
    ``--set shell=D`` moves every surface out by D: the sheet becomes a solid 2D thick, and the checkpoint
    keeps D so that eval, and files read for it, see the same shapes."""
    from explorer.modalities.sdf import grid_coords

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = write_meshes(tmp_path / "meshes", n=4)
    sheet = trimesh.Trimesh([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    sheet.export(folder / "ball" / "sheet.ply")
    grid = grid_coords(64).numpy()
    plain = load_dataset(str(folder), "shape", points=512)
    shelled = load_dataset(str(folder), "shape", points=512, shell=0.02)
    i = plain.names.index("ball/sheet.ply")
    assert (plain.exact(i, grid) < 0).sum() == 0 and "shell" not in plain.source
    assert (shelled.exact(i, grid) < 0).sum() >= 64 * 64 and shelled.source["shell"] == 0.02
    # the samples are about the moved surface: as close to it as the plain ones are to theirs
    assert np.median(np.abs(shelled.values[:, 256:])) < 2 * np.median(np.abs(plain.values[:, 256:]))

    out = tmp_path / "s.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "shape", "--preset", "tiny", "--steps", "20",
            "--set", "shell=0.02", "--out", str(out))
    assert load_checkpoint(out).data["shell"] == 0.02
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "2").stdout)
    assert all(r["unscored_items"] == 0 for r in result.values())  # the sheet is scored: it has an inside now
    for bad, why in (("shell=-1", "shell"), ("shell=thin", "takes a number")):
        failed = run_cli("train", "--data", str(folder), "--modality", "shape", "--preset", "tiny", "--set", bad,
                         "--out", str(tmp_path / "x.safetensors"), check=False)
        assert failed.returncode != 0 and why in failed.stderr and not (tmp_path / "x.safetensors").exists()


def test_a_shape_checkpoint_trains_and_reports_chamfer_and_iou(tmp_path):
    folder = write_meshes(tmp_path / "meshes")
    out = tmp_path / "s.safetensors"
    run_cli("train", "--data", str(folder), "--modality", "shape", "--preset", "tiny", "--steps", "30", "--out", str(out))
    ckpt = load_checkpoint(out)
    assert ckpt.modality["name"] == "shape" and ckpt.model_config.in_dim == 3
    result = json.loads(run_cli("eval", str(out), "--json", "--fit-steps", "5").stdout)
    for key in ("sdf_l1", "sign_accuracy", "chamfer", "iou"):
        assert key in result["train"], key
    assert 0 <= result["train"]["iou"] <= 1


def test_shape_mesh_is_written_and_reads_back_closed(tmp_path):
    shape = get_modality("shape")
    grid = shape.coords((32,))
    sdf = (grid.norm(dim=1) - 0.6)[:, None]
    mesh = shape.to_signal(sdf, (32,))
    for ext in ("ply", "obj"):
        shape.write(tmp_path / f"m.{ext}", mesh)
        back = trimesh.load(tmp_path / f"m.{ext}", force="mesh")
        assert back.is_watertight and abs(back.volume - 4 / 3 * np.pi * 0.6**3) < 0.05


@pytest.mark.skipif(not __import__("pathlib").Path("/usr/share/sweethome3d/furniture/KatorLegaz.sh3f").exists(),
                    reason="Debian package sweethome3d-furniture is not installed (scripts/bootstrap.sh installs it)")
def test_sweet_home_3d_furniture_becomes_a_labelled_mesh_folder(tmp_path):
    from explorer.data.furniture import CATALOG_DIR, build_furniture

    out = tmp_path / "furniture"
    assert list(build_furniture(out, [CATALOG_DIR / "KatorLegaz.sh3f"], max_items=6))[-1] == 6
    ds = load_dataset(str(out), "shape")
    assert len(ds.names) == 6 and len(ds.labels["category"]) == 6 and ds.labels["catalog"][0] == "KatorLegaz"
    near = ds.values[:, ds.shared_points :, 0]
    assert np.median(np.abs(near)) < 0.05
    assert all((near[i] < 0).any() and (near[i] > 0).any() for i in range(6))  # samples straddle each surface
    # doors and windows are thin panels; the bulky pieces hold a real volume
    assert max((ds.values[i, : ds.shared_points, 0] < 0).mean() for i in range(6)) > 0.05


def test_mesh_samples_are_cached_and_resampled_when_a_file_changes(tmp_path, monkeypatch):
    import os

    import explorer.data.shapes as shapes

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = write_meshes(tmp_path / "meshes", n=4)
    first = load_dataset(str(folder), "shape", points=512)
    assert first.coords.shape == (4, 512, 3) and first.shared_points == 256
    # near-surface samples at two distances: some very close to the surface, some further out
    near = np.abs(first.values[:, 256:, 0])
    assert (near < 0.01).mean() > 0.4 and (near > 0.02).mean() > 0.05

    def no_sdf(*a, **k):
        raise AssertionError("the samples should have come from the cache")

    real_sdf = shapes.shell_sdf
    monkeypatch.setattr(shapes, "shell_sdf", no_sdf)
    again = load_dataset(str(folder), "shape", points=512)
    assert np.array_equal(again.values, first.values) and np.array_equal(again.coords, first.coords)
    monkeypatch.setattr(shapes, "shell_sdf", real_sdf)
    # exact distances read the mesh on demand
    assert again.exact(0, np.zeros((1, 3), np.float32))[0, 0] < 0

    path = next(folder.rglob("m1.*"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    calls = []
    monkeypatch.setattr(shapes, "shell_sdf", lambda *a: calls.append(1) or real_sdf(*a))
    load_dataset(str(folder), "shape", points=512)
    assert calls  # a changed file is sampled again
