"""The timeline: a slider for the playhead along the current path, Play/Pause, frame rate, loop and ping-pong."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QStyle,
                               QStyleOptionSlider, QWidget)

STEPS = 1000


class ScrubSlider(QSlider):
    """A slider whose playhead jumps to where the groove is clicked, and can be dragged on from there
    (a plain one steps a tenth of the way towards the click)."""

    def mousePressEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            style = self.style()
            handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(ev.position().toPoint()):
                groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
                x = int(ev.position().x() - groove.x() - handle.width() / 2)
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x,
                                                             max(1, groove.width() - handle.width())))
        super().mousePressEvent(ev)  # the handle is under the mouse now: a drag goes on from here


class Timeline(QWidget):
    position_changed = Signal(float)
    wrapped = Signal()
    """Playing in Loop or Ping-pong, the playhead came to an end and starts over (or back)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.setToolTip("Play or pause the path (P)")
        self.slider = ScrubSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.setToolTip("Scrub along the path: click or drag")
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(12)
        self.fps.setSuffix(" fps")
        self.mode = QComboBox()
        self.mode.addItems(["Loop", "Ping-pong", "Once"])
        self.frames = 64
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for w in (self.play, self.slider, QLabel("Speed"), self.fps, self.mode):
            layout.addWidget(w, 1 if w is self.slider else 0)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._direction = 1
        self.play.toggled.connect(self._on_play)
        self.slider.valueChanged.connect(lambda v: self.position_changed.emit(v / STEPS))
        self.fps.valueChanged.connect(lambda _: self._timer.setInterval(int(1000 / self.fps.value())))

    def set_path_shown(self, shown: bool) -> None:
        """Play and the slider work along a path; with none on the map (put away to show a selected or
        embedded point) they are greyed out and say why, instead of moving without effect."""
        if not shown:
            self.play.setChecked(False)
        self.play.setEnabled(shown)
        self.slider.setEnabled(shown)
        why = "" if shown else " (no path on the map: drag from one point to another, or walk with W)"
        self.play.setToolTip("Play or pause the path (P)" + why)
        self.slider.setToolTip("Scrub along the path: click or drag" + why)

    def position(self) -> float:
        return self.slider.value() / STEPS

    def set_position(self, t: float) -> None:
        self.slider.setValue(int(round(t * STEPS)))

    def toggle(self) -> None:
        if self.play.isEnabled():  # P with no path on the map: nothing to play
            self.play.toggle()

    @property
    def direction(self) -> int:
        """1 while playing forwards, -1 on the way back of a ping-pong."""
        return self._direction

    def hold(self, on: bool) -> None:
        """While playing, keep the playhead still (until the path's sound is ready) or let it go on."""
        if on:
            self._timer.stop()
        elif self.play.isChecked():
            self._timer.start(int(1000 / self.fps.value()))

    def _on_play(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        if on:
            self._timer.start(int(1000 / self.fps.value()))
        else:
            self._timer.stop()

    def _tick(self) -> None:
        step = STEPS / max(1, self.frames - 1)
        v = self.slider.value() + self._direction * step
        mode = self.mode.currentText()
        if v > STEPS or v < 0:
            if mode == "Loop":
                v = 0 if v > STEPS else STEPS
                self.slider.setValue(int(round(v)))
                self.wrapped.emit()
                return
            elif mode == "Ping-pong":
                self._direction *= -1
                v = min(STEPS, max(0, self.slider.value() + self._direction * step))
                self.slider.setValue(int(round(v)))
                self.wrapped.emit()
                return
            else:
                v = min(STEPS, max(0, v))
                self.play.setChecked(False)
        self.slider.setValue(int(round(v)))
