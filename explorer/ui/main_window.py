"""The main window: the map on the left, the preview of the signal at the playhead on the right, the
timeline below. It composes the parts, each in its own module: the menus (``menus``), the preview and its
decode loop (``preview_panel``), the hover tooltips (``hover``), the path's sound (``path_sound``), the
map's t-SNE and k-NN graph (``map_tasks``) and the task bar; the state is the Qt-free ``Session``. Opening
a checkpoint, decoding, t-SNE, the graph, embedding and compiling all run in workers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from explorer.core.persist import checkpoint_key, load_workspace, memory_key, save_workspace, set_aside
from explorer.core.session import Session, read_checkpoint
from explorer.errors import ExplorerError
from explorer.ui import menus
from explorer.ui.banner import Banner
from explorer.ui.hover import HoverTips
from explorer.ui.map_tasks import MapTasks
from explorer.ui.map_view import MapView
from explorer.ui.embedding import EMBED_STARTS, Embedding
from explorer.ui.legend import Legend
from explorer.ui.path_sound import PathSound
from explorer.ui.preview_panel import PreviewPanel
from explorer.ui.settings import Settings
from explorer.ui.side_panel import SidePanel
from explorer.ui.task_bar import TaskBar
from explorer.ui.timeline import Timeline
from explorer.ui.importer import Importer
from explorer.ui.workers import TaskRunner


class MainWindow(QMainWindow):
    opened = Signal(bool)
    """Opening a checkpoint ended: True when it is the open one now (its map drawn), False when it could
    not be read (the message is in the banner; the checkpoint open before stays)."""
    preview_ready = Signal()
    """Emitted whenever the preview shows a freshly decoded fine signal."""
    map_ready = Signal()
    path_ready = Signal()
    """A path a drag asked for is drawn (its preview decode follows)."""
    embed_ready = Signal(dict)
    decoder_ready = Signal()
    """Emitted when the background compilation of the decoder has ended (compiled, or failed and uncompiled)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("latent-explorer")
        self.resize(1200, 760)
        self.setAcceptDrops(True)
        self.settings = Settings()
        self.ws = Session()
        self._highlight_said = ""
        """The status bar's last message about what is dimmed on the map."""
        self.map = MapView()
        self.panel = PreviewPanel(self.ws)
        self.legend = Legend(self.ws)
        map_panel = QWidget()
        ml = QVBoxLayout(map_panel)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.setSpacing(2)
        ml.addWidget(self.legend)
        ml.addWidget(self.map, 1)
        split = QSplitter()
        split.addWidget(map_panel)
        split.addWidget(self.panel)
        split.setSizes([760, 440])
        self.splitter = split
        self.timeline = Timeline()
        self.timeline.set_path_shown(False)
        central = QWidget()
        cl = QVBoxLayout(central)
        self.banner = Banner()
        cl.addWidget(self.banner)
        cl.addWidget(split, 1)
        cl.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.tasks = TaskBar()
        self.statusBar().addPermanentWidget(self.tasks)
        self.side = SidePanel()
        dock = QDockWidget("Bookmarks and paths", self)
        dock.setObjectName("bookmarks")
        dock.setWidget(self.side)
        self.side.setMaximumWidth(300)  # the map and the preview keep the room
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.workspace_key = ""
        self._restoring = False
        self.map_tasks = MapTasks(self.ws, self.tasks, self)
        self.sound = PathSound(self.ws, self.panel, self.timeline, self)
        self.opener = TaskRunner(self)
        self.embedding = Embedding(self.tasks, self)
        self.importer = Importer(self.tasks, self)
        self.compiler = TaskRunner(self)
        self.walker = TaskRunner(self)
        self.pather = TaskRunner(self)
        self.restorer = TaskRunner(self)
        self.rebuilder = TaskRunner(self)
        """Builds the decoder again when its precision or compile mode changes."""
        self.compile_in_background = True
        """False for a one-shot window (``--screenshot``): compiling would outlast it."""
        self.colour_by = QComboBox()
        self.colour_by.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "instrument" not cut to "instrume"
        self.find_field = QLineEdit()
        menus.build_menus(self)
        self.hover = HoverTips(self.ws, self.map, self.panel, self.hover_preview_action, self)
        self._connect()
        geometry = self.settings.blob("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            for key, widget in (("window_state", self), ("splitter", self.splitter)):
                state = self.settings.blob(key)
                if state is not None:
                    widget.restoreState(state)
        if self.settings.notes:  # a damaged settings file or value: defaults are in use, and the user is told
            self._show_error("; ".join(self.settings.notes))

    # --- the parts ----------------------------------------------------------------------------------------
    @property
    def previews(self) -> dict:
        return self.panel.previews

    @property
    def preview(self):
        """The first preview panel (the only one unless the checkpoint is audio-visual)."""
        return self.panel.preview

    def _connect(self) -> None:
        status = self._status
        ws = self.ws
        ws.projection_changed.connect(self._on_projection_changed)
        ws.paths_changed.connect(self._redraw_paths)
        ws.selection_changed.connect(self.map.set_selected)
        ws.selection_changed.connect(self._show_nearest)
        ws.selection_changed.connect(self.panel.show_quality)  # an embedded point: what it was fitted to (a bound
        # method: psygnal holds it weakly; a lambda here kept the window alive as long as the session)
        ws.playhead_changed.connect(self._on_playhead)
        ws.message.connect(status)
        ws.extra_changed.connect(self._on_extra_changed)
        ws.colour_by_changed.connect(self._on_colour_by)
        ws.marks_changed.connect(self._on_marks_changed)
        ws.highlight_changed.connect(self._on_highlight)
        self.side.nearest_activated.connect(self.go_to_item)
        self.side.extra_activated.connect(lambda row: self.go_to_item(self.ws.n_items + row))
        self.side.extra_removed.connect(self.remove_extra)
        self.side.add_bookmark.clicked.connect(self.bookmark_here)
        self.side.save_path.clicked.connect(self.save_current_path)
        self.side.bookmark_activated.connect(self.go_to_bookmark)
        self.side.path_activated.connect(self.restore_path)
        self.side.renamed.connect(ws.rename_mark)
        self.side.removed.connect(ws.remove_marks)
        self.map.point_clicked.connect(self._on_click)
        self.map.path_requested.connect(self._on_path_requested)
        self.map.box_selected.connect(ws.isolate_items)
        self.timeline.position_changed.connect(ws.set_playhead)
        self.panel.ready.connect(self.preview_ready)
        self.panel.failed.connect(lambda m: self._show_error(f"decoding failed: {m}"))
        self.sound.failed.connect(self._show_error)
        self.sound.status.connect(lambda m: self.statusBar().showMessage(m, 3000))
        self.map_tasks.map_ready.connect(self.map_ready)
        self.map_tasks.partial.connect(self._on_partial_map)
        self.map_tasks.tsne_cancelled.connect(lambda: self.pca_action.setChecked(True))
        self.map_tasks.graph_ready.connect(self._on_graph)
        self.map_tasks.failed.connect(self._show_error)
        self.map_tasks.status.connect(status)
        self.opener.finished.connect(self._on_opened)
        self.opener.failed.connect(self._on_open_failed)
        self.embedding.embedded.connect(self._on_embedded)
        self.importer.imported.connect(self._on_imported)
        for job in (self.embedding, self.importer):  # TaskBarJob: a failure in the banner, a cancel in the status bar
            job.failed.connect(self._show_error)
            job.status.connect(lambda m: self.statusBar().showMessage(m, 5000))
        self.compiler.finished.connect(self._on_warmed_up)
        self.walker.finished.connect(self._on_walked)
        self.pather.finished.connect(self._on_paths)
        self.pather.failed.connect(lambda m: self._show_error(f"the path failed: {m}"))
        self.restorer.finished.connect(self._on_restored)
        self.rebuilder.finished.connect(self._on_decoder)
        self.rebuilder.failed.connect(self._show_error)
        self.restorer.failed.connect(lambda m: self._show_error(f"the saved path failed: {m}"))
        self.walker.failed.connect(lambda m: (self.tasks.finish("walk"), self._show_error(f"the walk failed: {m}")))
        self.compiler.failed.connect(lambda m: self._show_error(f"compiling the decoder failed: {m}"))
        self.colour_by.activated.connect(lambda i: self.ws.set_colour_by("" if i == 0 else self.colour_by.itemText(i)))
        self.find_field.textChanged.connect(self._on_find)
        self.graph_action.toggled.connect(self._toggle_graph)
        self.lerp_action.triggered.connect(lambda: self.set_method("lerp"))
        self.geo_action.triggered.connect(lambda: self.set_method("geodesic"))
        self.both_action.triggered.connect(lambda: self.set_method("both"))

    def _status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    # --- Help ---------------------------------------------------------------------------------------------
    def shortcut_table(self) -> list[tuple[str, str]]:
        return menus.shortcut_table(self)

    def show_shortcuts(self) -> QMessageBox:
        """Help ▸ Keyboard shortcuts (F1)."""
        return menus.show_shortcuts(self)

    def show_about(self) -> QMessageBox:
        """Help ▸ About: the version, the open checkpoint and its model card."""
        return menus.show_about(self)

    def _escape(self) -> None:
        """Esc: leave the Find box (the one-letter shortcuts type into it otherwise), close the message banner;
        with none, show every point again (after a find, a box or a legend click)."""
        if self.find_field.hasFocus():
            self.map.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.banner.isVisible():
            self.banner.hide()
        elif self.ws.highlight is not None:
            self.find_field.clear()
            self.ws.clear_highlight()

    def _set_point_style(self, key: str, value: float) -> None:
        self.map.set_point_style(**{key: value})
        self.settings.setValue(f"map/point_{key}", value)

    def choose_map_image(self) -> None:
        """File ▸ Save the map as an image (PNG or SVG)."""
        start = str(Path(self.settings.text("export/folder", str(Path.home()))) / "map.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save the map", start, "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            self.save_map_image(path)

    def save_map_image(self, path) -> bool:
        try:
            self.map.save_image(path)
        except ExplorerError as e:
            self._show_error(str(e))
            return False
        self.statusBar().showMessage(f"saved the map to {path}", 8000)
        return True

    def decoder_precision(self) -> str:
        return self.settings.text("decoder/precision", "auto", ("auto", "fp32", "bf16"))

    def decoder_compile(self) -> str:
        return self.settings.text("decoder/compile", "auto", ("auto", "off"))

    def set_decoder(self, precision: str | None = None, compile: str | None = None) -> None:
        """Change how the decoder runs (kept in the settings); the open checkpoint is decoded again."""
        if precision is not None:
            self.settings.setValue("decoder/precision", precision)
        if compile is not None:
            self.settings.setValue("decoder/compile", compile)
        if self.ws.ckpt is None:
            return
        self.panel.decoder.cancel()
        self.compiler.cancel()
        self.rebuilder.start(self.ws.make_decoder, self.decoder_precision(), self.decoder_compile())

    def _on_decoder(self, pipeline) -> None:
        """The decoder in its new precision or compile mode is built: it decodes from now on."""
        self.ws.use_decoder(pipeline)
        self._start_warm_up(pipeline)
        self.statusBar().showMessage(f"decoding in {pipeline.precision}", 5000)
        self.panel.request()

    def _start_warm_up(self, pipeline) -> None:
        """Compile the decoder in the background; decodes run uncompiled until it is done."""
        for note in pipeline.notes:
            self.statusBar().showMessage(note, 5000)
        if not pipeline.warm and self.compile_in_background:
            self.statusBar().showMessage("compiling the decoder in the background…", 5000)
            self.compiler.start(pipeline.warm_up)

    def _on_warmed_up(self, seconds) -> None:
        pipeline = self.ws.pipeline
        if pipeline is None:
            return
        if pipeline.compiled:
            self.statusBar().showMessage(f"decoder compiled in {seconds:.1f} s ({pipeline.precision})", 5000)
        else:
            self._show_error(pipeline.notes[-1] if pipeline.notes else "the decoder runs uncompiled")
        self.decoder_ready.emit()

    # --- opening ----------------------------------------------------------------------------------
    def choose_file(self) -> None:
        start = self.settings.text("last_folder", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", start,
                                              "Checkpoints and ONNX bundles (*.safetensors *.zip);;All files (*)")
        if path:
            self.open_checkpoint(path)

    def choose_folder(self) -> None:
        """File ▸ Open a folder: an ONNX decoder bundle, or a DeepSDF experiment (imported once into the cache)."""
        folder = QFileDialog.getExistingDirectory(self, "Open an ONNX bundle or a DeepSDF experiment folder",
                                                  self.settings.text("last_folder", str(Path.home())))
        if folder:
            self.open_checkpoint(folder)

    def open_checkpoint(self, path, files=None) -> None:
        """Open a checkpoint: it is read, checked and made ready in a worker (the task bar shows it, with
        Cancel) while the open one stays usable; ``opened`` says how it ended. A bad file shows a one-line
        message and the open checkpoint stays."""
        from explorer.modalities import file_plug

        reader = file_plug(path)
        if reader is not None and Path(path).is_file():  # a signal, not a model: say where it goes
            self._show_error(f"{Path(path).name} is {reader.file_kind}, not a checkpoint: open a checkpoint, then File ▸ "
                             "Embed a signal (Ctrl+M) places it on that checkpoint's map")
            self.opened.emit(False)
            return
        self._opening = Path(path)
        self.tasks.start("open", f"opening {self._opening.name}", self._cancel_open)
        self.opener.start(read_checkpoint, path, self.decoder_precision(), self.decoder_compile(), self.ws.k, files)

    def choose_import(self) -> None:
        self.importer.choose(self, self.settings.text("last_folder", str(Path.home())))

    def _on_imported(self, path: str, notes: list) -> None:
        if notes:
            self.banner.show_message("; ".join(notes), "note")
        self.open_checkpoint(path)

    def open_model(self, ckpt) -> None:
        """Open a checkpoint made in memory (``explorer.show``): made ready in a worker, as a file is."""
        from explorer.core.session import make_ready

        self._opening = Path("from Python")
        self.tasks.start("open", "opening the latents given from Python", self._cancel_open)
        self.opener.start(make_ready, ckpt, None, self.decoder_precision(), self.decoder_compile(), self.ws.k)

    def _cancel_open(self) -> None:
        self.opener.cancel()
        self.tasks.finish("open")
        self._status(f"opening {self._opening.name} cancelled")

    def _on_open_failed(self, message: str) -> None:
        self.tasks.finish("open")
        self._show_error(message)
        self.opened.emit(False)

    def _on_opened(self, opened) -> None:
        self.tasks.finish("open")
        path = opened.path
        self.map_tasks.stop_tsne()
        self.compiler.cancel()
        # what was being made for the checkpoint that was open is dropped (a cancelled task's result never arrives)
        for runner in (self.walker, self.pather, self.restorer, self.rebuilder, self.map_tasks.grapher):
            runner.cancel()
        for task in ("walk", "graph"):
            self.tasks.finish(task)
        if self.embedding.runner.busy:
            self.embedding.cancel()
        self._close_complete_dialog()  # its results belong to the checkpoint that was open
        self._restoring = True  # until its saved state is back, nothing of the new checkpoint is saved
        try:
            self.ws.adopt(opened)
        finally:
            self._restoring = False
        ck = self.ws.ckpt
        if path is not None:
            self.settings.setValue("last_folder", str(path.resolve().parent))
            self._remember_recent(path.resolve())
        self.setWindowTitle(f"latent-explorer — {path.name if path else 'from Python'} ({ck.modality['name']}, "
                            f"{ck.n_items} latents)")
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        self.colour_by.addItems(["(none)"] + list(ck.labels))
        self.colour_by.setCurrentIndex(max(0, self.colour_by.findText(self.ws.colour_by)) if self.ws.colour_by else 0)
        self.colour_by.blockSignals(False)
        missing = self.panel.install()
        if missing:
            self._show_error(missing)
        elif ck.train.get("note"):  # plain embeddings: what the frames are, said once, plainly
            self.banner.show_message(ck.train["note"], "note")
        audiovisual = "parts" in ck.modality
        self.complete_action.setEnabled(not audiovisual)
        self.hallucinate_action.setEnabled(audiovisual)
        self.workspace_key = checkpoint_key(path) if path is not None else memory_key(ck)
        self._restoring = True
        try:
            saved, aside = load_workspace(self.workspace_key)
            if self.ws.restore(saved) and aside is None:
                aside = set_aside(self.workspace_key)  # the damaged entries stay there; the next save is clean
        finally:
            self._restoring = False
        if aside is not None:
            self._show_error(f"the saved workspace of this checkpoint was damaged: what could be read is back, "
                             f"the file is kept as {aside}")
        self._redraw_points()
        self._show_nearest(self.ws.selected)
        if self.graph_action.isChecked() or (self.ws.graph is None and self.ws.ckpt.n_items > self.ws.k):
            self.map_tasks.build_graph()  # a large map opens without its graph: made now, in the background
        self.statusBar().showMessage(f"opened {path or 'the latents and decoder given from Python'}", 5000)
        if self.layout_action.isChecked():  # another checkpoint's own layout does not fit this one
            self.pca_action.setChecked(True)
        if self.tsne_action.isChecked():
            self.use_projection("tsne", opening=True)
        self.map_ready.emit()  # drawn: PCA at once, t-SNE (if asked for) follows in the background
        self.panel.request()
        self._start_warm_up(self.ws.pipeline)
        self.opened.emit(True)

    def _remember_recent(self, path: Path) -> None:
        recent = [p for p in self.settings.texts("recent") if p != str(path)]
        recent = [str(path)] + recent[:9]
        self.settings.setValue("recent", recent)
        self.recent_menu.clear()
        for p in recent:
            self.recent_menu.addAction(p, lambda p=p: self.open_checkpoint(p))

    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        urls = ev.mimeData().urls()
        if not urls:
            return
        path = urls[0].toLocalFile()
        if path.lower().endswith(".safetensors") or self.ws.ckpt is None:
            self.open_checkpoint(path)
        else:  # an image, sound or mesh: embed it in the open checkpoint
            self.embed_file(path)

    # --- embedding a user's file (GEM 4.4) ---------------------------------------------------------------
    def choose_embed_file(self) -> None:
        if self.ws.ckpt is None:
            return
        from explorer.core.embed import signal_file_filter

        path, _ = QFileDialog.getOpenFileName(self, "Embed a signal", self.settings.text("last_folder", str(Path.home())),
                                              signal_file_filter())
        if path:
            self.embed_file(path)

    def embed_file(self, path: str, steps: int = 300) -> None:
        """Fit a latent for the file in a worker (progress and Cancel in the task bar), then show it."""
        if self.ws.ckpt is not None:
            starts = EMBED_STARTS if self.embed_closest_action.isChecked() else 1
            self.embedding.start(self.ws.pipeline, path, steps, starts)

    def _on_embedded(self, name: str, value, original: bytes, recon: bytes) -> None:
        i = self.ws.add_extra(name, value.latent, "embedded", metrics=value.metrics,
                              neighbours=[list(n) for n in value.neighbours], notes=list(value.notes))
        self.map.set_neighbours([n for n, *_ in value.neighbours])
        had_path = bool(self.ws.paths)
        self.go_to_item(i)
        if had_path:
            self.statusBar().showMessage("the path was put away to show the embedded file; drag to make a new one", 8000)
        self.panel.show_embedded(self.ws.extra[-1], original, recon)
        self.embed_ready.emit(self.ws.extra[-1])

    # --- extra points: embedded files and kept completions -----------------------------------------
    def open_complete(self, mode: str):
        """Tools ▸ Complete (one signal, part hidden) or Hallucinate (audio-visual: one modality alone)."""
        if self.ws.ckpt is None:
            return None
        from explorer.ui.complete_dialog import CompleteDialog

        self._close_complete_dialog()
        dialog = CompleteDialog(self, mode)
        dialog.show()
        self.complete_dialog = dialog
        return dialog

    def _close_complete_dialog(self) -> None:
        dialog = getattr(self, "complete_dialog", None)
        if dialog is not None:
            dialog.close()
            dialog.runner.cancel()
            dialog.runner.wait(10_000)
            self.complete_dialog = None

    def preview_latent(self, z) -> None:
        """Show a latent that is on no path (a completion) in the preview."""
        self.ws.clear_paths()
        self.panel.request(np.asarray(z, np.float32), "a completion")

    def go_to_item(self, i: int) -> None:
        """Select item ``i`` (a training item or an extra point) and preview it."""
        self.ws.clear_paths()
        self.ws.select(i)
        self.panel.request()

    def remove_extra(self, row: int) -> None:
        """Remove an extra point; saved paths that end at it go too, the others keep their ends."""
        self.map.set_neighbours([])
        self.ws.remove_extra(row)

    def _on_extra_changed(self) -> None:
        if self._restoring:
            self.map.set_neighbours([])
        if self.ws.projection is not None and not self._restoring:  # opening: drawn once at its end
            self.map.set_extra(self.ws.extra_xy())
            self.map.set_selected(self.ws.selected)
        self.side.show_extra([f"{e['name']} ({e['kind']})" for e in self.ws.extra])
        self.save_workspace()

    def _on_marks_changed(self) -> None:
        self.side.load(self.ws.bookmarks, self.ws.saved_paths)
        self.save_workspace()

    def _on_colour_by(self, label: str) -> None:
        self.colour_by.setCurrentIndex(max(0, self.colour_by.findText(label)) if label else 0)
        if not self._restoring:  # opening: drawn once at its end
            self._redraw_points(fit=False)
        self.save_workspace()

    # --- the map ----------------------------------------------------------------------------------------
    def use_projection(self, method: str, opening: bool = False) -> None:
        """The PCA or the t-SNE map (``MapTasks.use``)."""
        self.map_tasks.use(method, opening)

    def choose_layout(self) -> None:
        """View ▸ Map from a file: pick a person's own 2-D layout of the training latents."""
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "A 2-D map of the training latents", "",
                                              "2-D layouts (*.npy *.csv *.tsv)")
        if path:
            self.load_layout(path)
        else:
            self._check_current_projection()

    def load_layout(self, path) -> bool:
        """Show the training latents where the file ``path`` places them (``projection.read_layout``); a file
        that is not such a layout is one line in the window, and the map stays as it was."""
        from explorer.core.projection import read_layout

        if self.ws.latents is None:
            return False
        try:
            layout = read_layout(path, len(self.ws.latents))
        except ExplorerError as e:
            self._show_error(str(e))
            self._check_current_projection()
            return False
        self.map_tasks.stop_tsne()
        self.ws.set_projection(layout)
        self.layout_action.setChecked(True)
        self.statusBar().showMessage(f"the map from {path}", 5000)
        return True

    def _check_current_projection(self) -> None:
        """The View menu's tick on the map that is shown."""
        method = self.ws.projection.method if self.ws.projection is not None else "pca"
        {"tsne": self.tsne_action, "layout": self.layout_action}.get(method, self.pca_action).setChecked(True)

    def _set_tsne_iterations(self, iterations: int) -> None:
        self._set_tsne_param("iterations", int(iterations))

    def _set_perplexity(self, perplexity: float) -> None:
        self._set_tsne_param("perplexity", float(perplexity))

    def _set_tsne_param(self, key: str, value) -> None:
        """A t-SNE setting from the View menu; the map is made again with it (or found in the cache)."""
        if value in (None, "auto"):
            self.ws.tsne_params.pop(key, None)
        else:
            self.ws.tsne_params[key] = value
        if self.tsne_action.isChecked():
            self.use_projection("tsne")

    def _on_find(self, text: str) -> None:
        try:
            self.ws.find(text)
        except ExplorerError as e:  # while a pattern is being typed it may not be one yet: said at the field
            self.find_field.setStyleSheet("QLineEdit { border: 1px solid #d9534f; }")
            self.find_field.setToolTip(str(e))
            self.statusBar().showMessage(str(e), 8000)  # the tooltip alone is seen only by hovering
            return
        self.find_field.setStyleSheet("")
        self.find_field.setToolTip(menus.FIND_HELP)

    def _on_highlight(self) -> None:
        self.map.set_highlight(self.ws.highlight)
        bar = self.statusBar()
        if self.ws.highlight_reason:
            bar.showMessage(self.ws.highlight_reason, 8000)
        elif bar.currentMessage() and bar.currentMessage() == self._highlight_said:
            bar.clearMessage()  # "48 of 1114 match 'viol'" is no longer so once the find is cleared
        self._highlight_said = self.ws.highlight_reason

    def _on_projection_changed(self, same_frame: bool) -> None:
        if not self._restoring:  # opening: drawn once at its end
            self._redraw_points(fit=not same_frame)

    def _on_partial_map(self, xy) -> None:
        """A t-SNE layout on its way: the points move, and the selected point's ring with its point."""
        self.map.set_points(xy, self.legend.colours(), fit=False, highlight=self.ws.highlight)
        self.map.set_selected(self.ws.selected)

    def _redraw_points(self, fit: bool = True) -> None:
        if self.ws.projection is None:
            return
        self.map.set_points(self.ws.projection.xy, self.legend.colours(), fit=fit, highlight=self.ws.highlight)
        self.map.set_extra(self.ws.extra_xy())
        self.map.set_selected(self.ws.selected)
        self._redraw_paths()

    def _toggle_graph(self, on: bool) -> None:
        if on:
            self.map_tasks.build_graph()
        self.map.set_edges_visible(on)

    def _set_k(self, k: int) -> None:
        """View ▸ Neighbours k: the graph (and geodesic paths from now on) with ``k`` neighbours, built in a worker."""
        self.map_tasks.build_graph(k)

    def _on_graph(self, graph) -> None:
        self.map.set_edges(*graph.edges())
        self.statusBar().showMessage(graph.describe(), 5000)

    def set_method(self, method: str) -> None:
        """Lerp, geodesic or "both" (compare) for the next drag; the path on the map is made again."""
        self.ws.set_method("lerp" if method == "both" else method, compare=method == "both", remake=False)
        entry = self.ws.dragged()
        if entry is not None:
            self._on_path_requested(entry.a, entry.b)
        elif "walk" in self.ws.paths:  # the walk stays; the choice is for the paths drags make
            word = {"lerp": "straight (lerp)", "geodesic": "geodesic", "both": "lerp and geodesic"}[method]
            self.statusBar().showMessage(f"the LLE walk stays on the map; a drag from one point to another "
                                         f"now makes {word} paths", 8000)

    # --- interaction ------------------------------------------------------------------------------------
    def _show_nearest(self, index: int) -> None:
        if index < 0 or self.ws.ckpt is None:
            self.side.show_nearest("", [])
            return
        labels = self.ws.ckpt.labels.get(self.ws.colour_by) if self.ws.colour_by else None
        self.side.show_nearest(self.ws.item_name(index), self.ws.nearest(index), labels)

    def _on_click(self, index: int) -> None:
        self.ws.select(index)
        if not self.ws.paths:
            self.panel.request()

    def _on_path_requested(self, a: int, b: int) -> None:
        """A drag from item a to item b: the path (both, when comparing) is made in a worker, then drawn."""
        self.pather.start(self.ws.plan_paths, a, b, self.ws.drag_methods())

    def _on_paths(self, entries) -> None:
        self.ws.show_paths(entries)
        self._path_shown()

    def _path_shown(self) -> None:
        """A path made in a worker (a drag, a walk, a saved path) is on the map: the timeline runs along it from its start."""
        self.timeline.frames = len(self.ws.paths[self.ws.current].path.latents)
        self.timeline.set_position(0.0)
        self.path_ready.emit()

    # --- walks, bookmarks, saved paths -------------------------------------------------------------
    def generate(self) -> None:
        """GEM sampling from a random training item (seeded per press, so a session is reproducible)."""
        if self.ws.latents is None:
            return
        rng = np.random.default_rng(1000 + self.ws.walk_seed)
        self.walk_from_selection(int(rng.integers(len(self.ws.latents))))

    def walk_from_selection(self, start: int | None = None) -> None:
        """An LLE walk of 32 steps from ``start`` (default: the selection), made in a worker (seconds on a
        large map; the task bar has its Cancel), then shown as the current path."""
        if self.ws.latents is None:
            return
        if start is None or start is False:  # a triggered action passes False
            start = self.ws.selected if self.ws.selected >= 0 else 0
        self.tasks.start("walk", "LLE walk", lambda: (self.walker.cancel(), self.tasks.finish("walk")))
        self.walker.start(self.ws.make_walk, start, 32, self.ws.next_walk_seed())

    def _on_walked(self, entry) -> None:
        self.tasks.finish("walk")
        self.ws.show_walk(entry)
        self._path_shown()
        self.statusBar().showMessage(f"LLE walk of {len(entry.path.latents) - 1} steps from "
                                     f"{self.ws.item_name(entry.a)} (seed {entry.seed})", 5000)

    def bookmark_here(self) -> None:
        self.ws.bookmark_here()

    def go_to_bookmark(self, entry: dict) -> None:
        if "index" in entry:
            self.go_to_item(int(entry["index"]))
            return
        from explorer.core.projection import place

        z = np.asarray(entry["latent"], np.float32)
        self.map.set_playhead(place(self.ws.projection, self.ws.latents, z[None])[0])
        self.panel.request(z, str(entry.get('name', 'a bookmark')))

    def save_current_path(self) -> None:
        if self.ws.save_current_path() is None:
            self.statusBar().showMessage("no path to save: drag from one point to another first", 5000)

    def restore_path(self, saved: dict) -> None:
        """A saved path (double-click): made again in a worker, exactly as it was, then drawn."""
        self.restorer.start(self.ws.plan_restore, saved)

    def _on_restored(self, planned) -> None:
        self.ws.show_restored(*planned)
        self._path_shown()

    def open_export(self):
        """File ▸ Export: the current path or walk (drag one first)."""
        if not self.ws.paths:
            self.statusBar().showMessage("nothing to export yet: drag from one point to another, or walk (W)", 6000)
            return None
        if not self.ws.pipeline.makes_signals:
            self._show_error("nothing to export: these latents have no decoder and no files")
            return None
        from explorer.ui.export_dialog import ExportDialog

        dialog = ExportDialog(self)
        dialog.exported.connect(lambda p: self.statusBar().showMessage(f"exported {p}", 8000))
        dialog.show()
        self.export_dialog = dialog
        return dialog

    def save_workspace(self) -> None:
        if not self.workspace_key or self._restoring:
            return
        reason = save_workspace(self.workspace_key, self.ws.state())
        if reason:
            self._show_error(reason)

    def _redraw_paths(self) -> None:
        self.timeline.set_path_shown(bool(self.ws.paths))
        self.map.set_paths({m: e.xy for m, e in self.ws.paths.items()}, self.ws.current)
        walk = self.ws.paths.get("walk")
        self.map.set_ghosts(walk.xy[1:] if walk is not None else None)
        self.map.set_playhead(self.ws.playhead_xy())
        self.panel.show_quality()

    def _on_playhead(self, t: float) -> None:
        self.map.set_playhead(self.ws.playhead_xy())
        self.panel.request()

    def play_sound(self) -> None:
        """Play the decoded sound (Space); without an audio device, say so."""
        self.sound.play_sound()

    def _show_error(self, message: str) -> None:
        """An error that stopped what the user asked for: in full in the banner above the map."""
        self.statusBar().showMessage(message, 15000)
        self.banner.show_message(message)
        self.last_error = message

    def shutdown(self) -> None:
        """Stop background work before the window goes (also on application quit)."""
        self.timeline.play.setChecked(False)
        self._close_complete_dialog()
        runners = (self.opener, self.walker, self.pather, self.restorer, self.rebuilder, *self.map_tasks.runners, self.panel.decoder, self.hover.thumbs, self.embedding.runner, self.importer.runner,
                   self.sound.sounder)
        for runner in (*runners, self.compiler):
            runner.cancel()
        for runner in runners:
            runner.wait(10_000)
        self.compiler.wait(120_000)  # a compilation cannot be interrupted; it ends within a minute or so

    def closeEvent(self, ev) -> None:
        self.shutdown()
        self.save_workspace()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        super().closeEvent(ev)
