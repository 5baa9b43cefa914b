"""The right of the window: a preview of each part of the signal at the playhead (a picture, a sound, a
mesh), decoded in a worker coarse then fine, and the path's quality below it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from explorer.ui.previews import PREVIEWS, AudioPreview, MeshPreview
from explorer.ui.workers import TaskRunner


def _decode_job(pipeline, z, requests):
    """Coarse then fine signal of one latent for every ``(part, resolution)`` asked for; yields ``(part, level, signal)``."""
    for part, resolution in requests:
        if pipeline.parts[part].is_sdf:  # SDF grids: the panel meshes them at its iso level
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


QUALITY_HELP = ("Lengths and distances are in neighbour spacings: the median distance between a "
                "training latent and its nearest other one. Off the manifold: how far each frame lies "
                "from the flat patch through its 10 nearest training latents (GEM's locally linear "
                "regions); below 1 the frame lies among the data, well above 1 it is decoded from "
                "where nothing was trained.")


class PreviewPanel(QWidget):
    ready = Signal()
    """Every part shows a freshly decoded fine signal."""
    failed = Signal(str)
    """A decode failed (the message)."""
    sound_requested = Signal()
    """The user asked to hear the decoded sound (a Play button), or a sound decoded under the mouse
    with "play on hover" on."""

    def __init__(self, session, parent=None) -> None:
        super().__init__(parent)
        self.ws = session
        self.holder = QWidget()
        QVBoxLayout(self.holder).setContentsMargins(0, 0, 0, 0)
        self.previews: dict = {}
        self.mesh_preview, self.mesh_error = self._make_mesh_preview()
        self.quality = QLabel("")
        self.quality.setWordWrap(True)
        self.quality.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.holder, 1)
        # a fixed height, scrolled when longer: the preview above keeps its size whatever the text
        self.quality_area = QScrollArea()
        self.quality_area.setWidget(self.quality)
        self.quality_area.setWidgetResizable(True)
        self.quality_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.quality_area.setFixedHeight(8 * self.quality.fontMetrics().lineSpacing())
        self.quality.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.quality_area)
        self.decoder = TaskRunner(self)
        self.decoder.progress.connect(self._on_decoded)
        self.decoder.failed.connect(self.failed)
        self.what = ""
        """How the caption names what is shown (the path and t, the selected item, ...)."""
        self.play_when_decoded = False
        """Play the sound once decoded (a hover with "play on hover" on)."""
        self._pending: set = set()
        self._pictures: list[tuple[dict, bytes, bytes]] = []
        """Each embedded point's file and reconstruction, as pictures, for this session (not saved)."""

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
        self.holder.layout().addWidget(w, 1)
        w.hide()
        return w, ""

    @property
    def preview(self):
        """The first preview (the only one unless the checkpoint is audio-visual)."""
        return next(iter(self.previews.values()), None)

    @property
    def audio(self) -> AudioPreview | None:
        return next((w for w in self.previews.values() if isinstance(w, AudioPreview)), None)

    @property
    def sound_part(self):
        """The part whose sound plays along a path ("none" when the checkpoint makes no sound)."""
        return next((key for key, w in self.previews.items() if isinstance(w, AudioPreview)), "none")

    def install(self) -> str:
        """One preview per part of the open checkpoint (``PREVIEWS``); returns why a part cannot be shown ("" if all can)."""
        layout = self.holder.layout()
        self.decoder.cancel()
        for w in self.previews.values():
            if w is self.mesh_preview:
                w.hide()
                continue
            layout.removeWidget(w)
            w.deleteLater()
        self.previews = {}
        mod = self.ws.ckpt.modality
        missing = ""
        for key, info in (mod.get("parts") or {None: mod}).items():
            w = PREVIEWS[info["name"]](self, info)
            if w is None and not self.ws.pipeline.makes_signals:  # plain latents: nothing to show, no error
                continue
            if w is None:  # a shape, without OpenGL
                self.quality.setText(self.mesh_error)
                missing = self.mesh_error
                continue
            self.previews[key] = w
            if w is self.mesh_preview:
                w.show()
            else:
                layout.addWidget(w, 1)
        return missing

    def request(self, z=None, what: str | None = None) -> None:
        """Decode ``z`` (default: the playhead, else the selection) in the background; ``what``: how its
        caption names it (default: the path and t, or the selected item)."""
        ws = self.ws
        if z is None:
            z = ws.playhead_latent()
            what = None
        if what is None:
            what = f"path {ws.current}, t = {ws.playhead:.2f}" if ws.paths else \
                (ws.item_name(ws.selected) if ws.selected >= 0 else "")
        self.what = what
        if z is None or not self.previews:
            return
        requests = [(key, w.decode_resolution()) for key, w in self.previews.items()]
        self._pending = set(self.previews)
        self.decoder.start(_decode_job, ws.pipeline, np.asarray(z, np.float32)[None], requests)

    def _on_decoded(self, value) -> None:
        part, level, signal = value
        w = self.previews.get(part)
        if w is None:
            return
        w.show_signal(signal, f"{self.what} ({level})")
        if level != "fine":
            return
        self._pending.discard(part)
        if isinstance(w, AudioPreview) and w.on_hover.isChecked() and self.play_when_decoded:
            self.sound_requested.emit()
        if not self._pending:
            self.play_when_decoded = False
            self.ready.emit()

    def show_quality(self) -> None:
        """The current paths in words: ends, length, items passed, distance off the manifold."""
        ws = self.ws
        j = ws.selected - ws.n_items
        if not ws.paths and 0 <= j < len(ws.extra) and ws.extra[j]["kind"] == "embedded":
            self.show_embedded(ws.extra[j])  # what it was fitted to, whenever it is selected
            return
        if not ws.paths:
            self.quality.setText("Drag from one point to another to see what lies between them.")
            self.quality.setToolTip("")
            return
        unit = ws.spacing
        lines = []
        for m, e in ws.paths.items():
            off = e.off / unit
            where = f"off the manifold {off.mean():.2f} (worst {off.max():.2f}) neighbour spacings"
            if m == "walk":
                lines.append(f"<b>LLE walk</b> from {ws.item_name(e.a)}: {len(e.path.latents) - 1} steps, "
                             f"length {e.path.length / unit:.1f} neighbour spacings, {where}")
                continue
            between = len(set(e.path.nodes) - {e.a, e.b})
            lines.append(f"<b>{m}</b>: {ws.item_name(e.a)} → {ws.item_name(e.b)}, "
                         f"length {e.path.length / unit:.1f} neighbour spacings, "
                         f"{between} item{'' if between == 1 else 's'} between, {where}"
                         + (f"<br><i>{e.path.note}</i>" if e.path.note else ""))
        self.quality.setText("<br>".join(lines))
        self.quality.setToolTip(QUALITY_HELP)

    def show_embedded(self, entry: dict, original: bytes | None = None, recon: bytes | None = None) -> None:
        """What an embedding found, below the preview: its metrics and notes, the file beside its
        reconstruction (pictures kept for this session: given once, shown again whenever the point is
        selected), and the nearest training items (with their first telling label). ``entry``: the extra
        point (``Session.extra``: name, metrics, notes, neighbours)."""
        from explorer.modalities.image import NEGATIVE_NOTE
        from explorer.ui.thumbnails import img_tag

        if original is not None and recon is not None:
            self._pictures = [(e, o, r) for e, o, r in self._pictures if e is not entry] + [(entry, original, recon)]
        shown = next(((o, r) for e, o, r in self._pictures if e is entry), None)
        notes = entry.get("notes") or []
        labels = self.ws.ckpt.labels
        first = next((k for k in labels if k != "folder"), None)
        negative = " (negative)" if any(NEGATIVE_NOTE in n for n in notes) else ""
        pictures = "" if shown is None else "<table><tr>" + "".join(
            f"<td align=center>{img_tag(png)}<br>{what}</td>"
            for png, what in ((shown[0], "the file" + negative), (shown[1], "its reconstruction"))) + "</tr></table>"
        neighbours = [(j, n) for j, n, *_ in entry.get("neighbours") or []
                      if isinstance(j, int) and 0 <= j < len(self.ws.ckpt.names)]
        self.quality.setText(f"<b>{entry['name']}</b> embedded: "
                             + ", ".join(f"{k} {v:.3g}" for k, v in (entry.get("metrics") or {}).items()
                                         if isinstance(v, float))
                             + "".join(f"<br><i>{note}</i>" for note in notes)
                             + (pictures or "<br>")
                             + ("nearest training items: " + ", ".join(
                                 f"{n}" + (f" ({labels[first][j]})" if first else "") for j, n in neighbours)
                                if neighbours else ""))
        self.quality.setToolTip("")
