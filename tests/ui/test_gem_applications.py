"""GEM's applications in the window: embedded files as points of their own, completion of a painted
mask / a time range / a half-space, cross-modal hallucination — driven as a user would, on the shipped
checkpoints, with short fits."""
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt

from explorer.core.shipped import CHECKPOINT_DIR
from test_main_window import _send, drag

from conftest import open_in


def _drop(window, path) -> None:
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))


def _open(qtbot, name: str, wait_preview: bool = True):
    from explorer.ui.main_window import MainWindow

    w = MainWindow()
    w.pca_action.setChecked(True)
    qtbot.addWidget(w)
    w.show()
    if wait_preview:
        with qtbot.waitSignal(w.preview_ready, timeout=120_000):
            assert open_in(qtbot, w, CHECKPOINT_DIR / f"{name}.safetensors")
    else:
        assert open_in(qtbot, w, CHECKPOINT_DIR / f"{name}.safetensors")
    return w


def _run(qtbot, dialog, k: int, steps: int) -> list[dict]:
    dialog.k.setValue(k)
    dialog.steps.setValue(steps)
    with qtbot.waitSignal(dialog.completed, timeout=180_000) as blocker:
        dialog.run_button.click()
        assert dialog.cancel_button.isEnabled()  # fitting can be cancelled
    qtbot.waitUntil(lambda: all(card.isVisible() for card in dialog.cards))  # shown side by side
    return blocker.args[0]


def test_an_embedded_image_is_a_point_of_its_own_path_end_bookmark_and_saved(window, qtbot, tmp_path):
    from PIL import Image

    pixels = window.ws.pipeline.signal(window.ws.latents[11:12])[0][..., 0]
    Image.fromarray((pixels * 255).round().astype(np.uint8)).save(tmp_path / "mine.png")
    with qtbot.waitSignal(window.embed_ready, timeout=120_000) as blocker:
        _drop(window, tmp_path / "mine.png")
        task = window.tasks.get("embed")  # fitting shows its own progress and Cancel
        assert task.progress.isVisible() and task.cancel_button.isVisible()
    entry = blocker.args[0]
    assert entry["name"] == "mine.png" and entry["metrics"]["psnr"] > 20
    n = window.ws.ckpt.n_items
    assert n == 10_000  # still the same checkpoint
    assert len(window.map._embedded.data) == 1 and len(window.map._neighbours.data) == 5
    assert "mine.png" in window.panel.quality.text() and "nearest training items" in window.panel.quality.text()
    listed = window.panel.quality.text().split("nearest training items")[1]  # named with their class, not only an id
    assert sum(listed.count(f"({c})") for c in set(window.ws.ckpt.labels["class"])) == 5
    assert "negative" not in window.panel.quality.text()  # a picture like the training ones is taken as it is
    assert window.panel.quality.text().count("<img") == 2  # the file beside its reconstruction
    assert window.ws.selected == n  # the new point is selected, and listed in the side panel
    assert window.side.extra.item(0).text() == "mine.png (embedded)"
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        pass
    recon = window.ws.pipeline.signal(entry["latent"][None])[0]
    assert np.allclose(window.preview.pixels, recon, atol=1e-6)  # the preview shows the reconstruction

    # a path end: drag from the star to the training item furthest from it on the map
    far = int(np.argmax(np.linalg.norm(window.map.xy - window.map.all_xy[n], axis=1)))
    for mode in ("lerp", "geodesic"):
        window.set_method(mode)
        with qtbot.waitSignal(window.path_ready, timeout=60_000):  # made in a worker
            drag(window.map, n, far)
        path = window.ws.paths[mode].path
        assert np.allclose(path.latents[0], entry["latent"]) and np.allclose(path.latents[-1], window.ws.latents[far])
    assert "mine.png →" in window.panel.quality.text()
    window.save_current_path()
    bundle_file = tmp_path / "path.json"
    dialog = window.open_export()
    dialog.file.setText(str(bundle_file))
    with qtbot.waitSignal(dialog.exported, timeout=120_000):
        dialog.export_button.click()
    dialog.close()
    import json

    from explorer.core.bundle import regenerate
    from explorer.core.export import checkpoint_sha256

    bundle = json.loads(bundle_file.read_text())
    assert bundle["ends"]["from"]["name"] == "mine.png"
    assert len(bundle["quality"]["per_frame"]["off_manifold"]) == len(bundle["latents"])  # as the command line measures
    again = regenerate(bundle, window.ws.ckpt, checkpoint_sha256(window.ws.ckpt.path))
    assert np.allclose(again, np.asarray(bundle["latents"]), atol=1e-6)

    window.go_to_item(n)  # back at the star: what it was fitted to is shown again, pictures and all
    assert "mine.png</b> embedded: " in window.panel.quality.text() and window.panel.quality.text().count("<img") == 2
    window._redraw_paths()  # as when a t-SNE map is done: it stays
    assert "mine.png</b> embedded: " in window.panel.quality.text()
    window.go_to_item(far)
    assert "embedded" not in window.panel.quality.text()
    window.go_to_item(n)
    window.bookmark_here()
    assert window.side.entries("bookmark")[-1]["name"].endswith("mine.png")
    window.close()  # saves the workspace

    from explorer.ui.main_window import MainWindow

    w2 = MainWindow()
    w2.pca_action.setChecked(True)
    qtbot.addWidget(w2)
    with qtbot.waitSignal(w2.preview_ready, timeout=60_000):
        open_in(qtbot, w2, window.ws.ckpt.path)
    assert [e["name"] for e in w2.ws.extra] == ["mine.png"]
    assert np.allclose(w2.ws.extra[0]["latent"], entry["latent"])
    assert len(w2.map._embedded.data) == 1
    w2.go_to_item(n)  # in a new session: its numbers and neighbours (the pictures are not kept)
    assert "mine.png</b> embedded: " in w2.panel.quality.text() and f"psnr {entry['metrics']['psnr']:.3g}" in w2.panel.quality.text()
    assert "nearest training items" in w2.panel.quality.text() and "<img" not in w2.panel.quality.text()
    saved = w2.side.entries("path")[-1]
    with qtbot.waitSignal(w2.path_ready, timeout=60_000):  # made again in a worker
        w2.restore_path(saved)
    assert np.allclose(w2.ws.paths["geodesic"].path.latents[0], entry["latent"])
    # removing the point removes the path that ends at it, and the bookmark (kept by latent) stays
    w2.remove_extra(0)
    assert not w2.ws.extra and not w2.side.entries("path") and len(w2.map._embedded.data) == 0
    assert w2.side.entries("bookmark")
    w2.shutdown()


def test_painting_a_mask_and_completing_an_image_k_ways(window, qtbot):
    window.go_to_item(3)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        pass
    window.complete_action.trigger()  # Tools > Complete a signal (Ctrl+K)
    dialog = window.complete_dialog
    qtbot.waitExposed(dialog)
    assert dialog.source_label.text().endswith(f"<b>{window.ws.item_name(3)}</b>")  # the selected item
    painter = dialog.painter
    assert not painter.mask.any()
    # drag down column 5 of the 28 x 28 picture: the brush hides a band around it
    top, bottom = painter.cell_centre(2, 5), painter.cell_centre(25, 5)
    _send(painter, QEvent.Type.MouseButtonPress, top, Qt.MouseButton.LeftButton)
    for t in np.linspace(0, 1, 10)[1:]:
        _send(painter, QEvent.Type.MouseMove, QPoint(top.x(), int(top.y() + t * (bottom.y() - top.y()))),
              Qt.MouseButton.LeftButton)
    _send(painter, QEvent.Type.MouseButtonRelease, bottom, Qt.MouseButton.NoButton)
    assert painter.mask[2:26, 5].all() and not painter.mask[:, 15:].any()
    # a fast stroke: the mouse reports only two points far apart, and the band between them is painted
    painter.set_mask(np.zeros_like(painter.mask))
    left, right = painter.cell_centre(20, 2), painter.cell_centre(20, 26)
    _send(painter, QEvent.Type.MouseButtonPress, left, Qt.MouseButton.LeftButton)
    _send(painter, QEvent.Type.MouseMove, right, Qt.MouseButton.LeftButton)
    _send(painter, QEvent.Type.MouseButtonRelease, right, Qt.MouseButton.NoButton)
    assert painter.mask[20, 2:27].all()
    dialog.preset.setCurrentText("left-half")
    dialog._apply_preset(dialog.preset.currentIndex())
    hidden = painter.mask.copy()
    assert hidden[:, :14].all() and not hidden[:, 14:].any()

    results = _run(qtbot, dialog, k=2, steps=80)
    assert len(results) == 2 and len(dialog.cards) == 2
    source = dialog.observed.values[0, :, 0].numpy().reshape(28, 28)
    decoded = window.ws.pipeline.values(np.stack([r["latent"] for r in results]))[:, :, 0].numpy().reshape(2, 28, 28)
    bank = window.ws.pipeline.values(window.ws.latents[:200])[:, :, 0].numpy().reshape(200, 28, 28)
    typical = np.mean((bank[:, ~hidden] - source[~hidden]) ** 2)  # a training image's distance on the visible part
    for d in decoded:  # each keeps what it was shown
        assert np.mean((d[~hidden] - source[~hidden]) ** 2) < 0.3 * typical
    assert np.abs(decoded[0] - decoded[1])[hidden].mean() > 0.01  # different starts, different completions
    assert not dialog.cards[0].play.isVisibleTo(dialog)  # pictures have nothing to play

    n_before = len(window.ws.extra)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        dialog.cards[1].show_button.click()
    assert np.allclose(window.preview.pixels, window.ws.pipeline.signal(results[1]["latent"][None])[0], atol=1e-6)
    dialog.cards[0].add.click()
    assert len(window.ws.extra) == n_before + 1 and window.ws.extra[-1]["kind"] == "completion"
    assert not dialog.cards[0].add.isEnabled()
    star = window.ws.n_items + n_before
    with qtbot.waitSignal(window.path_ready, timeout=60_000):
        drag(window.map, star, 0)  # a kept completion is a path end too
    assert np.allclose(window.ws.paths["lerp"].path.latents[0], results[0]["latent"])

    dialog.preset.setCurrentText("paint with the mouse")
    painter.set_mask(np.zeros_like(painter.mask))
    dialog.run_button.click()
    assert "hides nothing" in dialog.status.text()  # a clear line, nothing started
    dialog.close()


def test_completing_a_sound_from_a_time_range(qtbot, tmp_path):
    w = _open(qtbot, "notes")
    dialog = w.open_complete("complete")
    qtbot.waitExposed(dialog)
    dialog.set_time_range(0.5, 1.0)
    hidden = dialog.hidden()
    frames = w.ws.pipeline.resolution()[1]
    assert hidden.reshape(-1, frames)[0].mean() == pytest.approx(0.5, abs=0.02)
    results = _run(qtbot, dialog, k=2, steps=30)
    assert len(dialog.cards) == 2 and dialog.cards[0].play.isVisibleTo(dialog)
    assert all(r["wave"].shape == (16000,) for r in results)
    source = dialog.observed.values[0, :, 0].numpy()  # the decode at the playhead: a sound on the manifold
    decodes = [w.ws.pipeline.values(r["latent"][None])[0, :, 0].numpy() for r in results]
    assert np.mean((decodes[0] - decodes[1]) ** 2) > 0.01  # two starts, two proposals
    heard, hidden_error = min((np.mean((d - source)[~hidden] ** 2), np.mean((d - source)[hidden] ** 2)) for d in decodes)
    assert heard < 0.01 * np.var(source[~hidden])  # the closest keeps what was heard
    assert hidden_error < 0.1 * np.var(source[hidden])  # and finds the half that was hidden
    dialog.play(0)  # no sound card here: one line in the dialog, or the clip went out
    assert dialog.status.text() == "" or "sound" in dialog.status.text() or "audio" in dialog.status.text()
    dialog.close()
    # a sound file dropped on the window is embedded: its spectrogram beside the reconstruction's, and LSD
    import soundfile

    soundfile.write(tmp_path / "hum.wav", results[0]["wave"], 16000)
    with qtbot.waitSignal(w.embed_ready, timeout=120_000) as blocker:
        w.embed_file(str(tmp_path / "hum.wav"), steps=30)
    assert "lsd" in blocker.args[0]["metrics"] and w.panel.quality.text().count("<img") == 2
    w.shutdown()


def test_completing_a_shape_from_a_half_space(qtbot):
    w = _open(qtbot, "furniture", wait_preview=False)  # no OpenGL under the offscreen platform: no 3-D panel
    dialog = w.open_complete("complete")
    qtbot.waitExposed(dialog)
    dialog.axis.setCurrentText("x")
    dialog.side_.setCurrentText(">")
    dialog.cut.setValue(0.0)
    hidden = dialog.hidden()
    points = dialog.observed.coords.numpy().reshape(-1, 3)
    assert (hidden == (points[:, 0] > 0)).all() and 0.4 < hidden.mean() < 0.6
    results = _run(qtbot, dialog, k=2, steps=20)
    assert len(dialog.cards) == 2 and not dialog.cards[0].play.isVisibleTo(dialog)
    assert not np.allclose(results[0]["latent"], results[1]["latent"])  # two starts, two shapes
    assert not dialog.cards[0].picture.pixmap().isNull()
    dialog.close()
    w.shutdown()


def test_hallucinating_sounds_for_a_picture_and_pictures_for_a_sound(qtbot, tmp_path):
    w = _open(qtbot, "av-notes")
    assert w.hallucinate_action.isEnabled() and not w.complete_action.isEnabled()
    w.hallucinate_action.trigger()  # Tools > Hallucinate the other modality (Ctrl+Shift+K)
    dialog = w.complete_dialog
    qtbot.waitExposed(dialog)
    assert dialog.part == "image" and dialog.shown_part == "audio"
    results = _run(qtbot, dialog, k=2, steps=20)
    assert dialog.cards[0].play.isVisibleTo(dialog) and results[0]["wave"].shape == (16000,)
    # given a sound file: the dialog switches to "given only the sound" and proposes pictures
    import soundfile

    wave = w.ws.pipeline.signal(w.ws.latents[5:6], part="audio")[0]
    soundfile.write(tmp_path / "tune.wav", wave, 16000)
    assert dialog.load_file(str(tmp_path / "tune.wav"))
    assert dialog.part == "audio" and dialog.shown_part == "image"
    assert dialog.starts.currentData() == "closest"  # the default starts (docs/recipe.md)
    results = _run(qtbot, dialog, k=2, steps=20)
    assert not dialog.cards[0].play.isVisibleTo(dialog) and not dialog.cards[0].picture.pixmap().isNull()
    # the first proposal starts from the pair whose sound decodes closest: here the note's own, so its key
    from explorer.core.hallucinate import read_key

    proposed = w.ws.pipeline.signal(results[0]["latent"][None], part="image")[0]
    assert read_key(proposed) == read_key(w.ws.pipeline.signal(w.ws.latents[5:6], part="image")[0])
    i = dialog.add_to_map(1)
    assert w.ws.item_name(i) == "tune.wav proposal 2"
    assert not dialog.load_file(str(tmp_path / "nothing.txt"))  # one clear line
    assert "not an image, sound or mesh" in dialog.status.text()
    dialog.close()
    w.shutdown()


def test_a_completion_can_be_cancelled_and_goes_with_its_checkpoint(window, qtbot):
    dialog = window.open_complete("complete")
    qtbot.waitExposed(dialog)
    dialog.preset.setCurrentText("centre")
    dialog._apply_preset(dialog.preset.currentIndex())
    dialog.steps.setValue(2000)
    with qtbot.waitSignal(dialog.runner.progress, timeout=60_000):
        dialog.run_button.click()
    n = len(window.ws.pipeline.ckpt.latents)
    assert f"comparing with the {n} training items" in dialog.status.text()  # the closest starts say what they do
    dialog.cancel_button.click()
    assert dialog.status.text() == "cancelled" and dialog.run_button.isEnabled()
    assert dialog.progress.value() == dialog.progress.minimum() - 1  # reset, not stuck at part of the fit
    qtbot.waitUntil(lambda: not dialog.runner.busy, timeout=60_000)
    assert not dialog.cards and not window.ws.extra  # nothing half-done shows up
    with qtbot.waitSignal(dialog.runner.progress, timeout=60_000):
        dialog.run_button.click()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Escape closes the dialog and stops its fit
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.runner.busy, timeout=60_000)
    assert not dialog.cards
    dialog = window.open_complete("complete")
    qtbot.waitExposed(dialog)
    dialog.close_button.click()  # so does its Close button
    assert not dialog.isVisible()
    with qtbot.waitSignal(window.preview_ready, timeout=120_000):
        open_in(qtbot, window, CHECKPOINT_DIR / "notes.safetensors")
    assert window.complete_dialog is None and not dialog.isVisible()  # its results belonged to the other checkpoint
    from PySide6.QtWidgets import QComboBox

    fresh = QComboBox()  # the toolbar's Colour by box widens for the new labels, as wide as a new box of them
    fresh.addItems([window.colour_by.itemText(i) for i in range(window.colour_by.count())])
    qtbot.waitUntil(lambda: window.colour_by.width() >= fresh.sizeHint().width(), timeout=10_000)
