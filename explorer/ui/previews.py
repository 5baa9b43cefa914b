"""Preview panels: each shows the signal at the playhead for one modality."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class ImagePreview(QWidget):
    """Pixel-exact image at any zoom (nearest-neighbour), decoded at a selectable resolution."""

    modality = "image"

    def __init__(self, trained: tuple[int, int], parent=None) -> None:
        super().__init__(parent)
        self.trained = tuple(trained)
        self.view = pg.GraphicsLayoutWidget()
        self.box = self.view.addViewBox(lockAspect=True, invertY=True)
        self.box.setMenuEnabled(False)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.item)
        self.resolution = QComboBox()
        h = self.trained[0]
        self.choices = [h, 2 * h, 4 * h] + [r for r in (128, 256) if r > 4 * h]
        for r in self.choices:
            self.resolution.addItem(f"{r} x {r}" + (" (trained)" if r == h else ""), r)
        self.caption = QLabel("")
        row = QHBoxLayout()
        row.addWidget(QLabel("Decode at"))
        row.addWidget(self.resolution)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        layout.addWidget(self.caption)
        self.pixels: np.ndarray | None = None

    def decode_resolution(self) -> tuple[int, int]:
        r = int(self.resolution.currentData())
        return (r, r)

    def show_signal(self, pixels: np.ndarray, caption: str = "") -> None:
        """``pixels [H, W, C]`` in [0, 1]."""
        self.pixels = np.asarray(pixels)
        img = self.pixels[..., 0] if self.pixels.shape[-1] == 1 else self.pixels
        self.item.setImage((np.clip(img, 0, 1) * 255).astype(np.uint8), levels=(0, 255), autoLevels=False)
        self.box.autoRange(padding=0)
        self.caption.setText(caption)
