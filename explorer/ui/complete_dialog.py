"""Tools ▸ Complete (GEM §4.4) and Tools ▸ Hallucinate (GEM §5.2, fig. 8).

Complete: hide part of a signal — paint over a picture (or pick a preset), select a time range of a
sound, choose a half-space of a shape — and fit K latents from different starts to the visible part.
Hallucinate (audio-visual checkpoints): fit to the picture alone and hear K sounds, or to the sound
alone and see K pictures. Either way the K results appear side by side; each can be previewed,
played and added to the map. The source is the signal at the playhead, or a file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.errors import ExplorerError
from explorer.ui.workers import TaskRunner

CARD_SIZE = 160


def _fit_job(pipeline, fit, shown_part):
    """The fit's progress, then one result per latent: ``{"latent", "png", "wave"}``."""
    from explorer.ui.thumbnails import thumbnail_png

    last = None
    for last in fit:
        yield last
    z = last.latents.cpu().numpy()
    sound = "sound" in pipeline.parts[shown_part].produces
    wave = pipeline.signal(z, part=shown_part) if sound else [None] * len(z)
    yield [{"latent": zj, "png": thumbnail_png(pipeline, zj, shown_part, CARD_SIZE), "wave": w}
           for zj, w in zip(z, wave)]


def _clear(layout) -> None:
    """Remove and delete everything in a layout."""
    while layout.count():
        item = layout.takeAt(0)
        if item.widget():
            item.widget().deleteLater()


def _qimage(pixels: np.ndarray) -> QImage:
    arr = (np.clip(pixels, 0, 1) * 255).astype(np.uint8)
    arr = np.ascontiguousarray(np.repeat(arr, 3, -1) if arr.shape[-1] == 1 else arr[..., :3])
    h, w, _ = arr.shape
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class MaskPainter(QWidget):
    """The picture, with the hidden part in red: drag to hide, right-drag to show again."""

    changed = Signal()

    def __init__(self, pixels: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 220)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.set_pixels(pixels)

    def set_pixels(self, pixels: np.ndarray) -> None:
        self.image = _qimage(pixels)
        self.mask = np.zeros(pixels.shape[:2], bool)
        self.brush = max(1, pixels.shape[0] // 10)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(280, 280)

    def set_mask(self, mask: np.ndarray) -> None:
        self.mask = np.asarray(mask, bool).copy()
        self.update()
        self.changed.emit()

    def _target(self):
        h, w = self.mask.shape
        scale = min(self.width() / w, self.height() / h)
        return scale, (self.width() - w * scale) / 2, (self.height() - h * scale) / 2

    def cell_centre(self, row: int, col: int) -> QPoint:
        """Widget position of a pixel's centre (for tests and for keyboard-free scripting)."""
        scale, x0, y0 = self._target()
        return QPoint(int(x0 + (col + 0.5) * scale), int(y0 + (row + 0.5) * scale))

    def paintEvent(self, ev) -> None:
        h, w = self.mask.shape
        scale, x0, y0 = self._target()
        overlay = np.zeros((h, w, 4), np.uint8)
        overlay[self.mask] = (213, 94, 0, 150)
        hidden = QImage(overlay.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        target = QRect(int(x0), int(y0), int(w * scale), int(h * scale))
        p = QPainter(self)
        p.drawImage(target, self.image)
        p.drawImage(target, hidden)
        p.end()

    def _paint_at(self, pos, hide: bool) -> None:
        scale, x0, y0 = self._target()
        col, row = (pos.x() - x0) / scale, (pos.y() - y0) / scale
        rr, cc = np.indices(self.mask.shape)
        disk = (rr + 0.5 - row) ** 2 + (cc + 0.5 - col) ** 2 <= self.brush ** 2
        self.mask[disk] = hide
        self.update()
        self.changed.emit()

    def mousePressEvent(self, ev) -> None:
        self._last = ev.position()
        self._paint_at(ev.position(), ev.button() != Qt.MouseButton.RightButton)

    def mouseMoveEvent(self, ev) -> None:
        if ev.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            hide = not ev.buttons() & Qt.MouseButton.RightButton
            # a fast stroke reports points far apart: paint the whole segment, not only its ends
            last, now = getattr(self, "_last", ev.position()), ev.position()
            scale = self._target()[0]
            gap = ((now.x() - last.x()) ** 2 + (now.y() - last.y()) ** 2) ** 0.5 / scale  # in picture pixels
            steps = max(1, int(np.ceil(gap / max(0.5, self.brush / 2))))
            for t in np.linspace(0, 1, steps + 1)[1:]:
                self._paint_at(QPointF(last.x() + t * (now.x() - last.x()), last.y() + t * (now.y() - last.y())), hide)
            self._last = now


class ResultCard(QFrame):
    """One completion: its picture (a spectrogram for sounds), Play for sounds, Show, Add to map."""

    def __init__(self, title: str, png: bytes, sound: bool, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.title = QLabel(f"<b>{title}</b>")
        self.picture = QLabel()
        pix = QPixmap()
        pix.loadFromData(png)
        self.picture.setPixmap(pix)
        layout.addWidget(self.title)
        layout.addWidget(self.picture)
        row = QHBoxLayout()
        self.play = QPushButton("Play")
        self.play.setVisible(sound)
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("Show it in the main preview")
        self.add = QPushButton("Add to map")
        self.add.setToolTip("Keep it as a star on the map: a path end, bookmarkable, saved with the workspace")
        for b in (self.play, self.show_button, self.add):
            row.addWidget(b)
        layout.addLayout(row)


class CompleteDialog(QDialog):
    """``mode``: "complete" (hide part of one signal) or "hallucinate" (an audio-visual checkpoint's
    other modality from one alone)."""

    completed = Signal(list)
    """The results, when they are shown: one dict per start (``latent``, ``png``, ``wave``)."""

    def __init__(self, window, mode: str = "complete") -> None:
        super().__init__(window)
        self.window, self.mode = window, mode
        ws = window.ws
        self.pipeline = ws.pipeline
        self.parts = {k: p.name for k, p in self.pipeline.parts.items()}
        self.setWindowTitle("Hallucinate the other modality" if mode == "hallucinate" else "Complete a signal")
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.failed.connect(self._on_failed)
        self.results: list[dict] = []
        self.cards: list[ResultCard] = []
        self.observed = None
        self.source_name = ""

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.source_label = QLabel("")
        self.open_button = QPushButton("Open file…")
        self.open_button.setToolTip("Complete an image, sound or mesh file instead of the signal at the playhead")
        self.open_button.clicked.connect(self.choose_file)
        self.here_button = QPushButton("Use the playhead")
        self.here_button.clicked.connect(self.use_playhead)
        top.addWidget(self.source_label, 1)
        top.addWidget(self.here_button)
        top.addWidget(self.open_button)
        layout.addLayout(top)
        self.given = QComboBox()  # hallucination: which part is given
        for key, plug in self.pipeline.parts.items():
            others = " and ".join(p.signal_words[1] for k, p in self.pipeline.parts.items() if k != key)
            self.given.addItem(f"the {plug.signal_words[0]} (propose {others})", key)
        self.given.currentIndexChanged.connect(lambda _: self.use_playhead())
        self.given_row = QHBoxLayout()
        self.given_row.addWidget(QLabel("Given only"))
        self.given_row.addWidget(self.given, 1)
        if mode == "hallucinate":
            layout.addLayout(self.given_row)
        self.source_holder = QVBoxLayout()
        layout.addLayout(self.source_holder, 1)
        self.mask_row = QHBoxLayout()
        layout.addLayout(self.mask_row)
        run_row = QHBoxLayout()
        self.k = QSpinBox(minimum=1, maximum=8, value=4)
        self.k.setToolTip(f"How many {'proposals' if mode == 'hallucinate' else 'completions'}, each fitted from "
                          "a different start")
        self.steps = QSpinBox(minimum=10, maximum=2000, value=200, singleStep=50)
        self.seed = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.starts = QComboBox()
        self.starts.addItem("closest decodes", "closest")
        self.starts.addItem("near a first fit", "nearest")
        self.starts.addItem("random", "random")
        self.starts.setToolTip("Where the K fits start: the training latents whose decodes are closest to what is "
                               "given (the closest first), those nearest to a first fit of it, or random training "
                               "latents (GEM; more varied, often worse)")
        self.run_button = QPushButton("Hallucinate" if mode == "hallucinate" else "Complete")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Close this window; a fit still running stops (Esc)")
        self.close_button.clicked.connect(self.reject)
        self.progress = QProgressBar()
        for w in (QLabel("K"), self.k, QLabel("Fit steps"), self.steps, QLabel("Starts"), self.starts,
                  QLabel("Seed"), self.seed):
            run_row.addWidget(w)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.close_button)
        layout.addLayout(run_row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.cards_row = QHBoxLayout()
        holder = QWidget()
        holder.setLayout(self.cards_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        scroll.setMinimumHeight(CARD_SIZE + 110)
        layout.addWidget(scroll)
        self.resize(760, 720)
        self.use_playhead()

    # --- the source ---------------------------------------------------------------------------------
    @property
    def part(self):
        """The part that is observed."""
        return self.given.currentData() if self.mode == "hallucinate" else self.observed.part if self.observed \
            else next(iter(self.parts))

    @property
    def shown_part(self):
        """The part the results show: the hidden modality when hallucinating, else the completed one."""
        if self.mode == "hallucinate":
            return next(k for k in self.parts if k != self.part)
        return self.part

    def use_playhead(self) -> None:
        from explorer.core.embed import observed_from_latent

        z = self.window.ws.playhead_latent()
        if z is None:
            self.status.setText("select a point, or open a file")
            return
        ws = self.window.ws
        name = f"{ws.current} t={ws.playhead:.2f}" if ws.paths else ws.item_name(ws.selected)
        part = self.given.currentData() if self.mode == "hallucinate" else next(iter(self.parts))
        self._set_source(observed_from_latent(self.pipeline, z, part), name, z)

    def choose_file(self) -> None:
        start = self.window.settings.text("last_folder", str(Path.home()))
        from explorer.core.embed import signal_file_filter

        path, _ = QFileDialog.getOpenFileName(self, "Signal to complete", start, signal_file_filter())
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> bool:
        from explorer.core.embed import read_signal

        try:
            observed = read_signal(self.pipeline, path)
        except ExplorerError as e:
            self.status.setText(str(e))
            return False
        if self.mode == "hallucinate":
            self.given.blockSignals(True)
            self.given.setCurrentIndex(self.given.findData(observed.part))
            self.given.blockSignals(False)
        self._set_source(observed, Path(path).name)
        return True

    def _set_source(self, observed, name: str, z=None) -> None:
        self.observed, self.source_name = observed, name
        self.source_label.setText(f"Source: <b>{name}</b>")
        for lay in (self.source_holder, self.mask_row):
            _clear(lay)
        plug = self.pipeline.parts[observed.part]
        res = tuple(self.pipeline.resolution(observed.part))
        self.painter = self.region = None
        if plug.mask_kind == "pixels":
            self.painter = MaskPainter(plug.to_signal(observed.values, res)[0])
            self.source_holder.addWidget(self.painter, 1)
            if self.mode == "complete":
                self._image_mask_controls()
        elif plug.mask_kind == "time range":
            wave = self._wave(observed, res)
            plot = pg.PlotWidget(background="w")
            plot.setMouseEnabled(x=False, y=False)
            plot.setLabel("bottom", "time", units="s")
            rate = self.pipeline.parts[observed.part].sample_rate
            plot.plot(np.arange(len(wave)) / rate, wave, pen=pg.mkPen("#0072B2"))
            self.seconds = len(wave) / rate
            self.source_holder.addWidget(plot, 1)
            if self.mode == "complete":
                self.region = pg.LinearRegionItem((self.seconds / 2, self.seconds), bounds=(0, self.seconds),
                                                  brush=pg.mkBrush(213, 94, 0, 60))
                plot.addItem(self.region)
                self.mask_row.addWidget(QLabel("Drag the shaded time range: that part is hidden"))
        else:
            from explorer.modalities.sdf import grid_coords

            if z is not None:  # the decoded shape, finer than the grid it is fitted on
                self.shape_sdf = self.pipeline.sdf_grid(z, 64, part=observed.part)
            else:
                self.shape_sdf = observed.exact(grid_coords(48).numpy()).reshape((48,) * 3)
            self.shape_picture = QLabel()
            self.shape_picture.setToolTip("What the fits see: the shape without its hidden half-space")
            self.source_holder.addWidget(self.shape_picture, 1)
            self.axis, self.side_, self.cut = QComboBox(), QComboBox(), QDoubleSpinBox()
            self.axis.addItems(["x", "y", "z"])
            self.side_.addItems([">", "<"])
            self.cut.setRange(-1.0, 1.0)
            self.cut.setSingleStep(0.1)
            for w in (QLabel("Hide the half-space"), self.axis, self.side_, self.cut):
                self.mask_row.addWidget(w)
            self.axis.currentIndexChanged.connect(self._show_visible_shape)
            self.side_.currentIndexChanged.connect(self._show_visible_shape)
            self.cut.valueChanged.connect(self._show_visible_shape)
            self._show_visible_shape()
        self.mask_row.addStretch(1)

    def _half_space(self) -> str:
        return f"{self.axis.currentText()}{self.side_.currentText()}{self.cut.value()}"

    def _show_visible_shape(self, *_) -> None:
        """The source shape with the hidden half-space cut away (rendered without OpenGL)."""
        from explorer.modalities.masks import half_space_mask
        from explorer.modalities.render import shade_sdf
        from explorer.modalities.sdf import grid_coords

        r = self.shape_sdf.shape[0]
        hidden = half_space_mask(self._half_space(), grid_coords(r).numpy()).reshape((r,) * 3)
        visible = np.where(hidden, np.maximum(self.shape_sdf, 0.05), self.shape_sdf)
        self.shape_picture.setPixmap(QPixmap.fromImage(_qimage(shade_sdf(visible, 220))))

    def _wave(self, observed, res) -> np.ndarray:
        if observed.signals is not None:
            return np.asarray(observed.signals[0], np.float32).reshape(-1)
        return np.asarray(self.pipeline.parts[observed.part].to_signal(observed.values, res)[0], np.float32)

    def _image_mask_controls(self) -> None:
        from explorer.modalities.masks import PRESET_MASKS

        self.preset = QComboBox()
        self.preset.addItem("paint with the mouse")
        self.preset.addItems(PRESET_MASKS)
        self.preset.activated.connect(self._apply_preset)
        clear = QPushButton("Clear")
        clear.clicked.connect(lambda: self.painter.set_mask(np.zeros_like(self.painter.mask)))
        for w in (QLabel("Hidden part"), self.preset, clear,
                  QLabel("(drag on the picture to hide, right-drag to show)")):
            self.mask_row.addWidget(w)

    def _apply_preset(self, index: int) -> None:
        from explorer.modalities.masks import preset_image_mask

        if index > 0:
            self.painter.set_mask(preset_image_mask(self.preset.currentText(), *self.painter.mask.shape))

    def set_time_range(self, start: float, end: float) -> None:
        self.region.setRegion((start, end))

    def hidden(self) -> np.ndarray:
        """True where the observed signal is hidden, in the order of its coordinates: the painted mask of a
        picture, else what the plug makes of the shaded time range or the chosen half-space."""
        if self.painter is not None:
            return self.painter.mask.reshape(-1)
        part, coords = self.observed.part, self.observed.coords
        spec = "{}:{}".format(*self.region.getRegion()) if self.region is not None else self._half_space()
        return self.pipeline.parts[part].hidden_mask(spec, tuple(self.pipeline.resolution(part)),
                                                     coords.numpy().reshape(-1, coords.shape[-1]))

    # --- running ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.observed is None:
            self.status.setText("nothing to complete: select a point or open a file")
            return
        from explorer.core.complete import complete_steps
        from explorer.core.hallucinate import hallucinate_steps

        k, steps, seed, starts = self.k.value(), self.steps.value(), self.seed.value(), self.starts.currentData()
        try:
            if self.mode == "hallucinate":
                fit = hallucinate_steps(self.pipeline, self.part, self.observed.values, k, steps, seed, starts)
            else:
                fit = complete_steps(self.pipeline, self.observed.values, self.observed.coords, self.hidden(), k,
                                     steps, part=self.part, seed=seed, starts=starts)
        except ExplorerError as e:
            self.status.setText(str(e))
            return
        self.progress.setMaximum(steps)
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        n = len(self.pipeline.ckpt.latents)
        self.status.setText(f"comparing with the {n} training items, then fitting {k} latents from the closest…"
                            if starts == "closest" else f"fitting {k} latents from different starts…")
        self.runner.start(_fit_job, self.pipeline, fit, self.shown_part)

    def cancel(self) -> None:
        self.runner.cancel()
        self.progress.reset()  # not left at a part of a fit that no longer runs
        self._idle("cancelled")

    def _idle(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status.setText(message)

    def _on_failed(self, message: str) -> None:
        self._idle(f"failed: {message}")

    def _on_progress(self, value) -> None:
        if not isinstance(value, list):
            self.progress.setValue(value.step)
            return
        self._idle(f"{len(value)} {'proposals' if self.mode == 'hallucinate' else 'completions'} of "
                   f"{self.source_name}: Show previews one, Add to map keeps it")
        self._show_results(value)
        self.completed.emit(value)

    def _show_results(self, results: list[dict]) -> None:
        _clear(self.cards_row)  # the cards of the last run, and the stretch after them
        self.results, self.cards = results, []
        word = "proposal" if self.mode == "hallucinate" else "completion"
        sound = "sound" in self.pipeline.parts[self.shown_part].produces
        for j, r in enumerate(results):
            card = ResultCard(f"{word} {j + 1}", r["png"], sound)
            card.play.clicked.connect(lambda _=False, j=j: self.play(j))
            card.show_button.clicked.connect(lambda _=False, j=j: self.window.preview_latent(self.results[j]["latent"]))
            card.add.clicked.connect(lambda _=False, j=j: self.add_to_map(j))
            self.cards_row.addWidget(card)
            self.cards.append(card)
        self.cards_row.addStretch(1)

    def play(self, j: int) -> None:
        rate = self.pipeline.parts[self.shown_part].sample_rate
        reason = self.window.sound.audio_out.play(self.results[j]["wave"], rate, 0.8)
        if reason:
            self.status.setText(reason)

    def add_to_map(self, j: int) -> int:
        word = "proposal" if self.mode == "hallucinate" else "completion"
        i = self.window.ws.add_extra(f"{self.source_name} {word} {j + 1}", self.results[j]["latent"], word)
        self.cards[j].add.setEnabled(False)
        self.cards[j].add.setText("On the map")
        return i

    def closeEvent(self, ev) -> None:
        self.runner.cancel()
        super().closeEvent(ev)

    def reject(self) -> None:  # Escape: the fit stops too
        self.runner.cancel()
        super().reject()
