"""Sound output through sounddevice (PortAudio). Without a device or library, ``play`` returns a
one-line reason once and the rest of the app works."""
from __future__ import annotations

import numpy as np


class AudioOut:
    def __init__(self) -> None:
        self.unavailable: str | None = None
        self._sd = None

    def _device(self):
        if self._sd is None and self.unavailable is None:
            try:
                import sounddevice

                sounddevice.query_devices(kind="output")
                self._sd = sounddevice
            except (OSError, ImportError, ValueError) as e:  # no PortAudio, or no output device
                self.unavailable = f"no audio output: {str(e).splitlines()[0] or e.__class__.__name__}; sound is off"
            except Exception as e:  # sounddevice.PortAudioError and friends
                self.unavailable = f"no audio output ({e.__class__.__name__}: {e}); sound is off"
        return self._sd

    def play(self, wave: np.ndarray, sample_rate: int, volume: float = 1.0) -> str | None:
        """Start playing (stopping what played before); return why not, the first time it cannot."""
        sd = self._device()
        if sd is None:
            reason, self.unavailable = self.unavailable, self.unavailable or "no audio output"
            self._told = getattr(self, "_told", False)
            if self._told:
                return None
            self._told = True
            return reason
        try:
            sd.stop()
            pcm = np.round(np.clip(np.asarray(wave, np.float32) * volume, -1, 1) * 32767).astype(np.int16)
            sd.play(pcm, sample_rate)  # 16-bit: what every device (and ALSA's file plugin) takes as is
        except Exception as e:  # a device that vanished: say so once, keep going
            self._sd, self.unavailable = None, f"audio output failed ({e.__class__.__name__}: {e}); sound is off"
            return self.unavailable
        return None

    def wait(self) -> None:
        if self._sd is not None:
            self._sd.wait()

    def stop(self) -> None:
        if self._sd is not None:
            self._sd.stop()
