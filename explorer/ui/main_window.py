"""The main window: the map on the left, the preview of the signal at the playhead on the right, the timeline below."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolBar,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from explorer.core.projection import load_cached, save_cached, tsne_steps_in_process
from explorer.core.shipped import shipped_checkpoints
from explorer.errors import ExplorerError
from explorer.ui.map_view import MapView
from explorer.ui.palette import label_colours
from explorer.ui.audio_out import AudioOut
from explorer.ui.settings import Settings
from explorer.ui.previews import PREVIEWS, AudioPreview, MeshPreview
from explorer.core.persist import checkpoint_key, load_workspace, save_workspace, set_aside
from explorer.core.session import Session
from explorer.ui.banner import Banner
from explorer.ui.side_panel import SidePanel
from explorer.ui.timeline import Timeline
from explorer.ui.task_bar import TaskBar
from explorer.ui.workers import TaskRunner

TSNE_PARAMS = {"perplexity": 30.0, "iterations": 750, "seed": 0}


def _tsne_job(latents, params, paused=None):
    """Yields partial maps; the last value is the finished ``Projection``."""
    from explorer.core.projection import pca

    # from the PCA layout, in its frame: the map holds still while the points move to their places
    yield from tsne_steps_in_process(latents, heartbeat=0.2, paused=paused, init=pca(latents).xy,
                                     **params)  # None: still working


def _shipped_by_modality() -> list[tuple[Path, str]]:
    """The shipped checkpoints with their modality (read from each file's header only)."""
    from explorer.models.checkpoint import peek_metadata

    out = []
    for path in shipped_checkpoints():
        try:
            out.append((path, peek_metadata(path)["modality"]["name"]))
        except (ExplorerError, KeyError):
            continue
    order = {"image": 0, "audio": 1, "shape": 2, "audiovisual": 3}
    return sorted(out, key=lambda pm: (order.get(pm[1], 9), pm[0].name))


def _embed_job(pipeline, observed, steps):
    """The fit's progress, then ``(EmbedResult, original PNG, reconstruction PNG)``."""
    from explorer.core.embed import EmbedResult, embed_steps
    from explorer.ui.thumbnails import observed_png, thumbnail_png

    for value in embed_steps(pipeline, observed, steps):
        if isinstance(value, EmbedResult):
            value = (value, observed_png(pipeline, observed), thumbnail_png(pipeline, value.latent, observed.part))
        yield value


def _thumbnail_job(pipeline, z, part):
    """A small picture of one decoded signal for the hover tooltip: ``(index, PNG bytes)`` later."""
    from explorer.ui.thumbnails import thumbnail_png

    return thumbnail_png(pipeline, z, part)


def _morph_job(pipeline, latents, seconds, part):
    """The sound of a stretch of path while the timeline plays it (``DecodePipeline.morph_wave``)."""
    return pipeline.morph_wave(latents, seconds, part=part)


def _decode_job(pipeline, z, requests):
    """Coarse then fine signal of one latent for every ``(part, resolution)`` asked for; yields ``(part, level, signal)``."""
    for part, resolution in requests:
        if pipeline.parts[part].name == "shape":  # SDF grids: the panel meshes them at its iso level
            z1 = z.reshape(-1)
            yield part, "coarse", pipeline.sdf_grid(z1, pipeline.preview_resolution(part)[0], part=part)
            yield part, "fine", pipeline.sdf_grid(z1, pipeline.resolution(part)[0], part=part)
            continue
        if resolution is None or tuple(resolution) == tuple(pipeline.resolution(part)):
            for level, signal in pipeline.stream(z, part=part):
                if level != "progress":
                    yield part, level, signal[0]
        else:
            yield part, "fine", pipeline.signal(z, resolution, part=part)[0]


class MainWindow(QMainWindow):
    preview_ready = Signal()
    """Emitted whenever the preview shows a freshly decoded fine signal."""
    map_ready = Signal()
    embed_ready = Signal(dict)
    tooltip_shown = Signal(str)
    decoder_ready = Signal()
    """Emitted when the background compilation of the decoder has ended (compiled, or failed and uncompiled)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("latent-explorer")
        self.resize(1200, 760)
        self.setAcceptDrops(True)
        self.settings = Settings()
        self.ws = Session()
        self.map = MapView()
        self.preview_holder = QWidget()
        QVBoxLayout(self.preview_holder).setContentsMargins(0, 0, 0, 0)
        self.previews: dict = {}
        self.audio_out = AudioOut()
        self.mesh_preview, self.mesh_error = self._make_mesh_preview()
        self.quality = QLabel("")
        self.quality.setWordWrap(True)
        self.quality.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.preview_holder, 1)
        # a fixed height, scrolled when longer: the preview above keeps its size whatever the text
        self.quality_area = QScrollArea()
        self.quality_area.setWidget(self.quality)
        self.quality_area.setWidgetResizable(True)
        self.quality_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.quality_area.setFixedHeight(8 * self.quality.fontMetrics().lineSpacing())
        self.quality.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        rl.addWidget(self.quality_area)
        # the legend above the map, wrapping onto more lines when long: in the status bar it squeezed
        # every message there to a few words
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        map_panel = QWidget()
        ml = QVBoxLayout(map_panel)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.setSpacing(2)
        ml.addWidget(self.legend)
        ml.addWidget(self.map, 1)
        split = QSplitter()
        split.addWidget(map_panel)
        split.addWidget(right)
        split.setSizes([760, 440])
        self.timeline = Timeline()
        central = QWidget()
        cl = QVBoxLayout(central)
        self.banner = Banner()
        cl.addWidget(self.banner)
        cl.addWidget(split, 1)
        cl.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.tasks = TaskBar()
        self._tsne_paused = None
        self.statusBar().addPermanentWidget(self.tasks)
        self.side = SidePanel()
        dock = QDockWidget("Bookmarks and paths", self)
        dock.setObjectName("bookmarks")
        dock.setWidget(self.side)
        self.side.setMaximumWidth(300)  # the map and the preview keep the room
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.splitter = split
        self.workspace_key = ""
        self._restoring = False
        self._preview_what = ""
        self.tsne = TaskRunner(self)
        self.decoder = TaskRunner(self)
        self.thumbs = TaskRunner(self)
        self.embedder = TaskRunner(self)
        self.compiler = TaskRunner(self)
        self.sounder = TaskRunner(self)
        """Makes the sound of the path while the timeline plays (``DecodePipeline.morph_wave``)."""
        self.compile_in_background = True
        """False for a one-shot window (``--screenshot``): compiling would outlast it."""
        self.embedder.progress.connect(self._on_embed_progress)
        self.embedder.failed.connect(lambda m: (self.tasks.finish("embed"), self._show_error(f"embedding failed: {m}")))
        self.thumbs.finished.connect(self._on_thumbnail)
        self.colour_by = QComboBox()
        self._build_actions()
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

    # --- construction -----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = file.addAction("&Open…", self.choose_file, QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu("Open &Recent")
        examples = file.addMenu("&Examples")
        for path, modality in _shipped_by_modality():
            examples.addAction(f"{path.stem} ({modality})", lambda p=path: self.open_checkpoint(p))
        file.addAction("&Export path…", self.open_export, "Ctrl+E")
        file.addAction("E&mbed a signal…", self.choose_embed_file, "Ctrl+M")
        file.addAction("Save the &map as an image…", self.choose_map_image, "Ctrl+Shift+S")
        file.addSeparator()
        file.addAction("&Quit", self.close, QKeySequence.StandardKey.Quit)
        tools_menu = bar.addMenu("&Tools")
        self.complete_action = tools_menu.addAction("&Complete a signal…", lambda: self.open_complete("complete"),
                                                    "Ctrl+K")
        self.complete_action.setToolTip("Hide part of a signal and let the manifold fill it in, K ways (GEM 4.4)")
        self.hallucinate_action = tools_menu.addAction("&Hallucinate the other modality…",
                                                       lambda: self.open_complete("hallucinate"), "Ctrl+Shift+K")
        self.hallucinate_action.setToolTip("Audio-visual checkpoints: from a picture alone propose sounds, "
                                           "from a sound alone propose pictures")
        for a in (self.complete_action, self.hallucinate_action):
            a.setEnabled(False)
        tools_menu.addSeparator()
        view = bar.addMenu("&View")
        proj = QActionGroup(self)
        self.pca_action = view.addAction("PCA map", lambda: self.use_projection("pca"))
        self.tsne_action = view.addAction("t-SNE map", lambda: self.use_projection("tsne"))
        for a in (self.pca_action, self.tsne_action):
            a.setCheckable(True)
            proj.addAction(a)
        self.tsne_action.setChecked(True)
        self.tsne_params = dict(TSNE_PARAMS)
        perp_menu = view.addMenu("t-SNE perplexity")
        pgroup = QActionGroup(self)
        for perp in (5, 15, 30, 50, 100):
            a = perp_menu.addAction(str(perp), lambda perp=perp: self._set_perplexity(perp))
            a.setCheckable(True)
            a.setChecked(perp == TSNE_PARAMS["perplexity"])
            pgroup.addAction(a)
        for title, key, choices in (("t-SNE early exaggeration", "exaggeration", (None, 2.0, 4.0, 12.0)),
                                    ("t-SNE learning rate", "learning_rate", ("auto", 50.0, 200.0, 1000.0))):
            menu = view.addMenu(title)
            group = QActionGroup(self)
            for value in choices:
                label = "automatic" if value in (None, "auto") else f"{value:g}"
                a = menu.addAction(label, lambda key=key, value=value: self._set_tsne_param(key, value))
                a.setCheckable(True)
                a.setChecked(value in (None, "auto"))
                group.addAction(a)
        iter_menu = view.addMenu("t-SNE iterations")
        igroup = QActionGroup(self)
        for its in (250, 750, 1500, 3000):
            a = iter_menu.addAction(f"{its} (+ 250 early exaggeration)", lambda its=its: self._set_tsne_iterations(its))
            a.setCheckable(True)
            a.setChecked(its == TSNE_PARAMS["iterations"])
            igroup.addAction(a)
        view.addSeparator()
        self.hover_preview_action = view.addAction("Preview under the mouse")
        self.hover_preview_action.setCheckable(True)
        self.hover_preview_action.setShortcut("H")
        self.hover_preview_action.setToolTip("While hovering a point, the preview shows it instead of the playhead (H)")
        view.addSeparator()
        self.graph_action = view.addAction("Show k-NN &graph")
        self.graph_action.setCheckable(True)
        self.graph_action.setShortcut("G")
        self.graph_action.toggled.connect(self._toggle_graph)
        self.k_menu = view.addMenu("Neighbours k")
        kgroup = QActionGroup(self)
        for k in (3, 5, 10, 15, 20, 30):
            a = self.k_menu.addAction(str(k), lambda k=k: self._set_k(k))
            a.setCheckable(True)
            a.setChecked(k == self.ws.k)
            kgroup.addAction(a)
        view.addSeparator()
        self.fit_action = view.addAction("Zoom to &fit", self.map.zoom_to_fit, "F")
        self.fit_action.setToolTip("Every point in view (F)")
        size_menu = view.addMenu("Point size")
        opacity_menu = view.addMenu("Point opacity")
        self.map.set_point_style(self.settings.number("map/point_size", 6.0, 1, 40),
                                 self.settings.number("map/point_opacity", 0.86, 0.05, 1))
        for menu, values, current, key in ((size_menu, (3, 6, 9, 12), self.map.point_size, "size"),
                                           (opacity_menu, (1.0, 0.86, 0.5, 0.25), self.map.point_opacity, "opacity")):
            group = QActionGroup(self)
            for v in values:
                a = menu.addAction(f"{v:g} px" if key == "size" else f"{round(100 * v)} %",
                                   lambda v=v, key=key: self._set_point_style(key, v))
                a.setCheckable(True)
                a.setChecked(abs(v - current) < 1e-6)
                group.addAction(a)
        view.addSeparator()
        self.decoder_menu = view.addMenu("&Decoder")
        self._build_decoder_menu(self.decoder_menu)
        tools = QToolBar("Path")
        tools.setObjectName("path_toolbar")
        self.addToolBar(tools)
        group = QActionGroup(self)
        self.lerp_action = QAction("Lerp", self, checkable=True, shortcut="L",
                                   toolTip="Straight line in latent space (L)")
        self.geo_action = QAction("Geodesic", self, checkable=True, shortcut="D",
                                  toolTip="Shortest path through the data on the k-NN graph (D)")
        self.both_action = QAction("Compare both", self, checkable=True, shortcut="B",
                                   toolTip="Draw the straight line and the geodesic together (B)")
        for a in (self.lerp_action, self.geo_action, self.both_action):
            group.addAction(a)
            tools.addAction(a)
        self.lerp_action.setChecked(True)
        self.switch_action = QAction("Preview the other path", self, shortcut="C", triggered=self.ws.switch_path,
                                     toolTip="With both paths drawn, see and hear the other one at the playhead (C)")
        tools.addAction(self.switch_action)
        tools.addSeparator()
        tools.addWidget(QLabel(" Colour by "))
        tools.addWidget(self.colour_by)
        self.find_field = QLineEdit()
        self.find_field.setPlaceholderText("Find: name or label (regex)")
        self.find_field.setClearButtonEnabled(True)
        self.find_field.setToolTip(self.FIND_HELP)
        self.find_field.setMaximumWidth(220)
        tools.addWidget(self.find_field)
        self.addAction(QAction("Find", self, shortcut=QKeySequence.StandardKey.Find,
                               triggered=lambda: (self.find_field.setFocus(), self.find_field.selectAll())))
        tools.addSeparator()
        self.walk_action = QAction("LLE walk", self, shortcut="W", triggered=self.walk_from_selection,
                                   toolTip="Walk the manifold's locally linear regions from the selected point "
                                           "(GEM sampling) (W)")
        tools.addAction(self.walk_action)
        self.generate_action = QAction("Generate", self, shortcut="Ctrl+G", triggered=self.generate,
                                       toolTip="New samples: an LLE walk from a random training item (Ctrl+G); "
                                               "scrub to preview, Ctrl+D to keep one, Ctrl+E to export them")
        tools.addAction(self.generate_action)
        tools_menu.addAction(self.walk_action)
        tools_menu.addAction(self.generate_action)
        self.addAction(QAction("Bookmark", self, shortcut="Ctrl+D", triggered=self.bookmark_here))
        self.addAction(QAction("Save path", self, shortcut="Ctrl+S", triggered=self.save_current_path))
        self.addAction(QAction("Close the message, show all points", self, shortcut="Esc", triggered=self._escape))
        play = QAction("Play/Pause", self, shortcut="P", triggered=self.timeline.toggle)
        self.addAction(play)
        sound = QAction("Play sound", self, shortcut="Space", triggered=self.play_sound)
        self.addAction(sound)
        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = help_menu.addAction("&Keyboard shortcuts", self.show_shortcuts, "F1")
        help_menu.addAction("&About latent-explorer", self.show_about)

    FIND_HELP = ("Items whose name or any label matches this regular expression stay bright, the rest are "
                 "dimmed (Ctrl+F; empty: all). Examples: boot|sandal, ^train-000, trumpet")

    def shortcut_table(self) -> list[tuple[str, str]]:
        """``[(keys, what it does)]`` of every action with a shortcut, menus and window alike, sorted by
        what it does: the Help sheet is made from the actions themselves, so it cannot go stale."""
        seen = {}
        for action in self.findChildren(QAction):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            text = action.text().replace("&", "").rstrip("…").strip()
            if keys and text:
                seen[(keys, text)] = None
        rows = list(seen) + [("F2", "Rename the selected bookmark or saved path"),
                             ("Home", "Reset the 3-D view (shapes)"),
                             ("Drag on the map", "From one point to another: a path"),
                             ("Shift+drag on the map", "Show only the items in a box"),
                             ("Ctrl+drag on the map", "Show only the items in a lasso"),
                             ("Mouse wheel", "Zoom the map")]
        return sorted(rows, key=lambda r: r[1].lower())

    def _text_box(self, title: str, html: str) -> QMessageBox:
        """A non-modal box of rich text with a Close button (Help's sheets)."""
        box = QMessageBox(QMessageBox.Icon.NoIcon, title, html, QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setModal(False)
        box.show()
        self.help_box = box
        return box

    def show_shortcuts(self) -> QMessageBox:
        """Help ▸ Keyboard shortcuts (F1)."""
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{t}</td></tr>" for k, t in self.shortcut_table())
        return self._text_box("Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> QMessageBox:
        """Help ▸ About: the version, the open checkpoint and its model card."""
        from explorer import __version__

        text = f"<b>latent-explorer {__version__}</b><br>Explore the manifolds learned by neural-field auto-decoders (GEM)."
        if self.ws.ckpt is not None:
            path = Path(self.ws.path)
            text += (f"<br><br>Checkpoint: {path}<br>{self.ws.ckpt.modality['name']}, {self.ws.ckpt.n_items} latents "
                     f"of {self.ws.latents.shape[1]} dimensions")
            card = path.with_suffix(".md")
            text += f"<br>Model card: {card}" if card.exists() else "<br>No model card beside the file."
        return self._text_box("About latent-explorer", text)

    def _escape(self) -> None:
        """Esc: close the message banner; with none, show every point again (after a box or a legend click)."""
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

    def _build_decoder_menu(self, menu) -> None:
        """Precision (auto / float32 / bfloat16) and compilation of the decoder, kept in the settings."""
        group = QActionGroup(self)
        self.precision_actions = {}
        current = self.decoder_precision()
        for key, text, tip in (
                ("auto", "Precision: automatic", "bfloat16 where this CPU or GPU has fast bfloat16 units, else float32"),
                ("fp32", "Precision: float32", "exact, slower"),
                ("bf16", "Precision: bfloat16", "mixed precision: matrix products in bfloat16, first layer and output "
                                                "in float32")):
            a = menu.addAction(text, lambda key=key: self.set_decoder(precision=key))
            a.setCheckable(True)
            a.setChecked(key == current)
            a.setToolTip(tip)
            group.addAction(a)
            self.precision_actions[key] = a
        menu.addSeparator()
        self.compile_action = menu.addAction("Compile the decoder")
        self.compile_action.setCheckable(True)
        self.compile_action.setChecked(self.decoder_compile() != "off")
        self.compile_action.setToolTip("torch.compile the decoder in the background after opening (seconds; "
                                       "cached for later runs): path decodes and exports run several times faster")
        self.compile_action.toggled.connect(lambda on: self.set_decoder(compile="auto" if on else "off"))
        menu.setToolTipsVisible(True)

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
        self.decoder.cancel()
        self.compiler.cancel()
        try:
            pipeline = self.ws.set_decoder(self.decoder_precision(), self.decoder_compile())
        except ExplorerError as e:
            self._show_error(str(e))
            return
        self._start_warm_up(pipeline)
        self.statusBar().showMessage(f"decoding in {pipeline.precision}", 5000)
        self._request_decode()

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

    def _connect(self) -> None:
        self.ws.projection_changed.connect(self._on_projection_changed)
        self.ws.paths_changed.connect(self._redraw_paths)
        self.ws.selection_changed.connect(self.map.set_selected)
        self.ws.selection_changed.connect(self._show_nearest)
        self.side.nearest_activated.connect(self.go_to_item)
        self.ws.playhead_changed.connect(self._on_playhead)
        self.ws.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.ws.extra_changed.connect(self._on_extra_changed)
        self.side.extra_activated.connect(lambda row: self.go_to_item(self.ws.n_items + row))
        self.side.extra_removed.connect(self.remove_extra)
        self.map.point_clicked.connect(self._on_click)
        self.map.point_hovered.connect(self._on_hover)
        self.map.path_requested.connect(self._on_path_requested)
        self.timeline.position_changed.connect(self.ws.set_playhead)
        self.timeline.play.toggled.connect(self._on_timeline_play)
        self.timeline.wrapped.connect(self._on_timeline_wrapped)
        self.sounder.finished.connect(self._on_path_sound)
        self.sounder.failed.connect(lambda m: self._show_error(f"the path's sound failed: {m}"))
        self.tsne.progress.connect(self._on_tsne_progress)
        self.tsne.finished.connect(self._on_tsne_finished)
        self.tsne.failed.connect(lambda m: self._show_error(f"t-SNE failed: {m}"))
        self.decoder.progress.connect(self._on_decoded)
        self.decoder.failed.connect(lambda m: self._show_error(f"decoding failed: {m}"))
        self.compiler.finished.connect(self._on_warmed_up)
        self.compiler.failed.connect(lambda m: self._show_error(f"compiling the decoder failed: {m}"))
        self.colour_by.activated.connect(lambda i: self.ws.set_colour_by("" if i == 0 else self.colour_by.itemText(i)))
        self.ws.colour_by_changed.connect(self._on_colour_by)
        self.ws.marks_changed.connect(self._on_marks_changed)
        self.ws.highlight_changed.connect(self._on_highlight)
        self.find_field.textChanged.connect(self._on_find)
        self.map.box_selected.connect(self.ws.isolate_items)
        self.legend.linkActivated.connect(self._on_legend_link)
        self.side.add_bookmark.clicked.connect(self.bookmark_here)
        self.side.save_path.clicked.connect(self.save_current_path)
        self.side.bookmark_activated.connect(self.go_to_bookmark)
        self.side.path_activated.connect(self.restore_path)
        self.side.renamed.connect(self.ws.rename_mark)
        self.side.removed.connect(self.ws.remove_marks)
        self.lerp_action.triggered.connect(lambda: self._set_method("lerp"))
        self.geo_action.triggered.connect(lambda: self._set_method("geodesic"))
        self.both_action.triggered.connect(lambda: self._set_method("both"))

    # --- opening ----------------------------------------------------------------------------------
    def choose_file(self) -> None:
        start = self.settings.text("last_folder", str(Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", start, "Checkpoints (*.safetensors)")
        if path:
            self.open_checkpoint(path)

    def open_checkpoint(self, path) -> bool:
        """Open a checkpoint; a bad file shows a one-line message and the current workspace stays."""
        self.tsne.cancel()
        self._restoring = True  # until its saved state is back, nothing of the new checkpoint is saved
        try:
            self.compiler.cancel()
            self.ws.load(path, precision=self.decoder_precision(), compile=self.decoder_compile())
            self._close_complete_dialog()  # its results belong to the checkpoint that was open
        except ExplorerError as e:
            self._restoring = False
            self._show_error(str(e))
            return False
        self.settings.setValue("last_folder", str(Path(path).resolve().parent))
        self._remember_recent(Path(path).resolve())
        ck = self.ws.ckpt
        self.setWindowTitle(f"latent-explorer — {Path(path).name} ({ck.modality['name']}, {ck.n_items} latents)")
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        self.colour_by.addItems(["(none)"] + list(ck.labels))
        self.colour_by.setCurrentIndex(max(0, self.colour_by.findText(self.ws.colour_by)) if self.ws.colour_by else 0)
        self.colour_by.blockSignals(False)
        self._install_preview()
        audiovisual = "parts" in ck.modality
        self.complete_action.setEnabled(not audiovisual)
        self.hallucinate_action.setEnabled(audiovisual)
        self.workspace_key = checkpoint_key(path)
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
        self.statusBar().showMessage(f"opened {path}", 5000)
        if self.tsne_action.isChecked():
            self.use_projection("tsne", opening=True)
        self.map_ready.emit()  # drawn: PCA at once, t-SNE (if asked for) follows in the background
        self._request_decode()
        self._start_warm_up(self.ws.pipeline)
        return True

    def _remember_recent(self, path: Path) -> None:
        recent = [p for p in self.settings.texts("recent") if p != str(path)]
        recent = [str(path)] + recent[:9]
        self.settings.setValue("recent", recent)
        self.recent_menu.clear()
        for p in recent:
            self.recent_menu.addAction(p, lambda p=p: self.open_checkpoint(p))

    def _make_mesh_preview(self):
        """The 3-D panel exists from the start (vispy wants its canvas in the layout before the window
        is shown); without OpenGL it is None and the reason is kept."""
        from PySide6.QtGui import QGuiApplication, QOpenGLContext

        platform = QGuiApplication.platformName()
        if platform in ("offscreen", "minimal") or not QOpenGLContext().create():
            return None, f"the 3-D view needs OpenGL, which Qt's {platform} platform does not have; run under a desktop or Xvfb"
        try:
            w = MeshPreview()
        except Exception as e:  # no GL context (e.g. Qt's offscreen platform): say why, once
            return None, f"the 3-D view needs OpenGL ({e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''})"
        self.preview_holder.layout().addWidget(w, 1)
        w.hide()
        return w, ""

    @property
    def preview(self):
        """The first preview panel (the only one unless the checkpoint is audio-visual)."""
        return next(iter(self.previews.values()), None)

    def _install_preview(self) -> None:
        layout = self.preview_holder.layout()
        for w in self.previews.values():
            if w is self.mesh_preview:
                w.hide()
                continue
            layout.removeWidget(w)
            w.deleteLater()
        self.previews = {}
        mod = self.ws.ckpt.modality
        parts = mod.get("parts") or {None: mod}
        for key, info in parts.items():
            w = PREVIEWS[info["name"]](self, info)
            if w is None:  # a shape, without OpenGL
                self.quality.setText(self.mesh_error)
                self._show_error(self.mesh_error)
                continue
            self.previews[key] = w
            if w is self.mesh_preview:
                w.show()
            else:
                layout.addWidget(w, 1)

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
        """Fit a latent for the file in a worker (progress in the status bar, Cancel), then show it."""
        from explorer.core.embed import read_signal

        try:
            observed = read_signal(self.ws.pipeline, path)
        except ExplorerError as e:
            self._show_error(str(e))
            return
        self._embed_name = Path(path).name
        self.tasks.start("embed", "embedding", self.cancel_embedding).set_progress(0, steps)
        self.embedder.start(_embed_job, self.ws.pipeline, observed, steps)

    def _on_embed_progress(self, value) -> None:
        if not isinstance(value, tuple):
            task = self.tasks.get("embed")
            if task is not None:
                task.set_progress(value.step, value.steps)
            return
        value, original, recon = value
        self.tasks.finish("embed")
        i = self.ws.add_extra(self._embed_name, value.latent, "embedded", metrics=value.metrics,
                              neighbours=[list(n) for n in value.neighbours])
        self.map.set_neighbours([n for n, *_ in value.neighbours])
        had_path = bool(self.ws.paths)
        self.go_to_item(i)
        if had_path:
            self.statusBar().showMessage("the path was put away to show the embedded file; drag to make a new one", 8000)
        from explorer.ui.thumbnails import img_tag

        labels = self.ws.ckpt.labels
        first = next((k for k in labels if k != "folder"), None)
        pictures = "".join(f"<td align=center>{img_tag(png)}<br>{what}</td>"
                           for png, what in ((original, "the file" + (" (negative)" if value.notes else "")),
                                             (recon, "its reconstruction")))
        self.quality.setText(f"<b>{self._embed_name}</b> embedded: "
                             + ", ".join(f"{k} {v:.3g}" for k, v in value.metrics.items() if isinstance(v, float))
                             + "".join(f"<br><i>{note}</i>" for note in value.notes)
                             + f"<table><tr>{pictures}</tr></table>nearest training items: "
                             + ", ".join(f"{name}" + (f" ({labels[first][j]})" if first else "")
                                         for j, name, _ in value.neighbours))
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
        self._request_decode(np.asarray(z, np.float32), "a completion")

    def go_to_item(self, i: int) -> None:
        """Select item ``i`` (a training item or an extra point) and preview it."""
        self.ws.clear_paths()
        self.ws.select(i)
        self._request_decode()

    def remove_extra(self, row: int) -> None:
        """Remove an extra point; saved paths that end at it go too, the others keep their ends."""
        self.map.set_neighbours([])
        self.ws.remove_extra(row)

    def _on_extra_changed(self) -> None:
        if self._restoring:
            self.map.set_neighbours([])
        if self.ws.projection is not None:
            self.map.set_extra(self.ws.extra_xy())
            self.map.set_selected(self.ws.selected)
        self.side.show_extra([f"{e['name']} ({e['kind']})" for e in self.ws.extra])
        self.save_workspace()

    def _on_marks_changed(self) -> None:
        self.side.load(self.ws.bookmarks, self.ws.saved_paths)
        self.save_workspace()

    def _on_colour_by(self, label: str) -> None:
        self.colour_by.setCurrentIndex(max(0, self.colour_by.findText(label)) if label else 0)
        self._redraw_points(fit=False)
        self.save_workspace()

    # --- the map ----------------------------------------------------------------------------------------
    def use_projection(self, method: str, opening: bool = False) -> None:
        """``opening``: the checkpoint was just opened, so a cached map is fitted to the view (a map that
        changes under the user's eyes keeps their pan and zoom instead)."""
        if self.ws.latents is None:
            return
        if method == "pca":
            self.tsne.cancel()
            self.tasks.finish("tsne")
            from explorer.core.projection import pca

            self.ws.set_projection(pca(self.ws.latents), same_frame=True)  # t-SNE maps are drawn in its frame
            return
        cached = load_cached(self.ws.latents, "tsne", self.tsne_params)
        if cached is not None:
            self.ws.set_projection(cached, same_frame=not opening)
            self.map_ready.emit()
            return
        from explorer.core.projection import tsne_pause_event

        self._tsne_paused = tsne_pause_event()
        self.tasks.start("tsne", "t-SNE", self._cancel_tsne, self.pause_tsne,
                         "Hold t-SNE where it is (the map stays usable), and go on later")
        self.tsne.start(_tsne_job, self.ws.latents, dict(self.tsne_params), self._tsne_paused)

    def _set_tsne_iterations(self, iterations: int) -> None:
        self._set_tsne_param("iterations", int(iterations))

    def _set_tsne_param(self, key: str, value) -> None:
        """A t-SNE setting from the View menu; the map is made again with it (or found in the cache)."""
        if value in (None, "auto"):
            self.tsne_params.pop(key, None)
        else:
            self.tsne_params[key] = value
        if self.tsne_action.isChecked():
            self.use_projection("tsne")

    def _set_perplexity(self, perplexity: float) -> None:
        self.tsne_params["perplexity"] = float(perplexity)
        if self.tsne_action.isChecked():
            self.use_projection("tsne")

    def _on_tsne_progress(self, value) -> None:
        done, total, layout = value
        task = self.tasks.get("tsne")
        if task is not None:
            task.set_progress(done, total, f"t-SNE {done}/{total}")
        if not isinstance(layout, np.ndarray):  # the finished map
            return
        if done > 0:  # in the frame of the map on screen: the user's pan and zoom stay
            self.map.set_points(layout, self._colours(), fit=False, highlight=self.ws.highlight)

    def _on_tsne_finished(self, value) -> None:
        projection = value[2]
        self.tasks.finish("tsne")
        self.ws.set_projection(projection, same_frame=True)
        try:
            save_cached(self.ws.latents, projection)
        except ExplorerError as e:
            self.statusBar().showMessage(f"could not cache the map: {e}", 5000)
        self.map_ready.emit()

    def cancel_embedding(self) -> None:
        self.embedder.cancel()
        self.tasks.finish("embed")
        self.statusBar().showMessage("embedding cancelled", 5000)

    def _cancel_tsne(self) -> None:
        self.tsne.cancel()
        self.tasks.finish("tsne")
        self.pca_action.setChecked(True)
        self.ws.set_projection(self.ws.projection, same_frame=True)  # back to the last finished map
        self.statusBar().showMessage("t-SNE cancelled; showing PCA", 5000)

    def pause_tsne(self) -> None:
        """Pause or resume the running t-SNE (its child process holds between steps)."""
        if self._tsne_paused is None or not self.tsne.busy:
            return
        button = self.tasks.get("tsne").pause_button
        if self._tsne_paused.is_set():
            self._tsne_paused.clear()
            button.setText("Pause")
            self.statusBar().showMessage("t-SNE goes on", 3000)
        else:
            self._tsne_paused.set()
            button.setText("Resume")
            self.statusBar().showMessage("t-SNE paused: the map holds still; Resume to go on", 8000)

    def _colours(self):
        key = self.ws.colour_by
        labels = self.ws.ckpt.labels if self.ws.ckpt else {}
        if key not in labels:
            self.legend.setText("")
            self.legend.setVisible(False)
            return None
        rgb, legend = label_colours(labels[key])
        categories = {str(v) for v in labels[key]}
        from html import escape
        from urllib.parse import quote

        def entry(t: str, c: str) -> str:
            dot = f"<span style='color:{c}'>●</span>"
            if t not in categories:  # a number on a colour ramp, or "N more"
                return f"{dot} {escape(t)}"
            return f"{dot} <a href='label:{quote(t)}' style='color:black; text-decoration:none'>{escape(t)}</a>"

        self.legend.setText(" ".join(entry(t, c) for t, c in legend))
        self.legend.setVisible(True)
        self.legend.setToolTip("Click a label to show only its items (again: all); Shift+click to dim it")
        return rgb

    def _on_legend_link(self, link: str) -> None:
        from urllib.parse import unquote

        value = unquote(link.removeprefix("label:"))
        if QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.ws.hide_label(self.ws.colour_by, value)
        else:
            self.ws.isolate_label(self.ws.colour_by, value)

    def _on_find(self, text: str) -> None:
        try:
            self.ws.find(text)
        except ExplorerError as e:  # while a pattern is being typed it may not be one yet: said at the field
            self.find_field.setStyleSheet("QLineEdit { border: 1px solid #d9534f; }")
            self.find_field.setToolTip(str(e))
            return
        self.find_field.setStyleSheet("")
        self.find_field.setToolTip(self.FIND_HELP)

    def _on_highlight(self) -> None:
        self.map.set_highlight(self.ws.highlight)
        if self.ws.highlight_reason:
            self.statusBar().showMessage(self.ws.highlight_reason, 8000)

    def _on_projection_changed(self, same_frame: bool) -> None:
        self._redraw_points(fit=not same_frame)

    def _redraw_points(self, fit: bool = True) -> None:
        if self.ws.projection is None:
            return
        self.map.set_points(self.ws.projection.xy, self._colours(), fit=fit, highlight=self.ws.highlight)
        self.map.set_extra(self.ws.extra_xy())
        self.map.set_selected(self.ws.selected)
        self._redraw_paths()

    def _toggle_graph(self, on: bool) -> None:
        if on and self.ws.latents is not None:
            graph = self.ws.ensure_graph()
            self.map.set_edges(*graph.edges())
            self.statusBar().showMessage(graph.describe(), 5000)
        self.map.set_edges_visible(on)

    def _set_k(self, k: int) -> None:
        if self.ws.latents is None:
            return
        graph = self.ws.ensure_graph(k)
        self.map.set_edges(*graph.edges())
        self.statusBar().showMessage(graph.describe(), 5000)

    def _set_method(self, method: str) -> None:
        self.ws.method = "lerp" if method == "both" else method
        self._compare = method == "both"
        entry = next(iter(self.ws.paths.values()), None)
        if entry is not None:
            self._on_path_requested(entry.a, entry.b)

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
            self._request_decode()

    def _on_path_requested(self, a: int, b: int) -> None:
        methods = ("lerp", "geodesic") if getattr(self, "_compare", False) else (self.ws.method,)
        self.ws.make_path(a, b, methods)
        self.timeline.frames = self.ws.frames
        self.timeline.set_position(0.0)

    # --- walks, bookmarks, saved paths -------------------------------------------------------------
    def generate(self) -> None:
        """GEM sampling from a random training item (seeded per press, so a session is reproducible)."""
        if self.ws.latents is None:
            return
        rng = np.random.default_rng(1000 + self.ws.walk_seed)
        self.walk_from_selection(int(rng.integers(len(self.ws.latents))))

    def walk_from_selection(self, start: int | None = None) -> None:
        if self.ws.latents is None:
            return
        if start is None or start is False:  # a triggered action passes False
            start = self.ws.selected if self.ws.selected >= 0 else 0
        self.ws.walk(start, steps=32)
        self.timeline.frames = 33
        self.timeline.set_position(0.0)
        self.statusBar().showMessage(f"LLE walk of 32 steps from {self.ws.item_name(self.ws.paths['walk'].a)} "
                                     f"(seed {self.ws.walk_seed})", 5000)

    def bookmark_here(self) -> None:
        self.ws.bookmark_here()

    def go_to_bookmark(self, entry: dict) -> None:
        if "index" in entry:
            self.go_to_item(int(entry["index"]))
            return
        from explorer.core.projection import place

        z = np.asarray(entry["latent"], np.float32)
        self.map.set_playhead(place(self.ws.projection, self.ws.latents, z[None])[0])
        self._request_decode(z, str(entry.get('name', 'a bookmark')))

    def save_current_path(self) -> None:
        if self.ws.save_current_path() is None:
            self.statusBar().showMessage("no path to save: drag from one point to another first", 5000)

    def restore_path(self, saved: dict) -> None:
        self.ws.restore_path(saved)

    def open_export(self):
        """File ▸ Export: the current path or walk (drag one first)."""
        if not self.ws.paths:
            self.statusBar().showMessage("nothing to export yet: drag from one point to another, or walk (W)", 6000)
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
        self.map.set_paths({m: e.xy for m, e in self.ws.paths.items()}, self.ws.current)
        walk = self.ws.paths.get("walk")
        self.map.set_ghosts(walk.xy[1:] if walk is not None else None)
        self.map.set_playhead(self.ws.playhead_xy())
        self._show_quality()

    QUALITY_HELP = ("Lengths and distances are in neighbour spacings: the median distance between a "
                    "training latent and its nearest other one. Off the manifold: how far each frame lies "
                    "from the flat patch through its 10 nearest training latents (GEM's locally linear "
                    "regions); below 1 the frame lies among the data, well above 1 it is decoded from "
                    "where nothing was trained.")

    def _show_quality(self) -> None:
        if not self.ws.paths:
            self.quality.setText("Drag from one point to another to see what lies between them.")
            self.quality.setToolTip("")
            return
        unit = self.ws.spacing
        lines = []
        for m, e in self.ws.paths.items():
            off = e.off / unit
            where = f"off the manifold {off.mean():.2f} (worst {off.max():.2f}) neighbour spacings"
            if m == "walk":
                lines.append(f"<b>LLE walk</b> from {self.ws.item_name(e.a)}: {len(e.path.latents) - 1} steps, "
                             f"length {e.path.length / unit:.1f} neighbour spacings, {where}")
                continue
            between = len(set(e.path.nodes) - {e.a, e.b})
            lines.append(f"<b>{m}</b>: {self.ws.item_name(e.a)} → {self.ws.item_name(e.b)}, "
                         f"length {e.path.length / unit:.1f} neighbour spacings, {between} items between, {where}"
                         + (f"<br><i>{e.path.note}</i>" if e.path.note else ""))
        self.quality.setText("<br>".join(lines))
        self.quality.setToolTip(self.QUALITY_HELP)

    def _on_playhead(self, t: float) -> None:
        self.map.set_playhead(self.ws.playhead_xy())
        self._request_decode()

    def _request_decode(self, z=None, what: str | None = None) -> None:
        """Decode ``z`` (default: the playhead, else the selection) for the preview; ``what``: how its
        caption names it (default: the path and t, or the selected item)."""
        if z is None:
            z = self.ws.playhead_latent()
            what = None
        if what is None:
            what = f"path {self.ws.current}, t = {self.ws.playhead:.2f}" if self.ws.paths else \
                (self.ws.item_name(self.ws.selected) if self.ws.selected >= 0 else "")
        self._preview_what = what
        if z is None or not self.previews:
            return
        requests = [(key, w.decode_resolution()) for key, w in self.previews.items()]
        self._pending_parts = set(self.previews)
        self.decoder.start(_decode_job, self.ws.pipeline, z[None], requests)

    def _on_decoded(self, value) -> None:
        part, level, signal = value
        w = self.previews.get(part)
        if w is None:
            return
        w.show_signal(signal, f"{self._preview_what} ({level})")
        if level == "fine":
            self._pending_parts.discard(part)
            if isinstance(w, AudioPreview) and w.on_hover.isChecked() and getattr(self, "_hover_decode", False):
                self.play_sound()
            if not self._pending_parts:
                self._hover_decode = False
                self.preview_ready.emit()

    def _sound_part(self):
        """The part whose sound plays along a path (None when the checkpoint makes no sound)."""
        return next((key for key, w in self.previews.items() if isinstance(w, AudioPreview)), "none")

    def _on_timeline_play(self, on: bool) -> None:
        """Play on a sound checkpoint: the path is heard as it plays, one continuous sound from the playhead
        to the end (at the timeline's speed); the playhead sets off when the sound is ready."""
        part = self._sound_part()
        if part == "none" or not self.ws.paths:
            return
        if not on:
            self.sounder.cancel()
            self.audio_out.stop()
            return
        entry = self.ws.paths[self.ws.current]
        z = entry.path.latents
        t = self.ws.playhead
        if self.timeline.direction > 0:  # forwards to the end (from the start if at the end)
            t = t if t < 1.0 else 0.0
            z, left = z[int(np.floor(t * (len(z) - 1))):], 1.0 - t
        else:  # ping-pong, on the way back
            z, left = z[: int(np.ceil(t * (len(z) - 1))) + 1][::-1], t
        seconds = left * (len(entry.path.latents) - 1) / self.timeline.fps.value()
        if seconds < 0.05:
            return
        self.timeline.hold(True)  # the playhead waits for the sound
        self.statusBar().showMessage("making the path's sound…", 3000)
        self.sounder.start(_morph_job, self.ws.pipeline, z, seconds, part)

    def _on_path_sound(self, wave) -> None:
        if not self.timeline.play.isChecked():
            return
        audio = self.previews[self._sound_part()]
        reason = self.audio_out.play(wave, audio.sample_rate, audio.volume.value() / 100)
        if reason:  # the sound asked for cannot be played: said in full where it is read
            self._show_error(reason)
        self.last_path_sound = wave
        self.timeline.hold(False)

    def _on_timeline_wrapped(self) -> None:
        """Loop and ping-pong start the path again: its sound too."""
        if self.timeline.play.isChecked() and self._sound_part() != "none" and self.ws.paths:
            self._on_timeline_play(True)

    def play_sound(self) -> None:
        """Play the decoded sound (Space); without an audio device, say so once in the status bar."""
        audio = next((w for w in self.previews.values() if isinstance(w, AudioPreview)), None)
        if audio is None or audio.wave is None:
            return
        reason = self.audio_out.play(audio.wave, audio.sample_rate, audio.volume.value() / 100)
        if reason:  # the sound asked for cannot be played: said in full where it is read
            self._show_error(reason)

    def _on_hover(self, index: int) -> None:
        if index < 0 or self.ws.ckpt is None:
            self._hover_index = -1
            self.thumbs.cancel()
            QToolTip.hideText()
            return
        text = f"<b>{self.ws.item_name(index)}</b>"
        if index < self.ws.n_items:
            labels = {k: v[index] for k, v in self.ws.ckpt.labels.items()}
        else:
            extra = self.ws.extra[index - self.ws.n_items]
            labels = {"": extra["kind"]} | {k: f"{v:.3g}" for k, v in extra.get("metrics", {}).items()
                                             if isinstance(v, float)}
        if labels:
            text += "<br>" + ", ".join(f"{k}: {v}" if k else v for k, v in list(labels.items())[:4])
        self.hover_text = text
        self._hover_index = index
        self.thumbs.start(_thumbnail_job, self.ws.pipeline, self.ws.item_latent(index), self._thumb_part())
        play_on_hover = any(isinstance(w, AudioPreview) and w.on_hover.isChecked() for w in self.previews.values())
        if self.hover_preview_action.isChecked() or (play_on_hover and not self.ws.paths):
            self._hover_decode = play_on_hover
            self._request_decode(self.ws.item_latent(index), f"under the mouse: {self.ws.item_name(index)}")
        self._show_tooltip(text)

    def _thumb_part(self):
        parts = self.ws.ckpt.modality.get("parts")
        return None if not parts else ("image" if "image" in parts else next(iter(parts)))

    def _show_tooltip(self, text: str) -> None:
        from PySide6.QtGui import QCursor

        QToolTip.showText(QCursor.pos(), text, self.map)
        self.tooltip_shown.emit(text)

    def _on_thumbnail(self, png: bytes) -> None:
        if getattr(self, "_hover_index", -1) < 0:
            return
        from explorer.ui.thumbnails import img_tag

        self.hover_text += f"<br>{img_tag(png)}"
        self._show_tooltip(self.hover_text)

    def _show_error(self, message: str) -> None:
        """An error that stopped what the user asked for: in full in the banner above the map."""
        self.statusBar().showMessage(message, 15000)
        self.banner.show_message(message)
        self.last_error = message

    def shutdown(self) -> None:
        """Stop background work before the window goes (also on application quit)."""
        self.timeline.play.setChecked(False)
        self._close_complete_dialog()
        for runner in (self.tsne, self.decoder, self.thumbs, self.embedder, self.sounder, self.compiler):
            runner.cancel()
        for runner in (self.tsne, self.decoder, self.thumbs, self.embedder, self.sounder):
            runner.wait(10_000)
        self.compiler.wait(120_000)  # a compilation cannot be interrupted; it ends within a minute or so

    def closeEvent(self, ev) -> None:
        self.shutdown()
        self.save_workspace()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        super().closeEvent(ev)
