"""What hovering a point on the map shows: a tooltip with its name and labels, then a small picture of it
decoded in a worker; with "Preview under the mouse" (H) or "play on hover", the preview too."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolTip

from explorer.ui.previews import AudioPreview
from explorer.ui.workers import TaskRunner


def _thumbnail_job(pipeline, z, part):
    """A small picture of one decoded signal for the hover tooltip (PNG bytes)."""
    from explorer.ui.thumbnails import thumbnail_png

    return thumbnail_png(pipeline, z, part)


class HoverTips(QObject):
    shown = Signal(str)
    """A tooltip was shown (its rich text)."""

    def __init__(self, session, map_view, panel, preview_action, parent=None) -> None:
        super().__init__(parent)
        self.ws, self.map, self.panel, self.preview_action = session, map_view, panel, preview_action
        self.thumbs = TaskRunner(self)
        self.thumbs.finished.connect(self._on_thumbnail)
        self.index = -1
        self.text = ""
        map_view.point_hovered.connect(self.hover)

    def hover(self, index: int) -> None:
        ws = self.ws
        if index < 0 or ws.ckpt is None:
            self.index = -1
            self.thumbs.cancel()
            QToolTip.hideText()
            return
        text = f"<b>{ws.item_name(index)}</b>"
        if index < ws.n_items:
            labels = {k: v[index] for k, v in ws.ckpt.labels.items()}
        else:
            extra = ws.extra[index - ws.n_items]
            labels = {"": extra["kind"]} | {k: f"{v:.3g}" for k, v in extra.get("metrics", {}).items()
                                             if isinstance(v, float)}
        if labels:
            text += "<br>" + ", ".join(f"{k}: {v}" if k else v for k, v in list(labels.items())[:4])
        self.text, self.index = text, index
        if ws.pipeline.makes_signals:  # plain latents: no picture to make
            self.thumbs.start(_thumbnail_job, ws.pipeline, ws.item_latent(index), self._thumb_part())
        play_on_hover = any(isinstance(w, AudioPreview) and w.on_hover.isChecked() for w in self.panel.previews.values())
        if self.preview_action.isChecked() or (play_on_hover and not ws.paths):
            self.panel.play_when_decoded = play_on_hover
            self.panel.request(ws.item_latent(index), f"under the mouse: {ws.item_name(index)}")
        self._show(text)

    def _thumb_part(self):
        """The part a thumbnail shows: the first that makes pictures (None: the only part)."""
        parts = self.ws.pipeline.parts
        if list(parts) == [None]:
            return None
        return next((k for k, p in parts.items() if "pictures" in p.produces), next(iter(parts)))

    def _show(self, text: str) -> None:
        QToolTip.showText(QCursor.pos(), text, self.map)
        self.shown.emit(text)

    def _on_thumbnail(self, png: bytes) -> None:
        if self.index < 0:
            return
        from explorer.ui.thumbnails import img_tag

        self.text += f"<br>{img_tag(png)}"
        self._show(self.text)
