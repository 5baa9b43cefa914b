"""Preview panels: each shows the signal at the playhead for one modality."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)


def caption_label() -> QLabel:
    """A preview's caption: a long name wraps onto a second line instead of widening the preview, which
    would narrow the map beside it while the mouse moves over it."""
    label = QLabel("")
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


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
        h, w = self.trained
        side = max(h, w)  # 1, 2 and 4 times the trained size, then 128 and 256 on the long side: the aspect kept
        scales = [1, 2, 4] + [r / side for r in (128, 256) if r > 4 * side]
        self.choices = [(round(h * s), round(w * s)) for s in scales]
        for i, (ch, cw) in enumerate(self.choices):
            self.resolution.addItem(f"{cw} x {ch}" + (" (trained)" if i == 0 else ""), i)
        self.caption = caption_label()
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
        """``(height, width)`` to decode at (the menu says width x height, as pictures are described)."""
        return self.choices[int(self.resolution.currentData())]

    def show_signal(self, pixels: np.ndarray, caption: str = "") -> None:
        """``pixels [H, W, C]`` in [0, 1]."""
        self.pixels = np.asarray(pixels)
        img = self.pixels[..., 0] if self.pixels.shape[-1] == 1 else self.pixels
        self.item.setImage((np.clip(img, 0, 1) * 255).astype(np.uint8), levels=(0, 255), autoLevels=False)
        self.box.autoRange(padding=0)
        self.caption.setText(caption)


class AudioPreview(QWidget):
    """Waveform and spectrogram of the decoded clip, a Play button (Space), volume, play on hover."""

    modality = "audio"
    play_requested = Signal()

    def __init__(self, sample_rate: int = 16000, parent=None) -> None:
        super().__init__(parent)
        self.sample_rate = sample_rate
        self.wave_plot = pg.PlotWidget(background="w")
        self.wave_plot.setMouseEnabled(x=False, y=False)
        self.wave_plot.setYRange(-1, 1)
        self.wave_plot.setLabel("bottom", "time", units="s")
        self.wave_curve = self.wave_plot.plot(pen=pg.mkPen("#0072B2"))
        self.spec_view = pg.PlotWidget(background="w")
        self.spec_view.setMouseEnabled(x=False, y=False)
        self.spec_view.setLabel("bottom", "time", units="s")
        self.spec_view.setLabel("left", "", units="Hz")  # "(kHz)": "frequency (kHz)" was cut in this low plot
        # the image fills the plot to its edges: room above for the top tick's label ("8" was cut in half), and
        # the time axis may show its "0" although it reaches a few pixels left of the axis
        self.spec_view.getPlotItem().setContentsMargins(0, 8, 0, 0)
        self.spec_view.getAxis("bottom").setStyle(hideOverlappingLabels=8)
        self.spec_image = pg.ImageItem(axisOrder="row-major")
        self.spec_image.setColorMap(pg.colormap.get("viridis"))
        self.spec_view.addItem(self.spec_image)
        self.play = QPushButton("Play (Space)")
        self.play.clicked.connect(self.play_requested)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(120)
        self.volume.setMinimumWidth(60)  # in a small window it shrinks, but stays
        self.on_hover = QCheckBox("Play on hover")
        self.caption = caption_label()
        row = QHBoxLayout()
        for w in (self.play, QLabel("Volume"), self.volume, self.on_hover):
            row.addWidget(w)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.wave_plot, 1)
        layout.addWidget(self.spec_view, 1)
        layout.addLayout(row)
        layout.addWidget(self.caption)
        self.wave: np.ndarray | None = None

    def decode_resolution(self):
        return None

    def show_signal(self, wave: np.ndarray, caption: str = "") -> None:
        """``wave [n]`` in [-1, 1] at ``sample_rate``."""
        import torch

        from explorer.modalities.spectrogram import log_spectrogram

        self.wave = np.asarray(wave, dtype=np.float32)
        t = np.arange(len(self.wave)) / self.sample_rate
        self.wave_curve.setData(t, self.wave)
        spec = log_spectrogram(torch.from_numpy(self.wave)[None], 512, 128)[0].numpy()  # [F, frames]
        self.spec_image.setImage(spec, autoLevels=False, levels=(max(spec.max() - 9.0, spec.min()), spec.max()))
        self.spec_image.setRect(0, 0, len(self.wave) / self.sample_rate, self.sample_rate / 2)
        self.spec_view.autoRange(padding=0)
        self.caption.setText(caption)


class MeshPreview(QWidget):
    """The marching-cubes mesh of the decoded SDF in a vispy view: orbit camera, lit shading, an
    iso-level slider (re-meshes the last SDF grid without decoding again)."""

    modality = "shape"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from vispy import scene

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # the canvas is created with its parent and put in the layout before the window is shown
        self.canvas = scene.SceneCanvas(keys=None, show=False, parent=self, bgcolor="white")
        layout.addWidget(self.canvas.native, 1)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=35, elevation=20, azimuth=35)
        self.reset_view()
        self.mesh = scene.visuals.Mesh(shading="smooth", color=(0.55, 0.68, 0.88, 1.0), parent=self.view.scene)
        self.iso = QSlider(Qt.Orientation.Horizontal)
        self.iso.setRange(-50, 50)
        self.iso.setValue(0)
        self.iso_label = QLabel("iso level 0.000")
        self.caption = caption_label()
        self.reset_button = QPushButton("Reset view")
        self.reset_button.setToolTip("Back to the first camera, the whole shape in view (Home)")
        self.reset_button.setShortcut("Home")
        self.reset_button.clicked.connect(self.reset_view)
        row = QHBoxLayout()
        row.addWidget(self.iso_label)
        row.addWidget(self.iso, 1)
        row.addWidget(self.reset_button)
        layout.addLayout(row)
        layout.addWidget(self.caption)
        self.iso.valueChanged.connect(self._remesh)
        self.sdf: np.ndarray | None = None
        self.vertices = np.zeros((0, 3), np.float32)
        self.faces = np.zeros((0, 3), np.int64)

    def decode_resolution(self):
        return None

    FRAMED = 1.8
    """The radius around the origin the first camera shows whole: the decoded cube [-1, 1]^3 has corners
    at sqrt(3) = 1.73 (the old camera showed 1.1 and cut shapes off at the top)."""

    def reset_view(self) -> None:
        """The first camera: from the front, a little above and to the side, the whole cube in view."""
        cam = self.view.camera
        cam.center = (0.0, 0.0, 0.0)
        cam.elevation, cam.azimuth = 20.0, 35.0
        cam.distance = self.FRAMED / np.sin(np.radians(cam.fov / 2))
        self.canvas.update()

    def level(self) -> float:
        return self.iso.value() / 500.0  # -0.1 .. 0.1, DeepSDF's clamp range

    def show_signal(self, sdf: np.ndarray, caption: str = "") -> None:
        """``sdf [R, R, R]`` on ``grid_coords(R)``: meshed here at the slider's level."""
        self.sdf = np.asarray(sdf, dtype=np.float32)
        self.caption.setText(caption)
        self._remesh()

    def _remesh(self, *_) -> None:
        from explorer.modalities.sdf import sdf_to_mesh

        self.iso_label.setText(f"iso level {self.level():+.3f}")
        if self.sdf is None:
            return
        self.vertices, self.faces = sdf_to_mesh(self.sdf, self.level())
        if len(self.faces):
            self.mesh.set_data(vertices=self.vertices, faces=self.faces)
        else:
            self.mesh.set_data(vertices=np.zeros((3, 3), np.float32), faces=np.array([[0, 1, 2]]))
        self.mesh.visible = bool(len(self.faces))
        self.caption.setText(self.caption.text().split(" — ")[0] + f" — {len(self.faces)} triangles")
        self.canvas.update()


# --- the panel of each kind of part ----------------------------------------------------------------------
def _image_preview(panel, info: dict) -> ImagePreview:
    w = ImagePreview(tuple(info["resolution"]))
    w.resolution.currentIndexChanged.connect(lambda _: panel.request())
    return w


def _audio_preview(panel, info: dict) -> AudioPreview:
    w = AudioPreview((info.get("options") or {}).get("sample_rate", 16000))
    w.play_requested.connect(panel.sound_requested)
    return w


def _shape_preview(panel, info: dict):
    return panel.mesh_preview  # made once with the panel (OpenGL); None where there is none


PREVIEWS = {"image": _image_preview, "audio": _audio_preview, "shape": _shape_preview, "none": lambda panel, info: None}
"""The preview panel of each kind of part, by plug name: ``PREVIEWS[name](panel, part info)`` (``PreviewPanel``) gives a
widget, or None where the kind cannot be shown here. A new modality adds its panel here."""
