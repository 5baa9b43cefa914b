"""The status bar's running jobs: one progress bar and Cancel (and Pause where the job can hold) per job,
so that a t-SNE and an embedding running together are each seen and each stopped on their own."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QSizePolicy, QWidget

NATURAL = (QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
"""A job takes the room it needs and no more: the rest of the status bar is the messages'."""

TEXT_WIDTH = 360
"""The widest a job's progress text is shown, in pixels; a longer one (a long file name) is shortened in its
middle, and shown whole in the bar's tooltip."""


class Task(QWidget):
    def __init__(self, what: str, on_cancel: Callable[[], None], on_pause: Callable[[], None] | None = None,
                 pause_tip: str = "") -> None:
        super().__init__()
        self.what = what
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self._set_format(f"{what} %p%")
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.pause_button = None
        if on_pause is not None:
            self.pause_button = QPushButton("Pause")
            self.pause_button.setToolTip(pause_tip)
            self.pause_button.clicked.connect(on_pause)
            layout.addWidget(self.pause_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(f"Stop the {what}")
        self.cancel_button.clicked.connect(on_cancel)
        layout.addWidget(self.cancel_button)
        for w in (self, self.cancel_button, *([self.pause_button] if self.pause_button else [])):
            w.setSizePolicy(*NATURAL)

    def set_progress(self, done: int, total: int, text: str | None = None) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)
        if text is not None:
            self._set_format(text)

    def _set_format(self, text: str) -> None:
        """The bar as wide as its text (up to ``TEXT_WIDTH``): "embedding myred.png 0%" no longer wraps in a
        bar of a fixed 160 pixels."""
        fm = self.progress.fontMetrics()
        width = lambda t: fm.horizontalAdvance(t.replace("%p", "100"))  # noqa: E731 -- the widest it gets
        shown = text
        if width(text) > TEXT_WIDTH:
            head, sep, tail = text.rpartition(" %p%")
            if not sep:
                head, tail = text, ""
            shown = fm.elidedText(head, Qt.TextElideMode.ElideMiddle, TEXT_WIDTH - width(sep + tail)) + sep + tail
        self.progress.setFormat(shown)
        self.progress.setToolTip(text.replace("%p%", "").strip())
        self.progress.setFixedWidth(width(shown) + 3 * fm.averageCharWidth())


class TaskBar(QWidget):
    """``start(key, ...)`` shows a job (replacing one of the same key), ``finish(key)`` takes it away."""

    def __init__(self) -> None:
        super().__init__()
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(*NATURAL)
        # as tall empty as with a job in it: the status bar, and the whole window above it, no longer jump
        self.setMinimumHeight(Task("", lambda: None).sizeHint().height())
        self.tasks: dict[str, Task] = {}

    def start(self, key: str, what: str, on_cancel: Callable[[], None], on_pause: Callable[[], None] | None = None,
              pause_tip: str = "") -> Task:
        self.finish(key)
        task = Task(what, on_cancel, on_pause, pause_tip)
        self.tasks[key] = task
        self._layout.addWidget(task)
        task.show()  # now, not at the next turn of the event loop (where a layout would show it)
        return task

    def get(self, key: str) -> Task | None:
        return self.tasks.get(key)

    def finish(self, key: str) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            task.hide()
            self._layout.removeWidget(task)
            task.deleteLater()
