"""Sound in the window: the decoded sound on Space or Play, and the path heard as the timeline plays it
(one continuous sound from the playhead to the end, made in a worker; the playhead waits for it)."""
from __future__ import annotations

import hashlib

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.ui.audio_out import AudioOut
from explorer.ui.workers import TaskRunner


def _morph_job(pipeline, latents, seconds, part):
    """The sound of a stretch of path while the timeline plays it (``DecodePipeline.morph_wave``)."""
    return pipeline.morph_wave(latents, seconds, part=part)


class PathSound(QObject):
    failed = Signal(str)
    """A sound could not be made or played (the reason, in full)."""
    status = Signal(str)

    def __init__(self, session, panel, timeline, parent=None) -> None:
        super().__init__(parent)
        self.ws, self.panel, self.timeline = session, panel, timeline
        self.audio_out = AudioOut()
        self.sounder = TaskRunner(self)
        self.last_path_sound = None
        self._made: tuple | None = None
        """``(what, wave)``: the last sound made, kept for a loop that plays the same stretch again."""
        self._making = None
        self.sounder.finished.connect(self._on_path_sound)
        self.sounder.failed.connect(lambda m: self.failed.emit(f"the path's sound failed: {m}"))
        timeline.play.toggled.connect(self.on_play)
        timeline.wrapped.connect(self._on_wrapped)
        panel.sound_requested.connect(self.play_sound)

    def play_sound(self) -> None:
        """Play the decoded sound (Space); without an audio device, say why."""
        audio = self.panel.audio
        if audio is None or audio.wave is None:
            return
        reason = self.audio_out.play(audio.wave, audio.sample_rate, audio.volume.value() / 100)
        if reason:
            self.failed.emit(reason)

    def on_play(self, on: bool) -> None:
        """The timeline's Play on a sound checkpoint: the path is heard from the playhead to the end (at the
        timeline's speed); the playhead sets off when the sound is ready."""
        part = self.panel.sound_part
        if part == "none" or not self.ws.paths:
            return
        if not on:
            self.sounder.cancel()
            self.audio_out.stop()
            return
        entry = self.ws.paths[self.ws.current]
        z = entry.path.latents
        t = self.ws.playhead
        if self.timeline.direction > 0:  # forwards to the end (from the start if at the end)
            t = t if t < 1.0 else 0.0
            z, left = z[int(np.floor(t * (len(z) - 1))):], 1.0 - t
        else:  # ping-pong, on the way back
            z, left = z[: int(np.ceil(t * (len(z) - 1))) + 1][::-1], t
        seconds = left * (len(entry.path.latents) - 1) / self.timeline.fps.value()
        if seconds < 0.05:
            return
        what = (id(self.ws.pipeline), part, hashlib.sha1(np.ascontiguousarray(z).tobytes()).hexdigest(), round(seconds, 6))
        if self._made is not None and self._made[0] == what:  # a loop comes round again: heard at once
            self._hear(self._made[1])
            return
        self.timeline.hold(True)  # the playhead waits for the sound
        self.status.emit("making the path's sound…")
        self._making = what
        self.sounder.start(_morph_job, self.ws.pipeline, z, seconds, part)

    def _on_path_sound(self, wave) -> None:
        self._made = (self._making, wave)
        if self.timeline.play.isChecked():
            self._hear(wave)

    def _hear(self, wave) -> None:
        audio = self.panel.previews[self.panel.sound_part]
        reason = self.audio_out.play(wave, audio.sample_rate, audio.volume.value() / 100)
        if reason:
            self.failed.emit(reason)
        self.last_path_sound = wave
        self.timeline.hold(False)

    def _on_wrapped(self) -> None:
        """Loop and ping-pong start the path again: its sound too."""
        if self.timeline.play.isChecked() and self.panel.sound_part != "none" and self.ws.paths:
            self.on_play(True)
