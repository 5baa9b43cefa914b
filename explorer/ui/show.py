"""``explorer.show``: the app's window on a checkpoint made in memory from a person's own arrays and decoder."""
from __future__ import annotations

import sys


def show_checkpoint(ckpt, block: bool | None = None):
    """Open a window on ``ckpt``. Blocks until the window closes, unless a Qt event loop already runs (a
    notebook after ``%gui qt``, or another Qt program): then the window is returned at once and lives on
    that loop. ``block`` forces either."""
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtWidgets import QApplication

    from explorer.ui.error_report import ErrorReport
    from explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1] or ["latent-explorer"])
    if not app.applicationName():
        app.setApplicationName("latent-explorer")
    if block is None:
        block = not _loop_running(app)
    window = MainWindow()
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    report = ErrorReport(window)
    report.message.connect(window._show_error)
    report.install()
    window.show()
    window.open_model(ckpt)
    if not block:
        return window
    loop = QEventLoop()
    window.destroyed.connect(loop.quit)
    loop.exec()
    return None


def _loop_running(app) -> bool:
    """Whether something already drives Qt's events: IPython's Qt input hook, or a running event loop."""
    shell = sys.modules.get("IPython")
    if shell is not None:
        ip = shell.get_ipython() if hasattr(shell, "get_ipython") else None
        if ip is not None and getattr(ip, "active_eventloop", None) in ("qt", "qt5", "qt6"):
            return True
    from PySide6.QtCore import QThread

    return QThread.currentThread().loopLevel() > 0  # called from inside a running exec()
