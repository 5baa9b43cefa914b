"""Errors that escape a slot or a thread reach the user as one line in the window, not as a traceback.

Qt prints an exception raised in a slot and carries on; a thread's exception is printed and the thread
ends. ``ErrorReport.install`` routes both (``sys.excepthook``, ``threading.excepthook``) to the window's
banner: an ``ExplorerError`` as its message, anything else as "internal error" with the traceback
appended to a log file that the message names.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from explorer.errors import ExplorerError


def error_log() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "latent-explorer" / "errors.log"


class ErrorReport(QObject):
    message = Signal(str)
    """One line for the user; emitted from any thread, delivered on the GUI thread."""

    def install(self) -> None:
        sys.excepthook = self.report
        threading.excepthook = lambda args: self.report(args.exc_type, args.exc_value, args.exc_traceback)

    def report(self, etype, value, tb) -> None:
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        if issubclass(etype, ExplorerError):
            self.message.emit(str(value))
            return
        log = error_log()
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a") as f:
                f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{''.join(traceback.format_exception(etype, value, tb))}")
            where = f"the details are in {log}"
        except OSError:
            where = "the details could not be logged"
        first = (str(value).splitlines() or [""])[0]
        self.message.emit(f"internal error: {etype.__name__}: {first} (the app goes on; {where})")
