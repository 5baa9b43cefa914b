"""Render resources' SVG icon to the PNG sizes of the freedesktop hicolor theme (explorer/resources/icons/).

Run from the repository root after changing the SVG: ``python packaging/make_icons.py``.
"""
from __future__ import annotations

import os

from explorer.resources import ICON_SIZES, resource

RESOURCES = resource("")


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (painting needs one)
    renderer = QSvgRenderer(str(RESOURCES / "latent-explorer.svg"))
    if not renderer.isValid():
        raise SystemExit("latent-explorer.svg does not parse")
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = RESOURCES / "icons" / f"{size}x{size}" / "latent-explorer.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(out))
        print(out)


if __name__ == "__main__":
    main()
