"""File ▸ Export: the current path or walk to GIF, MP4, PNG, WAV, meshes or a JSON bundle, with progress and Cancel."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from explorer.core.export import ExportOptions, export_steps, formats_for
from explorer.ui.workers import TaskRunner


def _export_job(pipeline, plan, out, options):
    """``plan()`` gives the frames' latents and the bundle (or None): remaking a path at another frame count
    or for a bundle takes a while on a large map, so it is part of the job, not of the click."""
    latents, bundle = plan()
    yield from export_steps(pipeline, latents, out, options, bundle, force=True)


def _plan(pipeline, k: int, graph, entry, ends, names: dict, method: str, frames: int, bundle: bool):
    """The export's latents (and bundle) for path ``entry`` (its ends ``ends``: items or latents): the path as
    drawn, or made again at ``frames`` frames; a bundle carries the path's parameters to make it again
    exactly, and the path's quality. Reads nothing of the session, which may change while it runs."""
    ckpt = pipeline.ckpt
    latents = entry.path.latents
    z = ckpt.latents.numpy()
    if method != "walk" and frames != len(latents):
        from explorer.core.graph import knn_graph
        from explorer.core.paths import make_path

        if method == "geodesic" and graph is None:
            graph = knn_graph(z, k)
        latents = make_path(method, z, *ends, frames, graph if method == "geodesic" else None).latents
    if not bundle:
        return latents, None
    from explorer.core.bundle import build_path, path_bundle

    if method == "walk":
        path, params = build_path(ckpt, "walk", entry.a, steps=len(latents) - 1, seed=getattr(entry, "seed", 0),
                                  k=min(10, len(z) - 1))
    else:
        path, params = build_path(ckpt, method, *ends, frames, k)
    return path.latents, path_bundle(pipeline, path, params, names=names)


class ExportDialog(QDialog):
    exported = Signal(str)
    failed = Signal(str)

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.setWindowTitle("Export path")
        self.settings = window.settings
        ws = window.ws
        modality = ws.ckpt.modality["name"]
        makes = {what for plug in ws.pipeline.parts.values() for what in plug.produces}
        self.formats = formats_for(makes)
        """The extensions this checkpoint can be exported to (a sound checkpoint: .wav and .json)."""
        default_ext = (".mp4" if "sound" in makes else ".gif") if "pictures" in makes else ".wav"
        folder = Path(self.settings.text("export/folder", str(Path.home())))
        stem = Path(ws.ckpt.path).stem if ws.ckpt.path else "path"
        self.modality = modality
        ext = self.settings.text(f"export/ext/{modality}", default_ext)  # a sound's format is not a picture's
        self.file = QLineEdit(str(folder / f"{stem}-{ws.current}{ext}"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.frames = QSpinBox()
        self.frames.setRange(2, 2000)
        self.frames.setValue(self.settings.integer("export/frames", 32, 2, 2000))
        self.frames.setEnabled(ws.current != "walk")
        self.resolution = QSpinBox()
        self.resolution.setRange(0, 1024)
        self.resolution.setSpecialValueText("auto (256 px or more)")
        self.resolution.setValue(self.settings.integer("export/resolution", 0, 0, 1024))
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(self.settings.number("export/fps", 12.0, 1, 60))
        self.crossfade = QDoubleSpinBox()
        self.crossfade.setRange(0, 500)
        self.crossfade.setSuffix(" ms")
        self.crossfade.setValue(self.settings.number("export/crossfade", 50.0, 0, 500))
        self.morph = QCheckBox("one continuous sound along the path (.wav)")
        self.pingpong = QCheckBox("forwards, then backwards (.gif, .mp4)")
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        form.addRow("File (" + " ".join(self.formats) + ")", row)
        form.addRow("Frames", self.frames)
        form.addRow("Resolution", self.resolution)
        form.addRow("Frame rate", self.fps)
        form.addRow("Crossfade", self.crossfade)
        form.addRow("", self.morph)
        form.addRow("", self.pingpong)
        sound, pictures = "sound" in makes, "pictures" in makes
        for widget, on in ((self.crossfade, sound), (self.morph, sound), (self.resolution, pictures),
                           (self.pingpong, pictures)):
            widget.setEnabled(on)
            if not on:
                widget.setToolTip(f"not for a {modality} checkpoint")
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.failed.connect(self._on_failed)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.confirm_overwrite = self._ask_overwrite

    def _browse(self) -> None:
        kinds = {".gif": "GIF", ".mp4": "MP4", ".png": "PNG strip", ".wav": "WAV", ".zip": "Meshes", ".json": "Path bundle"}
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.file.text(),
                                              ";;".join(f"{kinds[f]} (*{f})" for f in self.formats))
        if path:
            self.file.setText(path)

    def _ask_overwrite(self, path: Path) -> bool:
        return QMessageBox.question(self, "Overwrite?", f"{path.name} exists. Replace it?") == QMessageBox.StandardButton.Yes

    def options(self) -> ExportOptions:
        return ExportOptions(resolution=self.resolution.value() or None, fps=self.fps.value(),
                             pingpong=self.pingpong.isChecked(), crossfade_ms=self.crossfade.value(),
                             morph=self.morph.isChecked())

    def start(self) -> None:
        out = Path(self.file.text()).expanduser()
        if out.suffix.lower() not in self.formats:
            self._on_failed(f"{out.name}: the extension picks the format; for this {self.modality} checkpoint "
                            f"use one of {', '.join(self.formats)}")
            return
        if out.exists() and not self.confirm_overwrite(out):
            return
        ws = self.window.ws
        entry, method, frames = ws.paths[ws.current], ws.current, self.frames.value()
        n = len(entry.path.latents) if method == "walk" else frames
        for key, value in (("folder", str(out.parent)), (f"ext/{self.modality}", out.suffix), ("frames", self.frames.value()),
                           ("resolution", self.resolution.value()), ("fps", self.fps.value()),
                           ("crossfade", self.crossfade.value())):
            self.settings.setValue(f"export/{key}", value)
        self.progress.setMaximum(n)
        self.progress.setValue(0)
        self.status.setText(f"exporting {n} frames…")
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        ends = (ws.end(entry.a), ws.end(entry.b))
        names = {k: ws.item_name(i) for k, i in (("from", entry.a), ("to", entry.b)) if i >= ws.n_items}
        plan = (ws.pipeline, ws.k, ws.graph, entry, ends, names, method, frames, out.suffix.lower() == ".json")
        self.runner.start(_export_job, ws.pipeline, lambda: _plan(*plan), out, self.options())

    def _on_progress(self, p) -> None:
        self.progress.setValue(p.done)
        if p.path is not None:
            self.status.setText(f"wrote {p.path}")
            self._done()
            self.exported.emit(str(p.path))

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.progress.reset()  # not left at 100 % of the export before, or at a part of this one
        self._done()
        self.failed.emit(message)

    def _done(self) -> None:
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def _cancel_or_close(self) -> None:
        if self.runner.busy and self.cancel_button.text() == "Cancel":
            self.runner.cancel()
            self.runner.wait(30_000)
            self.status.setText("cancelled: nothing was written")
            self.progress.reset()
            self._done()
            return
        self.close()
