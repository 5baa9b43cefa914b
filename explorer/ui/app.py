"""``latent-explorer [CHECKPOINT] [--screenshot PNG]``: the desktop app."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCREENSHOT_TIMEOUT_MS = 120_000


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="latent-explorer", description="Open a checkpoint in the latent explorer.")
    p.add_argument("checkpoint", nargs="?", help="what to open: a checkpoint, an ONNX decoder bundle, a DeepSDF "
                   "experiment folder (imported once into the cache), or plain embeddings (.npy, .tsv, .csv, a "
                   "TensorBoard projector folder); default: the shipped default checkpoint")
    p.add_argument("--files", metavar="FOLDER", help="plain embeddings (.npy, .tsv, .csv): the folder of the original "
                   "files, one per latent (matched by name, else in name order)")
    p.add_argument("--layout", metavar="FILE", help="your own 2-D map of the training latents: an [N, 2] .npy, or "
                   "two columns of a .csv/.tsv, one row per latent (View > Map from a file)")
    p.add_argument("--screenshot", metavar="PNG",
                   help="open, draw a path between the first and the last item, wait until the map and the "
                        "preview are drawn, save a picture of the window, exit")
    return p.parse_args(argv)


def brand(app) -> None:
    """The application's name, its window icon and the desktop entry it belongs to (``explorer.resources``)."""
    from PySide6.QtGui import QIcon

    from explorer.resources import APP_ID, ICON_SIZES, resource

    if not app.applicationName() or app.applicationName() == "python":
        app.setApplicationName("latent-explorer")
    app.setDesktopFileName(APP_ID)
    icon = QIcon(str(resource("latent-explorer.svg")))
    for size in ICON_SIZES:
        icon.addFile(str(resource(f"icons/{size}x{size}/latent-explorer.png")))
    app.setWindowIcon(icon)


def run(argv: list[str]) -> int:
    import os

    from explorer.errors import ExplorerError

    args = parse(argv)
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                                 or os.environ.get("QT_QPA_PLATFORM")):
        raise ExplorerError("no display to open the window on: run it in a desktop session, or under Xvfb "
                            "(xvfb-run -a latent-explorer ...)")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.core.shipped import DEFAULT_CHECKPOINT, MISSING_EXAMPLES
    from explorer.ui.error_report import ErrorReport
    from explorer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    brand(app)
    window = MainWindow()
    report = ErrorReport(window)
    report.message.connect(window._show_error)
    report.install()  # an error in a slot or a thread: one line in the window, the traceback in a log
    window.compile_in_background = not args.screenshot
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    path = Path(args.checkpoint) if args.checkpoint else DEFAULT_CHECKPOINT
    if not args.checkpoint and not path.exists():  # an installed app without its examples wheel: say what to do
        window.banner.show_message(MISSING_EXAMPLES, "note")
        if args.screenshot:
            QTimer.singleShot(300, lambda: (window.grab().save(args.screenshot), app.exit(1)))
        return app.exec()
    if args.layout:
        window.opened.connect(lambda ok: ok and window.load_layout(args.layout))
    if not args.screenshot:
        window.open_checkpoint(path, args.files)
        return app.exec()
    done = {"ok": False}

    def shoot() -> None:
        window.grab().save(args.screenshot)
        app.exit(0 if done["ok"] else 1)

    def opened(ok: bool) -> None:
        done["ok"] = ok
        if not ok or window.preview is None:
            QTimer.singleShot(300, shoot)
            return
        def drawn() -> None:  # scrub to the middle; its preview is the picture
            window.preview_ready.connect(lambda: QTimer.singleShot(300, shoot))
            window.panel.failed.connect(lambda message: QTimer.singleShot(300, shoot))  # the banner says why
            window.timeline.set_position(0.5)

        # as a user would: drag from the first item to the last
        window.path_ready.connect(drawn)
        window.pather.failed.connect(lambda message: QTimer.singleShot(300, shoot))
        window._on_path_requested(0, window.ws.ckpt.n_items - 1)

    window.opened.connect(opened)
    window.open_checkpoint(path, args.files)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: (print("latent-explorer: screenshot timed out", file=sys.stderr),
                                                       app.exit(1)))
    return app.exec()
