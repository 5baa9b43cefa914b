"""Running the core's generators off the GUI thread.

``TaskRunner.start(fn, *args)`` runs a generator function in a worker thread; every value it
yields reaches ``progress`` on the GUI thread, the last one reaches ``finished``; an exception
becomes a one-line ``failed`` message. ``cancel()`` stops it between two yields. Starting a new
task on a runner cancels the one before (the latest request wins) and results of a cancelled
task never arrive.

The workers are plain Python threads that only *emit* signals of an object living on the GUI
thread (queued delivery). Nothing Qt is created, moved or connected per task: an earlier version
made a ``QThread`` and a worker ``QObject`` per task and connected them while the previous task's
thread was winding down, and once in a few hundred runs the GUI thread (holding the GIL, inside
``connect``) and the ending thread (holding a Qt lock, waiting for the GIL) blocked each other
for good.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from explorer.errors import ExplorerError


class TaskRunner(QObject):
    """One task at a time; a new ``start`` supersedes the running one. A generator may yield ``None``
    while it waits, so that a cancel is heard without a value being sent."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    # emitted from the worker thread, received on this object's (the GUI) thread
    _progress = Signal(int, object)
    _finished = Signal(int, object)
    _failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._serial = 0
        self._cancel = threading.Event()
        self._threads: list[threading.Thread] = []
        self._progress.connect(self._on_progress)
        self._finished.connect(self._on_finished)
        self._failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        self._threads = [t for t in self._threads if t.is_alive()]
        return bool(self._threads)

    def start(self, fn: Callable, *args) -> None:
        self.cancel()
        self._serial += 1
        self._cancel = threading.Event()
        thread = threading.Thread(target=self._run, args=(self._serial, fn, args, self._cancel),
                                  name=f"task-{self._serial}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, ms: int = 10_000) -> None:
        for t in list(self._threads):
            t.join(ms / 1000)

    def _run(self, serial: int, fn: Callable, args: tuple, cancelled: threading.Event) -> None:
        last = None
        try:
            result = fn(*args)
            if hasattr(result, "__next__"):
                for value in result:
                    if cancelled.is_set():
                        result.close()
                        return
                    if value is not None:  # None: a heartbeat, only for the cancel check above
                        last = value
                        self._emit(self._progress, serial, value)
            else:
                last = result
        except ExplorerError as e:
            self._emit(self._failed, serial, str(e))
            return
        except Exception as e:  # a bug: still one line in the window, the app stays open
            self._emit(self._failed, serial, f"internal error: {e.__class__.__name__}: {e}")
            return
        if not cancelled.is_set():
            self._emit(self._finished, serial, last)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the runner's window was closed and deleted meanwhile: nobody to tell
            pass

    def _on_progress(self, serial: int, value) -> None:
        if serial == self._serial and not self._cancel.is_set():
            self.progress.emit(value)

    def _on_finished(self, serial: int, value) -> None:
        if serial == self._serial and not self._cancel.is_set():
            self.finished.emit(value)

    def _on_failed(self, serial: int, message: str) -> None:
        if serial == self._serial:
            self.failed.emit(message)


class TaskBarJob(QObject):
    """One kind of background job with an entry in the task bar (``task_bar``): its runner, Cancel, and a
    one-line message when it fails (``"<what> failed: ..."``) or is cancelled."""

    failed = Signal(str)
    status = Signal(str)

    def __init__(self, tasks, task: str, what: str, parent=None) -> None:
        super().__init__(parent)
        self.tasks, self.task, self.what = tasks, task, what
        self.runner = TaskRunner(self)
        self.runner.failed.connect(lambda m: (self.tasks.finish(self.task), self.failed.emit(f"{self.what} failed: {m}")))

    def cancel(self) -> None:
        self.runner.cancel()
        self.tasks.finish(self.task)
        self.status.emit(f"{self.what} cancelled")
