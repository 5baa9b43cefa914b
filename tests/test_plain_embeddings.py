"""Embeddings without a decoder: latents from .npy, .tsv/.csv or a TensorBoard projector folder, with their
original files; the map, graph and geodesic paths work, and a frame shows the training item nearest to it."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import write_image_folder
from explorer.errors import ExplorerError


@pytest.fixture(scope="module")
def projector(tmp_path_factory):
    """A projector log: tensors.tsv, metadata.tsv with a header and a file column, the pictures beside them."""
    root = tmp_path_factory.mktemp("projector")
    files = sorted(p for p in write_image_folder(root / "pictures", n=16).rglob("*") if p.is_file())
    rng = np.random.default_rng(0)
    latents = np.stack([rng.normal(size=6) + (4 if f.parent.name == "disc" else -4) for f in files]).astype(np.float32)
    np.savetxt(root / "tensors.tsv", latents, delimiter="\t")
    rows = ["name\tclass\tfile"] + [f"{f.stem}\t{f.parent.name}\tpictures/{f.parent.name}/{f.name}" for f in files]
    (root / "metadata.tsv").write_text("\n".join(rows) + "\n")
    (root / "projector_config.pbtxt").write_text(
        'embeddings {\n  tensor_name: "pictures"\n  tensor_path: "tensors.tsv"\n  metadata_path: "metadata.tsv"\n}\n'
        'embeddings {\n  tensor_name: "other"\n  tensor_path: "tensors.tsv"\n}\n')
    return root, latents, files


def test_a_projector_folder_opens_and_frames_are_the_nearest_items(projector):
    from explorer.core.session import read_checkpoint
    from explorer.modalities.image_file import read_picture

    root, latents, files = projector
    for where in (root, root / "tensors.tsv"):  # the log folder, or the tensors file with metadata.tsv beside it
        opened = read_checkpoint(where)
        ckpt = opened.ckpt
        assert ckpt.names == [f.stem for f in files] and set(ckpt.labels) == {"class"}
        assert ckpt.modality["name"] == "image" and opened.graph is not None
        h, w = ckpt.modality["resolution"]
        pictures = opened.pipeline.signal(latents[[0, 15]])
        for f, picture in zip((files[0], files[15]), pictures):  # an item's latent shows its own file
            assert np.abs(picture - read_picture(f, False, (w, h))).max() < 0.02
        z = latents[:1] * 0.4 + latents[15:16] * 0.6
        near = int(np.argmin(np.linalg.norm(latents - z, axis=1)))
        middle = opened.pipeline.signal(z)[0]  # nothing between: the nearest item's picture
        assert np.abs(middle - read_picture(files[near], False, (w, h))).max() < 0.02
    assert "2 embeddings" in read_checkpoint(root).ckpt.train["notes"][0]


def test_a_geodesic_through_plain_embeddings_passes_training_items(projector):
    from explorer.core.session import Session, read_checkpoint

    root, latents, files = projector
    ws = Session()
    ws.adopt(read_checkpoint(root / "tensors.tsv"))
    entry = ws.plan_paths(0, 15, methods=("geodesic",))["geodesic"]
    nearest = opened_nearest(ws, entry.path.latents)
    assert nearest[0] == 0 and nearest[-1] == 15 and len(set(nearest)) >= 2  # frames are items along the graph


def opened_nearest(ws, z):
    return ws.pipeline.model.nearest(torch.as_tensor(z)).tolist()


def test_an_npy_with_a_folder_of_sounds_plays_the_items(tmp_path):
    import soundfile

    from explorer.core.session import read_checkpoint

    (tmp_path / "notes").mkdir()
    for i, hz in enumerate((220, 330, 440)):
        t = np.arange(16000) / 16000
        soundfile.write(tmp_path / "notes" / f"n{i}.wav", 0.5 * np.sin(2 * np.pi * hz * t), 16000)
    np.save(tmp_path / "z.npy", np.eye(3, dtype=np.float32))
    opened = read_checkpoint(tmp_path / "z.npy", files=tmp_path / "notes")
    waves = opened.pipeline.signal(np.eye(3, dtype=np.float32))
    for hz, wave in zip((220, 330, 440), waves):
        assert abs(np.fft.rfftfreq(len(wave), 1 / 16000)[np.argmax(np.abs(np.fft.rfft(wave)))] - hz) <= 1


def test_meshes_are_the_nearest_items_meshes(tmp_path):
    import trimesh

    from explorer.core.session import read_checkpoint

    (tmp_path / "meshes").mkdir()
    trimesh.creation.icosphere(radius=2).export(tmp_path / "meshes" / "ball.ply")
    trimesh.creation.box(extents=[4, 1, 1]).export(tmp_path / "meshes" / "plank.ply")
    (tmp_path / "z.csv").write_text("x,y\n0,0\n1,1\n")
    (tmp_path / "z_metadata.tsv").write_text("name\tfile\nball\tmeshes/ball.ply\nplank\tmeshes/plank.ply\n")
    opened = read_checkpoint(tmp_path / "z.csv")
    (v0, _), (v1, _) = opened.pipeline.signal(np.array([[0.1, 0.0], [0.9, 1.0]], np.float32), resolution=(32,))
    assert np.ptp(np.linalg.norm(v0, axis=1)) < 0.15  # round: the ball, normalised into the cube
    assert (v1.max(0) - v1.min(0))[0] > 3 * (v1.max(0) - v1.min(0))[1]  # long: the plank


@pytest.mark.parametrize("make, message", [
    (lambda d: np.save(d / "z.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True), "pickled arrays"),
    (lambda d: (d / "z.tsv").write_text("1\t2\n3\n"), "different lengths"),
    (lambda d: (d / "z.tsv").write_text("1\t2\nx\ty\n3\t4\n"), "row 2 is not all numbers"),
    (lambda d: ((d / "z.tsv").write_text("1\t2\n3\t4\n"), (d / "metadata.tsv").write_text("a\nb\nc\nd\n")), "4 rows for 2"),
    (lambda d: ((d / "z.tsv").write_text("1\t2\n3\t4\n"), (d / "metadata.tsv").write_text("name\tfile\na\tno.png\nb\tno.png\n")),
     "do not exist"),
])
def test_bad_embeddings_are_one_line_errors(tmp_path, make, message):
    from explorer.core.open_any import open_model

    make(tmp_path)
    with pytest.raises(ExplorerError) as e:
        open_model(next(p for p in tmp_path.iterdir() if p.stem == "z"))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_projector_tensor_kept_in_a_tensorflow_checkpoint_is_refused(tmp_path):
    from explorer.core.open_any import open_model

    (tmp_path / "projector_config.pbtxt").write_text('embeddings {\n  tensor_name: "embedding/.ATTRIBUTES"\n}\n')
    with pytest.raises(ExplorerError, match="TensorFlow checkpoint"):
        open_model(tmp_path)
    json.dumps({})  # (the config is text protobuf, read without TensorFlow)


def test_latents_alone_open_for_the_map_graph_and_paths_with_nothing_to_show(tmp_path):
    from explorer.core.session import Session, read_checkpoint

    rng = np.random.default_rng(1)
    np.savetxt(tmp_path / "tensors.tsv", rng.normal(size=(30, 5)), delimiter="\t")
    (tmp_path / "metadata.tsv").write_text("\n".join(f"w{i}" for i in range(30)) + "\n")  # one column: labels
    ws = Session()
    ws.adopt(read_checkpoint(tmp_path / "tensors.tsv"))
    assert ws.ckpt.labels == {"label": [f"w{i}" for i in range(30)]} and ws.ckpt.names[3] == "w3"
    assert ws.ckpt.modality["name"] == "none" and "no decoder and no files" in ws.ckpt.train["note"]
    entry = ws.plan_paths(0, 29, methods=("geodesic",))["geodesic"]
    assert len(entry.path.nodes) >= 2 and entry.path.nodes[0] == 0 and entry.path.nodes[-1] == 29
    with pytest.raises(ExplorerError, match="nothing to show"):
        ws.pipeline.signal(ws.ckpt.latents[:1].numpy())
    with pytest.raises(ExplorerError, match="these latents have no decoder"):  # not "an ONNX graph"
        ws.pipeline.check_fittable()
