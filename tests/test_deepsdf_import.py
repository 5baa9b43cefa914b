"""``latent-explorer import deepsdf``: a DeepSDF experiment, built and trained here in DeepSDF's own layout,
becomes a checkpoint that decodes what DeepSDF's decoder decodes, and every feature works on it."""
from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import torch

import deepsdf_reference as ref
from conftest import run_cli
from explorer.errors import ExplorerError


@pytest.fixture(scope="module")
def imported(tmp_path_factory, deepsdf_experiment):
    out = tmp_path_factory.mktemp("imported") / "shapes.safetensors"
    proc = run_cli("import", "deepsdf", str(deepsdf_experiment), "--out", str(out))
    assert "6 shapes" in proc.stdout and "epoch 300" in proc.stdout
    return out


def test_the_checkpoint_decodes_what_deepsdf_decodes_with_the_split_names(imported, deepsdf_trained):
    from explorer.models.checkpoint import load_checkpoint

    decoder, codes = deepsdf_trained
    ckpt = load_checkpoint(imported)
    assert torch.equal(ckpt.latents, codes.weight.detach())
    assert ckpt.names[:2] == ["sphere/ball", "box/cube"] and ckpt.labels["class"] == ["sphere"] + ["box"] * 5
    xyz = torch.rand(2000, 3) * 2 - 1
    with torch.no_grad():
        want = torch.stack([decoder(torch.cat([z.expand(len(xyz), -1), xyz], 1)) for z in ckpt.latents])
        got = ckpt.build_model()(ckpt.latents, xyz)
    assert (got - want).abs().max() < 1e-5  # weight norm folded, the input skip and the tanh as DeepSDF has them
    info = run_cli("info", str(imported)).stdout
    assert "DeepSDF decoder, 8 x 64 ReLU" in info and "imported from a DeepSDF experiment" in info


def half_extents(vertices: np.ndarray, kind: str) -> np.ndarray:
    """A mesh's size as its shape is described: the ball's median radius, a box's half extents."""
    if kind == "sphere":
        return np.full(3, np.median(np.linalg.norm(vertices, axis=1)))
    return (vertices.max(0) - vertices.min(0)) / 2


def test_its_meshes_are_the_shapes_it_was_trained_on(imported):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline

    ckpt = load_checkpoint(imported)
    pipeline = DecodePipeline(ckpt)
    for i, (name, kind, half) in enumerate(ref.SHAPES):
        vertices, faces = pipeline.signal(ckpt.latents[i : i + 1].numpy())[0]
        assert len(faces) > 500
        assert np.abs(half_extents(vertices, kind) - half).max() < 0.1, (name, half_extents(vertices, kind), half)


def test_export_embedding_and_completing_a_mesh_work_on_it(imported, tmp_path):
    import trimesh

    run_cli("export", str(imported), "--from", "sphere/ball", "--to", "box/plank", "--frames", "4",
            "--resolution", "32", "--out", str(tmp_path / "path.zip"))
    import zipfile

    with zipfile.ZipFile(tmp_path / "path.zip") as z:
        meshes = sorted(n for n in z.namelist() if n.endswith(".ply"))
        assert len(meshes) == 4
        ends = [trimesh.load(io.BytesIO(z.read(m)), file_type="ply").vertices for m in (meshes[0], meshes[-1])]
    assert np.abs(half_extents(ends[0], "sphere") - ref.SHAPES[0][2]).max() < 0.1
    assert np.abs(half_extents(ends[1], "box") - ref.SHAPES[3][2]).max() < 0.1
    # a brick ten times the size, off centre: scaled into DeepSDF's unit sphere as DeepSDF scales its data
    trimesh.creation.box(extents=[20, 10, 10], transform=trimesh.transformations.translation_matrix([5, 0, 0])
                         ).export(tmp_path / "brick.ply")
    out = json.loads(run_cli("embed", str(imported), str(tmp_path / "brick.ply"), "--steps", "150", "--fit-loss", "rec",
                             "--json").stdout)
    assert out["neighbours"][0]["name"] == "box/brick" and out["metrics"]["iou"] > 0.8  # fitted, the decoder frozen
    # completion: the half x > 0 hidden, two fills fitted to the rest, written as meshes
    run_cli("complete", str(imported), str(tmp_path / "brick.ply"), "--mask", "x>0", "--k", "2", "--steps", "60",
            "--out", str(tmp_path / "fills"))
    fills = sorted((tmp_path / "fills").glob("*.ply"))
    assert len(fills) >= 2 and all(len(trimesh.load(f).faces) > 100 for f in fills)


def test_old_experiments_codes_and_an_epoch_other_than_latest(tmp_path, deepsdf_trained):
    from explorer.core.deepsdf_import import import_deepsdf

    exp = ref.write(tmp_path, *deepsdf_trained, epoch=100, old_codes=True)
    (exp / "LatentCodes" / "latest.pth").unlink()
    with pytest.raises(ExplorerError, match=r"LatentCodes/latest\.pth does not exist; LatentCodes holds 100"):
        import_deepsdf(exp)
    done = import_deepsdf(exp, checkpoint="100")
    assert done.checkpoint.latents.shape == (6, ref.CODE) and done.epoch == 100


def test_a_split_that_cannot_be_found_names_shapes_by_number(tmp_path, deepsdf_trained):
    from explorer.core.deepsdf_import import import_deepsdf

    exp = ref.write(tmp_path, *deepsdf_trained)
    shutil.rmtree(tmp_path / "examples" / "splits")
    done = import_deepsdf(exp)
    assert done.checkpoint.names[:2] == ["shape 0", "shape 1"] and "--split" in done.notes[0]


class Payload:
    """What a malicious .pth would carry: unpickling it (without weights_only) runs ``exec``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def test_a_file_that_would_run_code_is_refused_in_one_line_and_never_run(tmp_path, deepsdf_trained):
    exp = ref.write(tmp_path / "exp", *deepsdf_trained)
    marker = tmp_path / "pwned"
    torch.save({"epoch": 300, "model_state_dict": {"lin0.weight": Payload(marker)}}, exp / "ModelParameters" / "latest.pth")
    proc = run_cli("import", "deepsdf", str(exp), "--out", str(tmp_path / "x.safetensors"), check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "could run code" in proc.stderr and "exec" in proc.stderr
    assert not marker.exists() and not (tmp_path / "x.safetensors").exists()
    torch.load(exp / "ModelParameters" / "latest.pth", weights_only=False)  # the file really is what it claims
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(NetworkArch="my_decoder"), "only DeepSDF's decoder"),
    (lambda s: s.update(CodeLength=32), "CodeLength 32"),
    (lambda s: s["NetworkSpecs"].update(dims=[64] * 6), "do not match"),
    (lambda s: s["NetworkSpecs"].update(fancy=True), "does not know: fancy"),
])
def test_specs_that_do_not_fit_the_files_are_one_line_errors(tmp_path, deepsdf_trained, change, message):
    exp = ref.write(tmp_path, *deepsdf_trained)
    specs = json.loads((exp / "specs.json").read_text())
    change(specs)
    (exp / "specs.json").write_text(json.dumps(specs))
    proc = run_cli("import", "deepsdf", str(exp), "--out", str(tmp_path / "x.safetensors"), check=False)
    assert proc.returncode == 1 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_commands_open_the_folder_itself_or_say_how_to_import_it(deepsdf_experiment, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    assert "imported from a DeepSDF experiment" in run_cli("info", str(deepsdf_experiment), env=env).stdout
    proc = run_cli("eval", str(deepsdf_experiment), check=False, env=env)  # eval needs a checkpoint with its data
    assert proc.returncode == 1 and "import deepsdf" in proc.stderr
