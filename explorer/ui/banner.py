"""A banner above the map for errors that stopped what the user asked for: the whole message, word
wrapped and selectable (the status bar cut long ones off behind the legend), until it is closed (×,
Escape) or the next error replaces it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton


class Banner(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setToolTip("Close this message (Esc)")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    STYLES = {"error": ("#fdecea", "#d9534f", "#611a15"), "note": ("#e8f1fb", "#5b8fd1", "#15385f")}
    """Background, border and text colours: an error in red, a note (what the user should know) in blue."""

    def show_message(self, message: str, kind: str = "error") -> None:
        back, border, text = self.STYLES[kind]
        self.setStyleSheet(f"#errorBanner {{ background: {back}; border: 1px solid {border}; border-radius: 3px; }}"
                           f"#errorBanner QLabel {{ color: {text}; }}")
        self.text.setText(message)
        self.show()
