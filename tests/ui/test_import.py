"""File ▸ Import: a DeepSDF experiment becomes a checkpoint in a worker and opens; a path between two of its
shapes decodes to meshes."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from test_main_window import drag


def test_importing_a_deepsdf_experiment_opens_it_and_a_path_decodes_to_meshes(window, qtbot, monkeypatch, tmp_path,
                                                                               deepsdf_experiment):
    out = tmp_path / "chosen.safetensors"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(deepsdf_experiment))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    with qtbot.waitSignal(window.opened, timeout=120_000) as opened:
        window.import_action.trigger()  # the two dialogs, then the import in a worker, then it opens
    assert opened.args == [True] and out.is_file()
    assert "6 latents" in window.windowTitle() and "shape" in window.windowTitle()
    assert "sphere" in window.legend.text() and "box" in window.legend.text()
    with qtbot.waitSignal(window.path_ready, timeout=60_000):
        drag(window.map, 0, 3)  # the ball to the plank
    path = window.ws.paths["lerp"].path
    meshes = [window.ws.pipeline.signal(z[None], resolution=(32,))[0] for z in path.latents[[0, len(path.latents) // 2, -1]]]
    assert all(len(faces) > 100 for _, faces in meshes)
    half = [(v.max(0) - v.min(0)) / 2 for v, _ in meshes]
    assert np.ptp(half[0]) < 0.1 and np.ptp(half[-1]) > 0.4  # round at one end, a long plank at the other


def test_an_import_that_fails_says_why_and_keeps_the_open_checkpoint(window, qtbot, monkeypatch, tmp_path):
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "specs.json").write_text('{"NetworkArch": "other"}')
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "exp"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "x.safetensors"), ""))
    before = window.ws.ckpt
    with qtbot.waitSignal(window.importer.failed, timeout=60_000):
        window.import_action.trigger()
    assert "only DeepSDF's decoder" in window.last_error and window.ws.ckpt is before
    assert not (tmp_path / "x.safetensors").exists()


def test_plain_embeddings_open_with_their_pictures_and_say_nothing_between_is_decoded(window, qtbot, tmp_path):
    from conftest import write_image_folder

    files = sorted(p for p in write_image_folder(tmp_path / "pictures", n=12).rglob("*") if p.is_file())
    latents = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    np.save(tmp_path / "z.npy", latents)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        with qtbot.waitSignal(window.opened, timeout=60_000):
            window.open_checkpoint(tmp_path / "z.npy", tmp_path / "pictures")
    assert window.ws.ckpt.names == [f.name for f in files] and "12 latents" in window.windowTitle()
    assert "nothing between two items can be decoded" in window.banner.text.text() and window.banner.isVisible()
    assert window.preview.pixels.shape[-1] == 3 and window.preview.pixels.max() > 0.2  # item 0's picture


def test_latents_without_files_open_with_map_search_and_paths(window, qtbot, tmp_path):
    from test_main_window import drag

    np.savetxt(tmp_path / "tensors.tsv", np.random.default_rng(2).normal(size=(25, 3)), delimiter="\t")
    (tmp_path / "metadata.tsv").write_text("name\tgroup\n" + "".join(f"word{i}\t{'ab'[i % 2]}\n" for i in range(25)))
    with qtbot.waitSignal(window.opened, timeout=60_000):
        window.open_checkpoint(tmp_path / "tensors.tsv")
    assert window.ws.ckpt.n_items == 25 and "no decoder and no files" in window.banner.text.text()
    assert not window.panel.previews and "a" in window.legend.text()
    assert window.ws.find("word1[0-9]") == 10 and window.ws.find("") == 25  # search works on the names
    with qtbot.waitSignal(window.path_ready, timeout=60_000):
        drag(window.map, 0, 24)
    assert "lerp" in window.ws.paths
    assert window.open_export() is None and "nothing to export" in window.last_error
