"""The real window, driven as a user would: open, drag between points, scrub, hover, bad files."""
import gc
import json
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from explorer.core.shipped import CHECKPOINT_DIR, DEFAULT_CHECKPOINT

from conftest import open_in


def _send(widget, kind, pos: QPoint, buttons) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    ev = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons,
                     Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def drag(map_view, a: int, b: int) -> None:
    """Press on point a, move in steps, release on point b: a real mouse drag on the map."""
    vp = map_view.viewport()
    start = map_view.view_to_widget(map_view.all_xy[a])  # a training item or an extra point (a star)
    end = map_view.view_to_widget(map_view.all_xy[b])
    _send(vp, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for t in np.linspace(0, 1, 8)[1:]:
        p = QPoint(int(start.x() + t * (end.x() - start.x())), int(start.y() + t * (end.y() - start.y())))
        _send(vp, QEvent.Type.MouseMove, p, Qt.MouseButton.LeftButton)
    _send(vp, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def small_checkpoint(tmp_path, n: int):
    """The shipped default checkpoint cut to its first ``n`` items: a map whose t-SNE takes seconds."""
    from explorer.models.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    ckpt.latents, ckpt.names = ckpt.latents[:n], ckpt.names[:n]
    ckpt.labels = {k: v[:n] for k, v in ckpt.labels.items()}
    small = tmp_path / "small.safetensors"
    save_checkpoint(ckpt, small)
    return small


def far_apart(window) -> tuple[int, int]:
    xy = window.map.xy
    return int(np.argmin(xy[:, 0])), int(np.argmax(xy[:, 0]))


def test_opening_shows_every_latent_on_the_map_and_a_legend(window):
    assert window.map.xy.shape == (window.ws.ckpt.n_items, 2)
    assert "Trouser" in window.legend.text()  # coloured by class, with a legend
    assert "fashion-mnist" in window.windowTitle()
    # the legend sits above the map, every label on screen; the status bar is left to messages
    assert window.legend.isVisible() and window.legend.parent() is window.map.parent()
    assert window.legend.height() >= window.legend.heightForWidth(window.legend.width())  # wrapped, not cut
    assert not window.statusBar().isAncestorOf(window.legend)
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()  # wrapped narrow, every line starts with a colour dot: none is parted from its label
    doc.setHtml(window.legend.text())
    doc.setTextWidth(150)
    doc.size()  # lays it out
    block = doc.firstBlock()
    lines = [block.text()[block.layout().lineAt(j).textStart():][:block.layout().lineAt(j).textLength()]
             for j in range(block.layout().lineCount())]
    assert len(lines) > 3 and all(line.lstrip().startswith("●") for line in lines)
    assert not window.tasks.tasks  # no job running: nothing beside the messages
    message = f"opened {DEFAULT_CHECKPOINT} (10 000 items, image); decoding in fp32"
    assert window.statusBar().fontMetrics().horizontalAdvance(message) < window.statusBar().width()


@pytest.mark.parametrize("mode", ["lerp", "geodesic"])
def test_dragging_between_two_points_draws_a_path_and_changes_the_preview(window, qtbot, mode):
    (window.lerp_action if mode == "lerp" else window.geo_action).trigger()
    a, b = far_apart(window)
    assert not window.timeline.slider.isEnabled() and not window.timeline.play.isEnabled()  # no path to play yet
    window.timeline.toggle()  # P
    assert not window.timeline.play.isChecked()
    before = window.preview.pixels.copy()
    with qtbot.waitSignals([window.path_ready, window.preview_ready], order="strict", timeout=60_000):
        drag(window.map, a, b)  # the path is made in a worker, then drawn and decoded
    entry = window.ws.paths[mode]
    assert (entry.a, entry.b) == (a, b) and entry.path.method == mode
    assert len(window.map._paths[mode].xData) == window.ws.frames  # drawn through every frame
    ends = [it for it in window.map._halos if isinstance(it, pg.ScatterPlotItem)]  # its end is marked
    assert window.map.getPlotItem().buttonsHidden  # no unexplained "A" button in the corner after a zoom
    assert len(ends) == 1 and np.allclose(ends[0].data["x"], window.map.xy[b, 0], atol=1e-6)
    start = window.preview.pixels.copy()
    assert not np.array_equal(start, before)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.timeline.set_position(1.0)  # scrub to the end: the preview follows
    assert not np.array_equal(window.preview.pixels, start)
    slider = window.timeline.slider  # a click on the middle of the timeline puts the playhead there
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center())
    assert window.timeline.position() == pytest.approx(0.5, abs=0.05)
    assert mode in window.panel.quality.text() and "neighbour spacings" in window.panel.quality.text()
    assert "median distance" in window.panel.quality.toolTip()  # the unit is explained where it is shown
    if mode == "geodesic":
        assert len(entry.path.nodes) > 2  # it goes through the data
    assert window.timeline.slider.isEnabled() and window.timeline.play.isEnabled()
    window.timeline.toggle()
    window.go_to_item(a)  # the path is put away (as to show an embedded file): the timeline stops and is greyed out
    assert not window.timeline.play.isChecked() and not window.timeline.slider.isEnabled()
    assert "no path on the map" in window.timeline.slider.toolTip()


def test_both_paths_can_be_compared(window, qtbot):
    window.both_action.trigger()
    a, b = far_apart(window)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        drag(window.map, a, b)
    assert set(window.ws.paths) == {"lerp", "geodesic"} and set(window.map._paths) == {"lerp", "geodesic"}
    import re

    text = window.panel.quality.text()
    off = {m: float(re.search(rf"<b>{m}</b>.*?off the manifold ([0-9.]+)", text).group(1)) for m in ("lerp", "geodesic")}
    assert off["geodesic"] < off["lerp"]  # the geodesic keeps to the data, the straight line leaves it
    # see the other path's frame at the same playhead (C), and back
    assert window.ws.current == "lerp"
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.timeline.set_position(0.5)
    lerp_frame = window.preview.pixels.copy()
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.ws.current == "geodesic" and window.ws.playhead == 0.5
    assert "path geodesic, t = 0.50" in window.preview.caption.text()
    assert not np.array_equal(window.preview.pixels, lerp_frame)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.ws.current == "lerp" and np.array_equal(window.preview.pixels, lerp_frame)


def test_hover_shows_name_and_thumbnail(window, qtbot):
    i = far_apart(window)[0]
    pos = window.map.view_to_widget(window.map.xy[i])
    with qtbot.waitSignal(window.hover.shown, timeout=30_000,
                          check_params_cb=lambda text: "data:image/png;base64," in text) as blocker:
        _send(window.map.viewport(), QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton)
    assert window.ws.ckpt.names[i] in blocker.args[0] and "class:" in blocker.args[0]


def test_with_hover_preview_the_caption_names_what_is_shown(window, qtbot):
    a, b = far_apart(window)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        drag(window.map, a, b)
    assert window.preview.caption.text().startswith("path lerp, t = 0.00")
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.hover_preview_action.isChecked()
    i = int(np.argmin(window.map.xy[:, 1]))  # a third point, off the path's ends
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        _send(window.map.viewport(), QEvent.Type.MouseMove, window.map.view_to_widget(window.map.xy[i]),
              Qt.MouseButton.NoButton)
    assert window.preview.caption.text().startswith(f"under the mouse: {window.ws.item_name(i)}")
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.timeline.set_position(0.5)
    assert window.preview.caption.text().startswith("path lerp, t = 0.50")


def test_a_long_name_under_the_mouse_does_not_narrow_the_map(window, qtbot):
    """The preview's least width is what the splitter leaves the map: a caption that widened it narrowed the
    map while the mouse moved over it (a 245-character name took the map from 533 to 68 pixels)."""
    window.preview.show_signal(np.zeros((28, 28, 1)), "under the mouse: " + "a-very-long-folder/" * 12 + "item.png (fine)")
    caption = window.preview.caption
    assert caption.minimumSizeHint().width() < window.panel.width()
    # the whole name is shown, on more lines
    assert caption.text().endswith("item.png (fine)") and caption.heightForWidth(300) > 2 * caption.fontMetrics().height()


def test_the_preview_keeps_its_size_whatever_the_quality_text(window, qtbot):
    size = window.panel.holder.size()
    window.panel.quality.setText("<br>".join(["a long explanation of a path"] * 30))
    QApplication.processEvents()
    assert window.panel.holder.size() == size and window.panel.quality_area.height() < window.height() / 3


def test_dropping_a_checkpoint_file_opens_it(window, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    from explorer.models.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    ckpt.latents, ckpt.names = ckpt.latents[:50], ckpt.names[:50]
    ckpt.labels = {k: v[:50] for k, v in ckpt.labels.items()}
    save_checkpoint(ckpt, tmp_path / "fifty.safetensors")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "fifty.safetensors"))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.opened, timeout=60_000):  # read in the background, like File ▸ Open
        window.dropEvent(ev)
    assert window.ws.ckpt.n_items == 50 and window.map.xy.shape == (50, 2)


@pytest.mark.parametrize("change", [
    lambda m: m["modality"].update(resolution="28x28"),  # text where numbers belong
    lambda m: m["modality"].update(name="video"),  # a modality nobody made
    lambda m: m["modality"].update(resolution=[28]),  # an image with one side
    lambda m: m["model"].update(out_dim=3),  # the weights do not fit the config
    lambda m: m.update(labels=["class"]),
], ids=["text-resolution", "unknown-modality", "one-sided", "wrong-out-dim", "labels-list"])
def test_a_checkpoint_with_damaged_metadata_never_half_opens(window, qtbot, tmp_path, change):
    """The app refuses it in one line and everything of the open checkpoint stays: title, map, preview."""
    from conftest import rewrite_metadata

    bad = rewrite_metadata(window.ws.path, tmp_path / "damaged.safetensors", change)
    before = (window.windowTitle(), window.ws.ckpt, window.ws.pipeline, dict(window.previews))
    assert not open_in(qtbot, window, bad)
    assert str(bad) in window.last_error and "\n" not in window.last_error
    assert (window.windowTitle(), window.ws.ckpt, window.ws.pipeline, dict(window.previews)) == before


def test_a_corrupt_checkpoint_leaves_the_window_open_with_a_message(window, qtbot, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x80\x04 this is a pickle, not a checkpoint")
    names = window.ws.ckpt.names
    assert not open_in(qtbot, window, bad)
    assert "bad.safetensors" in window.last_error and "\n" not in window.last_error
    assert window.ws.ckpt.names is names and window.isVisible()  # the workspace stayed
    # the whole message is shown above the map, not cut off in the status bar, until closed
    assert window.banner.isVisible() and window.banner.text.text() == window.last_error
    assert window.banner.text.wordWrap() and window.banner.width() >= window.map.width()
    qtbot.mouseClick(window.banner.close_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
    assert not open_in(qtbot, window, bad)
    assert window.banner.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.banner.isVisible()
    sheet = tmp_path / "notes-sheet.png"  # a picture chosen in File ▸ Open: told where pictures go
    sheet.write_bytes((CHECKPOINT_DIR / "notes-sheet.png").read_bytes())
    assert not open_in(qtbot, window, sheet)
    assert window.last_error.startswith("notes-sheet.png is an image, not a checkpoint") and "Embed a signal" in window.last_error
    assert window.ws.ckpt.names is names


def test_the_graph_can_be_shown_with_adjustable_k(window, qtbot):
    window.graph_action.setChecked(True)  # built after the map was drawn, when the checkpoint was opened
    assert window.map.edges_drawn > 0
    with qtbot.waitSignal(window.map_tasks.graph_ready, timeout=60_000):  # a new k: built in a worker
        window._set_k(3)
        assert window.tasks.get("graph") is not None
    assert window.tasks.get("graph") is None
    assert window.ws.graph.k == 3 and window.map.edges_drawn > 0
    # zoomed in, edges that the 2-D map stretched across the view are a faint trace, not a grey mesh
    from explorer.ui.map_view import MAX_LONG_EDGES_DRAWN

    xy = window.map.xy
    c, s = np.median(xy, 0), xy.std(0) / 4
    window.map.getViewBox().setRange(xRange=(c[0] - s[0], c[0] + s[0]), yRange=(c[1] - s[1], c[1] + s[1]), padding=0)
    window.map._update_edges()  # what the view does once it rests
    (x0, x1), (y0, y1) = window.map.getViewBox().viewRange()
    lines = np.stack([window.map._edges.xData, window.map._edges.yData], 1)
    assert np.linalg.norm(lines[0::2] - lines[1::2], axis=1).max() <= 0.1 * np.hypot(x1 - x0, y1 - y0)
    assert 0 < window.map.long_edges_drawn <= MAX_LONG_EDGES_DRAWN
    assert window.map._long_edges.opts["pen"].color().alpha() < 32 < window.map._edges.opts["pen"].color().alpha()
    window.graph_action.setChecked(False)
    assert window.map.edges_drawn == 0 and window.map.long_edges_drawn == 0


def test_tsne_map_animates_in_the_background_and_is_cached(qtbot, tmp_path):
    from explorer.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    open_in(qtbot, w, tmp_path.parent / "missing.safetensors")  # a message, nothing else
    small = small_checkpoint(tmp_path, 300)
    updates, spreads = [], []

    formats, maxima = [], []

    def progress(v):
        updates.append(v[0])
        formats.append(w.tasks.get("tsne").progress.format())
        maxima.append(w.tasks.get("tsne").progress.maximum())
        if isinstance(v[2], np.ndarray):
            spreads.append(np.sqrt(((v[2] - v[2].mean(0)) ** 2).sum(1).mean()))

    w.map_tasks.tsne.progress.connect(progress)
    with qtbot.waitSignal(w.map_tasks.tsne.finished, timeout=120_000):
        assert open_in(qtbot, w, small)
        assert w.ws.projection.method == "pca"  # usable at once
        task = w.tasks.get("tsne")
        assert task.progress.isVisible() and task.cancel_button.isVisible() and task.pause_button.isVisible()
        pca_xy = w.ws.projection.xy
        view = w.map._box.viewRange()
        w.go_to_item(7)
        rings = []  # where the selected point's ring is drawn as the points move, against where its point is
        w.map_tasks.partial.connect(lambda xy: rings.append(np.c_[w.map._selected.getData()][0] - xy[7]))
    assert w.ws.projection.method == "tsne" and len(updates) > 3 and w.tasks.get("tsne") is None
    assert len(rings) > 2 and np.allclose(rings, 0, atol=1e-5)  # the ring moves with its point
    assert formats[-2] == f"t-SNE {updates[-2]}/{maxima[-2]}"  # an iteration counter
    # the map held still: same frame and spread as the PCA map throughout, the view as it was
    pca_spread = np.sqrt(((pca_xy - pca_xy.mean(0)) ** 2).sum(1).mean())
    assert np.allclose(spreads, pca_spread, rtol=0.01)
    assert np.allclose(w.map._box.viewRange(), view)
    open_in(qtbot, w, small)  # reopening: the cached map, at once, every point in view
    assert w.ws.projection.method == "tsne" and not w.map_tasks.tsne.busy
    (x0, x1), (y0, y1) = w.map._box.viewRange()
    xy = w.map.xy
    assert x0 <= xy[:, 0].min() and x1 >= xy[:, 0].max() and y0 <= xy[:, 1].min() and y1 >= xy[:, 1].max()
    w.shutdown()


def test_redrawing_the_map_does_not_corrupt_reference_counts(qtbot):
    """PySide6 6.10+ with pyqtgraph 0.14 lost a reference to None per point and redraw, then crashed."""
    from explorer.ui.map_view import MapView

    m = MapView()
    qtbot.addWidget(m)
    xy = np.random.default_rng(0).normal(size=(5000, 2))
    rgb = (np.random.default_rng(1).integers(0, 4, (5000, 3)) * 60).astype(np.uint8)
    m.set_points(xy, rgb)
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(5):
        m.set_points(xy, rgb)
        m.set_paths({"lerp": xy[:10]}, "lerp")
    gc.collect()
    assert sys.getrefcount(None) - before > -1000


def test_lle_walk_draws_ghost_samples_that_can_be_previewed(window, qtbot):
    window.ws.select(5)
    with qtbot.waitSignals([window.walker.finished, window.preview_ready], order="strict", timeout=60_000):
        window.walk_action.trigger()  # made in a worker, with its entry in the task bar
        assert window.tasks.get("walk") is not None
    assert window.tasks.get("walk") is None
    entry = window.ws.paths["walk"]
    assert entry.path.latents.shape[0] == 33 and np.allclose(entry.path.latents[0], window.ws.latents[5])
    assert len(window.map._ghosts.data) == 32
    first = window.preview.pixels.copy()
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.timeline.set_position(1.0)
    assert not np.array_equal(first, window.preview.pixels)
    assert "LLE walk" in window.panel.quality.text()
    qtbot.keyClick(window, Qt.Key.Key_D)  # Geodesic while the walk is shown: it says what the choice is for
    assert "walk" in window.ws.paths and "now makes geodesic paths" in window.statusBar().currentMessage()


def test_bookmarks_and_saved_paths_come_back_when_the_checkpoint_is_reopened(window, qtbot):
    window.ws.select(7)
    window.bookmark_here()
    a, b = far_apart(window)
    window.geo_action.trigger()
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        drag(window.map, a, b)
    window.timeline.set_position(0.25)
    window.bookmark_here()
    window.save_current_path()
    geodesic = window.ws.paths["geodesic"].path.latents.copy()
    window.close()  # saves the workspace and the layout

    from explorer.ui.main_window import MainWindow

    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.preview_ready, timeout=60_000):
        open_in(qtbot, again, DEFAULT_CHECKPOINT)
    marks = again.side.entries("bookmark")
    assert len(marks) == 2 and marks[0]["index"] == 7 and len(marks[1]["latent"]) == again.ws.latents.shape[1]
    paths = again.side.entries("path")
    assert len(paths) == 1 and (paths[0]["a"], paths[0]["b"], paths[0]["method"]) == (a, b, "geodesic")
    with qtbot.waitSignal(again.path_ready, timeout=60_000):  # made again in a worker
        again.restore_path(paths[0])
    assert np.allclose(again.ws.paths["geodesic"].path.latents, geodesic)  # the same path exactly
    with qtbot.waitSignal(again.preview_ready, timeout=60_000):
        again.go_to_bookmark(marks[1])
    again.shutdown()


def test_double_clicking_a_bookmark_goes_there_without_renaming_it_and_f2_renames(window, qtbot):
    window.ws.select(7)
    window.bookmark_here()
    window.ws.select(3)
    lst = window.side.bookmarks
    item = lst.item(0)
    rect = lst.visualItemRect(item)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double click's first press
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.ws.selected == 7  # went there
    qtbot.keyClicks(lst, "xyz")  # typing afterwards does not rename it
    assert lst.item(0).text() == window.ws.bookmarks[0]["name"] and "xyz" not in window.ws.bookmarks[0]["name"]
    lst.setCurrentRow(0)
    qtbot.keyClick(lst, Qt.Key.Key_F2)
    editor = lst.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, "the shoe")
    with qtbot.waitSignal(window.ws.marks_changed, timeout=5000):  # the view commits its editor queued
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert window.ws.bookmarks[0]["name"] == "the shoe" and window.side.bookmarks.item(0).text() == "the shoe"


def test_a_damaged_workspace_file_is_set_aside(window, qtbot, tmp_path):
    from explorer.core.persist import load_workspace, workspace_dir

    path = workspace_dir() / f"{window.workspace_key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{ not json")
    assert load_workspace(window.workspace_key) == ({}, path.with_suffix(".damaged.json"))
    assert path.with_suffix(".damaged.json").exists() and not path.exists()


def test_a_workspace_with_damaged_entries_opens_with_what_can_be_read(window, qtbot):
    """Bookmarks of the wrong type, a bookmark without a name, an embedded point with NaN in its latent,
    a saved path with text for an index: the checkpoint opens, the good entries come back, the file is
    kept aside for the user and a note says so — no traceback, and the checkpoint can be opened again."""
    from explorer.core.persist import workspace_dir

    d = window.ws.latents.shape[1]
    path = workspace_dir() / f"{window.workspace_key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "bookmarks": [{"name": "good", "index": 3}, {"index": 4}, "not a bookmark", {"name": "far", "index": 10**9}],
        "embedded": [{"name": "nan", "latent": [float("nan")] * d}, {"name": "ok", "latent": [0.1] * d},
                     {"name": "text", "latent": "abc"}],
        "paths": [{"name": "p", "method": "lerp", "a": "0", "b": 1}, {"name": "q", "method": "geodesic", "a": 0, "b": 2}],
        "colour_by": ["not", "a", "label"],
    }))
    checkpoint = window.ws.path
    assert open_in(qtbot, window, checkpoint)
    assert [b["name"] for b in window.ws.bookmarks] == ["good"]
    assert [e["name"] for e in window.ws.extra] == ["ok"] and [p["name"] for p in window.ws.saved_paths] == ["q"]
    assert path.with_suffix(".damaged.json").exists() and "damaged" in window.banner.text.text()
    window.banner.hide()
    window.save_workspace()
    assert open_in(qtbot, window, checkpoint) and not window.banner.isVisible()


def test_export_from_the_dialog_with_progress_cancel_and_remembered_settings(window, qtbot, tmp_path):
    from PIL import Image

    a, b = far_apart(window)
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        drag(window.map, a, b)
    dialog = window.open_export()
    out = tmp_path / "exported.gif"
    dialog.file.setText(str(out))
    dialog.frames.setValue(10)
    dialog.resolution.setValue(56)
    with qtbot.waitSignal(dialog.exported, timeout=120_000):
        dialog.export_button.click()
    with Image.open(out) as im:
        assert im.n_frames == 10 and im.size == (56, 56)
    assert dialog.progress.value() == 10
    # an existing file needs a yes
    dialog.confirm_overwrite = lambda path: False
    before = out.stat().st_mtime_ns
    dialog.export_button.click()
    assert out.stat().st_mtime_ns == before
    # cancel a long export: no file and no temporary file appear
    long_out = tmp_path / "long.mp4"
    dialog.file.setText(str(long_out))
    dialog.frames.setValue(400)
    dialog.resolution.setValue(128)
    with qtbot.waitSignal(dialog.runner.progress, timeout=60_000):
        dialog.export_button.click()
    dialog.cancel_button.click()
    assert "cancelled" in dialog.status.text() and dialog.progress.value() < 0  # the bar is reset
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["exported.gif"]
    # a place that cannot be written: said before a frame is decoded, the bar not left at the last export's 100 %
    dialog.file.setText(str(out / "inside-a-file.gif"))
    with qtbot.waitSignal(dialog.failed, timeout=60_000) as failed, qtbot.assertNotEmitted(dialog.runner.progress):
        dialog.export_button.click()
    assert failed.args[0] == f"could not write {out / 'inside-a-file.gif'}: {out} is a file, not a folder"
    assert dialog.progress.value() < 0 and dialog.export_button.isEnabled()
    dialog.close()
    # the folder and the settings are remembered
    again = window.open_export()
    assert again.file.text().startswith(str(tmp_path)) and again.resolution.value() == 128
    again.close()


def test_preview_can_follow_the_mouse_and_examples_list_every_modality(window, qtbot):
    window.hover_preview_action.setChecked(True)
    i = far_apart(window)[1]
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.hover.hover(i)
    expected = window.ws.pipeline.signal(window.ws.latents[i : i + 1])[0]
    assert np.allclose(window.preview.pixels, expected, atol=1e-6)
    from explorer.ui.menus import shipped_by_modality

    assert {m for _, m in shipped_by_modality()} >= {"image", "audio"}


def test_an_audiovisual_checkpoint_shows_picture_and_sound_together(qtbot):
    from explorer.ui.main_window import MainWindow
    from explorer.ui.previews import AudioPreview, ImagePreview

    w = MainWindow()
    w.pca_action.setChecked(True)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.preview_ready, timeout=120_000):
        assert open_in(qtbot, w, CHECKPOINT_DIR / "av-notes.safetensors")
    assert isinstance(w.previews["image"], ImagePreview) and isinstance(w.previews["audio"], AudioPreview)
    assert w.previews["image"].pixels.shape == (48, 48, 1) and w.previews["audio"].wave.shape == (16000,)
    w.shutdown()


def test_closing_while_tsne_runs_stops_it(qtbot):
    from explorer.ui.main_window import MainWindow

    w = MainWindow()  # t-SNE of all 10 000 latents starts in the background
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.map_tasks.tsne.progress, timeout=120_000):
        assert open_in(qtbot, w, DEFAULT_CHECKPOINT)
    assert w.map_tasks.tsne.busy
    w.close()
    assert not w.map_tasks.tsne.busy  # stopped at its next heartbeat, not at the end of the optimisation


def test_generate_makes_new_samples_that_can_be_kept_and_exported(window, qtbot, tmp_path):
    with qtbot.waitSignals([window.walker.finished, window.preview_ready], order="strict", timeout=60_000):
        window.generate_action.trigger()
    walk = window.ws.paths["walk"]
    samples = walk.path.latents[1:]
    assert len(window.map._ghosts.data) == len(samples) == 32
    # new: not training latents
    d = np.linalg.norm(samples[:, None] - window.ws.latents[None], axis=-1).min(1)
    assert (d > 1e-3).all()
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.timeline.set_position(0.5)
    window.bookmark_here()
    kept = window.side.entries("bookmark")[-1]
    assert "walk" in kept["name"] and len(kept["latent"]) == window.ws.latents.shape[1]
    dialog = window.open_export()
    assert dialog.resolution.value() == 0  # a fresh user: automatic, 256 px or more
    assert not dialog.crossfade.isEnabled() and not dialog.morph.isEnabled()  # sound options: not for pictures
    dialog.file.setText(str(tmp_path / "samples.png"))
    with qtbot.waitSignal(dialog.exported, timeout=120_000):
        dialog.export_button.click()
    from PIL import Image

    with Image.open(tmp_path / "samples.png") as im:
        assert im.size == (33 * 256, 256)
    dialog.close()


def test_decoder_precision_and_compilation_are_view_menu_settings(window, qtbot):
    from explorer.models.compiled import why_not_compiled
    from explorer.models.precision import resolve_precision

    assert window.decoder_menu.title() == "&Decoder"
    assert [a.text() for a in window.decoder_menu.actions() if a.text()][:3] == [
        "Precision: automatic", "Precision: float32", "Precision: bfloat16"]
    assert window.ws.pipeline.precision == resolve_precision("auto", "cpu")
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        window.precision_actions["fp32"].trigger()
    assert window.ws.pipeline.precision == "fp32" and window.settings.value("decoder/precision") == "fp32"
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        assert open_in(qtbot, window, DEFAULT_CHECKPOINT)  # the setting holds for the next checkpoint
    assert window.ws.pipeline.precision == "fp32"
    if why_not_compiled("cpu") is not None:
        return
    with qtbot.waitSignal(window.decoder_ready, timeout=300_000):
        window.compile_action.trigger()  # compiled in the background; the window stays usable
    pipeline = window.ws.pipeline
    assert pipeline.compiled and pipeline.warm and window.settings.value("decoder/compile") == "auto"
    assert window.statusBar().currentMessage().startswith("decoder compiled in")
    with qtbot.waitSignal(window.preview_ready, timeout=60_000):
        drag(window.map, *far_apart(window))
    assert window.ws.paths


def test_help_lists_every_shortcut_and_about_names_the_checkpoint_and_its_card(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_F1)
    box = window.help_box
    assert box.isVisible() and box.windowTitle() == "Keyboard shortcuts"
    table = dict((t, k) for k, t in window.shortcut_table())
    for what, keys in (("Lerp", "L"), ("Geodesic", "D"), ("Show k-NN graph", "G"), ("LLE walk", "W"),
                       ("Zoom to fit", "F"), ("Preview the other path", "C"), ("Keyboard shortcuts", "F1")):
        assert table[what] == keys and f"<b>{keys}</b>" in box.text()
    box.close()
    about = window.show_about()
    assert "latent-explorer 0." in about.text() and "fashion-mnist.safetensors" in about.text()
    assert "fashion-mnist.md" in about.text()  # the model card beside the checkpoint
    about.close()


def test_the_map_can_be_saved_restyled_and_zoomed_to_fit(window, qtbot, tmp_path):
    from PIL import Image

    tmp_path = tmp_path / "maps"
    tmp_path.mkdir()
    assert window.save_map_image(tmp_path / "map.png")
    with Image.open(tmp_path / "map.png") as im:
        assert im.width >= 2 * window.map.width() - 2 and np.asarray(im.convert("L")).std() > 10  # points drawn
    assert window.save_map_image(tmp_path / "map.svg")
    assert (tmp_path / "map.svg").read_text().lstrip().startswith("<?xml") and "<svg" in (tmp_path / "map.svg").read_text()
    assert not window.save_map_image(tmp_path / "map.jpg") and ".png or .svg" in window.banner.text.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png", "map.svg"]  # nothing half-written left
    window._set_point_style("size", 12)
    window._set_point_style("opacity", 0.25)
    group = window.map._groups[0]
    assert group.opts["size"] == 12 and group.opts["brush"].color().alpha() == 64
    assert window.settings.value("map/point_size") in (12, "12", 12.0)
    window.map._box.setRange(xRange=(0, 0.01), yRange=(0, 0.01), padding=0)  # zoomed right in
    qtbot.keyClick(window, Qt.Key.Key_F)
    (x0, x1), (y0, y1) = window.map._box.viewRange()
    xy = window.map.xy
    assert x0 <= xy[:, 0].min() and x1 >= xy[:, 0].max() and y0 <= xy[:, 1].min() and y1 >= xy[:, 1].max()


def test_find_dims_what_does_not_match_and_the_legend_isolates_a_label(window, qtbot):
    classes = np.array(window.ws.ckpt.labels["class"])
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.find_field.hasFocus()
    qtbot.keyClicks(window.find_field, "sandal")
    lit = sum(len(g.data) for g in window.map._groups if g.lit)
    dim = [g for g in window.map._groups if not g.lit]
    assert lit == int((classes == "Sandal").sum()) and dim and dim[0].opts["brush"].color().alpha() < 30
    assert "match 'sandal'" in window.statusBar().currentMessage()
    qtbot.keyClicks(window.find_field, "(")  # not a pattern (yet): said at the field, nothing else changes
    assert "not a regular expression" in window.find_field.toolTip() and window.ws.highlight is not None
    assert "not a regular expression" in window.statusBar().currentMessage()  # said where it is seen
    window.find_field.selectAll()
    qtbot.keyClick(window.find_field, Qt.Key.Key_Backspace)
    assert window.ws.highlight is None and all(g.lit for g in window.map._groups)
    assert "match" not in window.statusBar().currentMessage()  # all lit again, and the message about 'sandal' gone
    assert "label:Bag" in window.legend.text()  # each label in the legend is a link
    window.legend.linkActivated.emit("label:Bag")
    assert sum(len(g.data) for g in window.map._groups if g.lit) == int((classes == "Bag").sum())
    window.legend.linkActivated.emit("label:Bag")
    assert window.ws.highlight is None
    qtbot.keyClicks(window.find_field, "bag")
    qtbot.keyClick(window.find_field, Qt.Key.Key_Escape)  # Esc leaves the box: H is a shortcut again, not an "h"
    assert not window.find_field.hasFocus() and window.ws.highlight is None and window.find_field.text() == ""
    hover = window.hover_preview_action.isChecked()
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_H)
    assert window.find_field.text() == "" and window.hover_preview_action.isChecked() != hover


def test_the_selected_points_nearest_items_are_listed_with_distances_and_lead_there(window, qtbot):
    i = far_apart(window)[0]
    pos = window.map.view_to_widget(window.map.xy[i])
    p = QPoint(int(pos.x()), int(pos.y()))
    _send(window.map.viewport(), QEvent.Type.MouseButtonPress, p, Qt.MouseButton.LeftButton)  # a click
    _send(window.map.viewport(), QEvent.Type.MouseButtonRelease, p, Qt.MouseButton.NoButton)
    assert window.ws.selected == i
    lst = window.side.nearest
    assert lst.count() == 10 and window.ws.item_name(i) in window.side.nearest_title.text()
    rows = [lst.item(r).text() for r in range(lst.count())]
    dists = [float(t.split()[0]) for t in rows]  # the distance first, where the narrow panel does not cut it off
    assert dists == sorted(dists) and dists[0] > 0
    assert any(c in rows[0] for c in set(window.ws.ckpt.labels["class"]))  # with the colour label
    target = lst.item(3).data(Qt.ItemDataRole.UserRole)
    rect = lst.visualItemRect(lst.item(3))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.ws.selected == target


def test_shift_drag_draws_a_box_that_isolates_its_points_and_esc_shows_all(window, qtbot):
    xy = window.map.xy
    x_cut, y_cut = np.percentile(xy[:, 0], 30), np.percentile(xy[:, 1], 50)
    lo = window.map.view_to_widget(np.array([xy[:, 0].min() - 1, y_cut]))
    hi = window.map.view_to_widget(np.array([x_cut, xy[:, 1].max() + 1]))
    vp = window.map.viewport()
    shift = Qt.KeyboardModifier.ShiftModifier

    def send(kind, pos, buttons):
        button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
        QApplication.sendEvent(vp, QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, shift))

    send(QEvent.Type.MouseButtonPress, lo, Qt.MouseButton.LeftButton)
    for t in np.linspace(0, 1, 6)[1:]:
        send(QEvent.Type.MouseMove, QPoint(int(lo.x() + t * (hi.x() - lo.x())), int(lo.y() + t * (hi.y() - lo.y()))),
             Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, hi, Qt.MouseButton.NoButton)
    inside = (xy[:, 0] <= x_cut) & (xy[:, 1] >= y_cut)
    assert window.ws.highlight is not None and abs(int(window.ws.highlight.sum()) - int(inside.sum())) <= 0.02 * len(xy)
    assert not window.ws.paths  # a box is not a path
    assert "items selected on the map" in window.statusBar().currentMessage()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.ws.highlight is None


def test_ctrl_drag_draws_a_lasso_that_isolates_the_points_inside_it(window, qtbot, monkeypatch):
    import pyqtgraph as pg

    from explorer.ui.map_view import inside_polygon

    # the moves below come faster than a hand moves; pyqtgraph would drop all but a few of them
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", -1)

    xy = window.map.xy
    centre, spread = xy.mean(0), xy.std(0)
    # a triangle around the middle of the map, drawn freehand through 30 mouse positions
    corners = centre + spread * np.array([[-1.0, -0.8], [1.2, -0.6], [0.1, 1.1], [-1.0, -0.8]])
    stroke = np.concatenate([np.linspace(corners[i], corners[i + 1], 10, endpoint=False) for i in range(3)])
    vp = window.map.viewport()
    ctrl = Qt.KeyboardModifier.ControlModifier

    def send(kind, pos, buttons):
        button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
        QApplication.sendEvent(vp, QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, ctrl))

    where = [window.map.view_to_widget(p) for p in stroke]
    send(QEvent.Type.MouseButtonPress, where[0], Qt.MouseButton.LeftButton)
    for pos in where[1:]:
        send(QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, where[-1], Qt.MouseButton.NoButton)
    inside = inside_polygon(xy, corners)
    box = (xy >= corners.min(0)).all(1) & (xy <= corners.max(0)).all(1)
    assert 100 < inside.sum() < box.sum()  # a triangle: fewer than its bounding box holds
    chosen = window.ws.highlight
    assert chosen is not None and not window.ws.paths  # a lasso is not a path
    assert (chosen != inside).sum() <= 0.01 * len(xy)  # the points inside, up to pixel rounding at the edges
    assert window.map._box_outline.xData is None or len(window.map._box_outline.xData) == 0  # the outline goes


def test_tsne_can_be_paused_and_resumed_and_takes_its_settings(qtbot, tmp_path):
    from explorer.ui.main_window import MainWindow

    small = small_checkpoint(tmp_path, 400)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w._set_tsne_param("exaggeration", 4.0)
    w._set_tsne_param("iterations", 1200)  # long enough to pause
    with qtbot.waitSignal(w.map_tasks.tsne.progress, timeout=60_000):
        assert open_in(qtbot, w, small)
    task = w.tasks.get("tsne")
    qtbot.mouseClick(task.pause_button, Qt.MouseButton.LeftButton)
    assert task.pause_button.text() == "Resume" and w.map_tasks.paused.is_set()
    with qtbot.waitSignal(w.map_tasks.tsne.progress, timeout=2000, raising=False):  # what was on its way, if anything
        pass
    held = task.progress.value()
    with qtbot.assertNotEmitted(w.map_tasks.tsne.progress, wait=1500):
        pass
    assert task.progress.value() == held and w.map_tasks.tsne.busy
    with qtbot.waitSignal(w.map_tasks.tsne.finished, timeout=120_000):
        qtbot.mouseClick(task.pause_button, Qt.MouseButton.LeftButton)
    assert w.ws.projection.params["exaggeration"] == 4.0 and w.ws.projection.params["iterations"] == 1200
    assert w.tasks.get("tsne") is None
    w.shutdown()


def test_a_tsne_and_an_embedding_each_have_their_own_progress_and_cancel(qtbot, tmp_path):
    from PIL import Image
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    from explorer.ui.main_window import MainWindow

    small = small_checkpoint(tmp_path, 400)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    idle_height = w.statusBar().height()
    w._set_tsne_param("iterations", 5000)  # still running while the file is embedded
    with qtbot.waitSignal(w.map_tasks.tsne.progress, timeout=60_000):
        assert open_in(qtbot, w, small)
    pixels = w.ws.pipeline.signal(w.ws.latents[3:4])[0][..., 0]
    Image.fromarray((pixels * 255).round().astype(np.uint8)).save(tmp_path / "mine.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "mine.png"))])
    w.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier))
    assert set(w.tasks.tasks) == {"tsne", "embed"}  # both jobs are seen
    # each job takes the room it needs, no more: the rest of the status bar stays the messages'
    w.resize(1200, 800)
    qtbot.waitUntil(lambda: w.tasks.get("embed").cancel_button.width() > 0)
    assert w.tasks.width() <= w.tasks.sizeHint().width() < w.statusBar().width() / 2
    assert "embedding" in w.tasks.get("embed").progress.format() and w.tasks.get("embed").pause_button is None
    bar = w.tasks.get("embed").progress  # "embedding mine.png 0%" fits in its bar, on one line
    assert bar.fontMetrics().horizontalAdvance(bar.format().replace("%p", "100")) < bar.width()
    assert w.statusBar().height() == idle_height  # the window does not jump when a job comes
    with qtbot.assertNotEmitted(w.embed_ready, wait=500):
        qtbot.mouseClick(w.tasks.get("embed").cancel_button, Qt.MouseButton.LeftButton)
    assert set(w.tasks.tasks) == {"tsne"} and w.map_tasks.tsne.busy  # only the embedding stopped
    with qtbot.waitSignal(w.map_tasks.tsne.progress, timeout=10_000):
        pass  # the map goes on
    qtbot.mouseClick(w.tasks.get("tsne").cancel_button, Qt.MouseButton.LeftButton)
    assert not w.tasks.tasks and w.ws.projection.method == "pca"
    w.shutdown()


def test_damaged_settings_are_set_aside_and_the_app_starts_with_defaults(qtbot, tmp_path):
    """A wrong window-geometry value, text where a number belongs, and then a settings file Qt cannot
    parse: the window opens each time, with defaults and a note."""
    from PySide6.QtCore import QSettings

    from explorer.ui.main_window import MainWindow

    qs = QSettings("latent-explorer", "latent-explorer")
    for key, value in (("geometry", "hello"), ("splitter", 5), ("map/point_size", "huge"), ("recent", 7),
                       ("export/frames", "many"), ("decoder/precision", "fp8")):
        qs.setValue(key, value)
    qs.sync()
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.map.point_size == 6.0 and w.decoder_precision() == "auto"
    assert "'geometry'" in w.last_error and "'map/point_size'" in w.last_error
    assert QSettings("latent-explorer", "latent-explorer").value("geometry") is None  # removed: next start is clean
    w.close()
    path = Path(qs.fileName())
    path.write_bytes(b"[General\x00\n=\xff\n")
    w = MainWindow()
    qtbot.addWidget(w)
    assert path.with_suffix(".damaged.conf").exists() and "settings file was damaged" in w.last_error
    w.close()


def test_an_error_escaping_a_slot_or_a_thread_is_one_line_in_the_window(window, qtbot, tmp_path, monkeypatch):
    import threading

    from explorer.errors import ExplorerError
    from explorer.ui.error_report import ErrorReport

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    report = ErrorReport(window)
    report.message.connect(window._show_error)
    report.install()

    def broken():
        raise ZeroDivisionError("division by zero in a worker")

    with qtbot.waitSignal(report.message, timeout=10_000):  # from another thread: delivered on the GUI thread
        t = threading.Thread(target=broken)
        t.start()
        t.join()
    text = window.banner.text.text()
    assert text.startswith("internal error: ZeroDivisionError: division by zero in a worker") and "errors.log" in text
    assert "Traceback" in (tmp_path / "state" / "latent-explorer" / "errors.log").read_text()
    try:
        raise ExplorerError("a clear message")
    except ExplorerError as e:
        with qtbot.waitSignal(report.message, timeout=5000):
            sys.excepthook(type(e), e, e.__traceback__)
    assert window.banner.text.text() == "a clear message" and window.isVisible()


def test_a_screenshot_of_a_checkpoint_whose_decode_fails_is_taken_not_waited_for(tmp_path):
    """One bias made huge (a flipped exponent bit): the preview cannot be decoded; the one-shot window
    still saves its picture (with the banner saying why) instead of waiting for a preview that never comes."""
    from explorer.core.shipped import DEFAULT_CHECKPOINT
    from explorer.models.checkpoint import load_checkpoint, save_checkpoint

    from conftest import run_cli

    ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    key = next(k for k in ckpt.state_dict if k.endswith("bias"))
    bias = ckpt.state_dict[key].clone()
    bias[0] = 3.4e36
    ckpt.state_dict = dict(ckpt.state_dict) | {key: bias}
    bad = tmp_path / "flipped.safetensors"
    save_checkpoint(ckpt, bad)
    out = tmp_path / "shot.png"
    proc = run_cli(str(bad), "--screenshot", str(out), check=False, timeout=100, env={"QT_QPA_PLATFORM": "offscreen"})
    assert out.exists() and "timed out" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_embedding_from_the_closest_starts_is_a_kept_choice_in_the_file_menu(qtbot, tmp_path, tiny_checkpoint):
    """File ▸ Embed from the 4 closest starts: the task bar says so, the file lands on the map, and the choice is
    there again in the next window."""
    from PIL import Image

    from explorer.ui.embedding import EMBED_STARTS
    from explorer.ui.main_window import MainWindow

    w = MainWindow()
    w.pca_action.setChecked(True)
    qtbot.addWidget(w)
    w.show()
    assert open_in(qtbot, w, tiny_checkpoint)
    assert not w.embed_closest_action.isChecked()  # the default: one fit, from the mean
    w.embed_closest_action.trigger()
    pixels = w.ws.pipeline.signal(w.ws.latents[3:4])[0][..., 0]
    Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8).squeeze()).save(tmp_path / "mine.png")
    with qtbot.waitSignal(w.embed_ready, timeout=60_000) as blocker:
        w.embed_file(str(tmp_path / "mine.png"), steps=10)
        assert f"from its {EMBED_STARTS} closest starts" in w.tasks.get("embed").progress.format()
    assert blocker.args[0]["name"] == "mine.png" and w.ws.extra[-1]["kind"] == "embedded"
    w.shutdown()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.embed_closest_action.isChecked()
    again.embed_closest_action.trigger()
    third = MainWindow()
    qtbot.addWidget(third)
    assert not third.embed_closest_action.isChecked()


def test_long_names_in_the_side_panel_are_cut_with_their_whole_name_on_hover_not_scrolled_sideways(qtbot):
    from explorer.ui.side_panel import SidePanel

    side = SidePanel()
    qtbot.addWidget(side)
    side.resize(300, 700)
    side.show()
    long = "slow-strings/C#4-v100-a-very-long-recording-name.wav"
    side.show_nearest("x", [(0, long, 1.5)], labels=["string"])
    side._add(side.paths, {"name": f"lerp: accordion/A#3-v100.wav → {long}"})
    side.show_extra([f"{long} (embedded)"])
    qtbot.waitExposed(side)
    for lst in (side.nearest, side.paths, side.extra):
        assert not lst.horizontalScrollBar().isVisible()  # no sideways scrolling in the narrow panel
        assert lst.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        assert long in lst.item(0).toolTip()  # whole on hover
