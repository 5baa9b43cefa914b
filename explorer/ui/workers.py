"""Running the core's generators off the GUI thread.

``TaskRunner.start(fn, *args)`` runs a generator function in a worker thread; every value it
yields reaches ``progress`` on the GUI thread, the last one reaches ``finished``; an exception
becomes a one-line ``failed`` message. ``cancel()`` stops it between two yields. Starting a new
task on a runner cancels the one before (the latest request wins) and results of a cancelled
task never arrive.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from explorer.errors import ExplorerError


class _Job(QObject):
    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, serial: int, fn: Callable, args: tuple, cancelled: threading.Event) -> None:
        super().__init__()
        self.serial, self.fn, self.args, self.cancelled = serial, fn, args, cancelled

    def run(self) -> None:
        last = None
        try:
            result = self.fn(*self.args)
            if hasattr(result, "__next__"):
                for value in result:
                    if self.cancelled.is_set():
                        result.close()
                        return
                    if value is not None:  # None: a heartbeat, only for the cancel check above
                        last = value
                        self.progress.emit(self.serial, value)
            else:
                last = result
        except ExplorerError as e:
            self.failed.emit(self.serial, str(e))
            return
        except Exception as e:  # a bug: still one line in the window, the app stays open
            self.failed.emit(self.serial, f"internal error: {e.__class__.__name__}: {e}")
            return
        if not self.cancelled.is_set():
            self.finished.emit(self.serial, last)


class TaskRunner(QObject):
    """One task at a time; a new ``start`` supersedes the running one. A generator may yield ``None``
    while it waits, so that a cancel is heard without a value being sent."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._serial = 0
        self._cancel = threading.Event()
        self._threads: list[QThread] = []

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t in self._threads)

    def start(self, fn: Callable, *args) -> None:
        self.cancel()
        self._serial += 1
        self._cancel = threading.Event()
        thread = QThread(self)
        job = _Job(self._serial, fn, args, self._cancel)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        for sig in (job.finished, job.failed):
            sig.connect(thread.quit)
        thread.finished.connect(lambda t=thread: self._forget(t))
        thread.finished.connect(job.deleteLater)
        thread._job = job  # keep it alive with its thread
        self._threads.append(thread)
        thread.start()

    def cancel(self) -> None:
        self._cancel.set()
        for t in self._threads:
            t.quit()

    def wait(self, ms: int = 10_000) -> None:
        for t in list(self._threads):
            t.wait(ms)

    def _forget(self, thread: QThread) -> None:
        if thread in self._threads:
            self._threads.remove(thread)
        thread.deleteLater()

    def _on_progress(self, serial: int, value) -> None:
        if serial == self._serial and not self._cancel.is_set():
            self.progress.emit(value)

    def _on_finished(self, serial: int, value) -> None:
        if serial == self._serial and not self._cancel.is_set():
            self.finished.emit(value)

    def _on_failed(self, serial: int, message: str) -> None:
        if serial == self._serial:
            self.failed.emit(message)
