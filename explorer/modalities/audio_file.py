"""Reading a sound file as a clip: mono, resampled, trimmed or zero-padded; a file of a sample rate or a
number of channels that would cost gigabytes to resample refused (``load_clip``)."""
from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}
MIN_RATE, MAX_RATE = 1000, 768_000
"""Sample rates a sound file may have: beyond them the polyphase resampler's filter grows to gigabytes."""
MAX_CHANNELS = 64


def load_clip(path: Path, sample_rate: int = 16000, seconds: float = 1.0) -> np.ndarray:
    """``[n]`` float32 in [-1, 1]: channels averaged, polyphase-resampled, trimmed/padded to ``seconds``.

    Only the start of the file is read (``seconds`` and a margin for the resampling filter, which
    reaches a few milliseconds): an hour-long file costs no more than a clip. Samples of any bit
    depth are read as floats in [-1, 1] by libsndfile."""
    import soundfile
    from scipy.signal import resample_poly

    try:
        info = soundfile.info(str(path))
        sr = int(info.samplerate)
        if not MIN_RATE <= sr <= MAX_RATE or not 1 <= info.channels <= MAX_CHANNELS:
            raise ExplorerError(f"{path}: {sr} Hz, {info.channels} channel(s) is not a sound this reads "
                                f"({MIN_RATE} to {MAX_RATE} Hz, 1 to {MAX_CHANNELS} channels); convert it or remove it")
        frames = int(np.ceil((seconds + 0.1) * sr))
        data, sr = soundfile.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, soundfile.LibsndfileError) as e:
        raise ExplorerError(f"{path} is not a readable sound file ({e}); remove it or fix it") from e
    wave = data.mean(axis=1)
    if sr != sample_rate:
        g = gcd(int(sr), sample_rate)
        wave = resample_poly(wave, sample_rate // g, int(sr) // g).astype(np.float32)
    n = int(round(sample_rate * seconds))
    out = np.zeros(n, dtype=np.float32)
    out[: min(n, len(wave))] = wave[:n]
    if not np.isfinite(out).all():
        raise ExplorerError(f"{path} contains NaN or infinite samples")
    return np.clip(out, -1.0, 1.0)
