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
        from explorer.ui.app import brand

        brand(app)
    if block is None:
        block = not _loop_running(app)
    if not block:
        _keep_kernel_awake(app)
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


WAKE_MS = 100


def _keep_kernel_awake(app) -> None:
    """In an IPython kernel with ``%gui qt``, look for waiting requests every ``WAKE_MS`` and hand the kernel
    its turn. ipykernel (7.4) leaves the Qt loop only when a socket notifier on the shell stream's ZeroMQ
    descriptor fires; that descriptor is edge-triggered, and a request that lands while the kernel re-enters
    the loop can leave no edge: the kernel then sits in the Qt loop with the request unread, and every later
    cell hangs too (seen on a loaded machine, about one run in ten). It also re-enters the Qt loop 1 ms after
    leaving it, whether or not the request it left for has finished: a cell that awaits (``await
    asyncio.sleep(...)``, or a request whose handling was not done within that millisecond on a loaded machine)
    then waits for the next request, which never comes. Nothing is done outside such a kernel,
    or where its internals differ from those relied on here."""
    if app.property("latent_explorer_kernel_wake"):
        return
    ip = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    kernel = getattr(ip, "kernel", None)
    if kernel is None or not hasattr(getattr(kernel, "app", None), "qt_event_loop"):
        return
    try:
        from ipykernel.eventloops import get_shell_stream

        get_shell_stream(kernel)
    except Exception:  # another ipykernel: its own wake-up is all there is
        return
    from PySide6.QtCore import QTimer

    def wake() -> None:
        if not getattr(kernel.app, "_in_event_loop", False):
            return
        # a request was waiting (now queued for the kernel), or one already taken is stuck half-way: the kernel
        # entered the Qt loop while the cell awaited something on its asyncio loop
        if get_shell_stream(kernel).flush(limit=1) or _kernel_waits(kernel):
            notifier = getattr(kernel, "_qt_notifier", None)
            if notifier is not None:
                notifier.setEnabled(False)
            kernel.app.qt_event_loop.quit()

    timer = QTimer(app)
    timer.setInterval(WAKE_MS)
    timer.timeout.connect(wake)
    timer.start()
    app.setProperty("latent_explorer_kernel_wake", True)


def _kernel_waits(kernel) -> bool:
    """Whether the kernel's asyncio loop has work the Qt loop keeps from it: a shell request is being handled
    (the main shell lock is held), or a callback or timer is due."""
    lock = getattr(kernel, "_main_asyncio_lock", None)
    if lock is not None and lock.locked():
        return True
    loop = getattr(getattr(kernel, "io_loop", None), "asyncio_loop", None)
    if loop is None:
        return False
    if getattr(loop, "_ready", None):
        return True
    scheduled = getattr(loop, "_scheduled", None)
    return bool(scheduled) and scheduled[0].when() <= loop.time()
