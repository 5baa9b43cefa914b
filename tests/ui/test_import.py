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
