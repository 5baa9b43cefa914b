"""The legend above the map: each label of the colour-by key with its colour, as a link that isolates
its items (Shift+click: dims them). It wraps onto more lines when long; in the status bar it squeezed
every message there to a few words."""
from __future__ import annotations

from html import escape
from urllib.parse import quote, unquote

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from explorer.ui.palette import label_colours


class Legend(QLabel):
    def __init__(self, session, parent=None) -> None:
        super().__init__("", parent)
        self.ws = session
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.linkActivated.connect(self._on_link)

    def colours(self) -> np.ndarray | None:
        """The map's point colours by the session's colour-by label (None: none), the legend shown for them."""
        key = self.ws.colour_by
        labels = self.ws.ckpt.labels if self.ws.ckpt else {}
        if key not in labels:
            self.setText("")
            self.setVisible(False)
            return None
        rgb, legend = label_colours(labels[key])
        categories = {str(v) for v in labels[key]}

        def entry(t: str, c: str) -> str:  # one unbreakable piece: a wrapped line never parts a dot from its label
            dot = f"<span style='color:{c}'>●</span>"
            shown = escape(t).replace("-", "-\u2060")  # nor breaks "T-shirt/top" after its hyphen (a word joiner)
            if t not in categories:  # a number on a colour ramp, or "N more"
                return f"<span style='white-space:nowrap'>{dot} {shown}</span>"
            return (f"<span style='white-space:nowrap'>{dot} <a href='label:{quote(t)}' "
                    f"style='color:black; text-decoration:none'>{shown}</a></span>")

        self.setText(" ".join(entry(t, c) for t, c in legend))
        self.setVisible(True)
        self.setToolTip("Click a label to show only its items (again: all); Shift+click to dim it")
        return rgb

    def _on_link(self, link: str) -> None:
        value = unquote(link.removeprefix("label:"))
        if QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.ws.hide_label(self.ws.colour_by, value)
        else:
            self.ws.isolate_label(self.ws.colour_by, value)
