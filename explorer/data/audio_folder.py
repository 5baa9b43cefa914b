"""A folder of WAV/FLAC/OGG files: mono, resampled to 16 kHz, trimmed or zero-padded to 1 s."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels, streamed
from explorer.modalities.audio_file import AUDIO_SUFFIXES, load_clip


def audio_folder_set(folder: str | Path, max_items: int | None = None, test_fraction: float = 0.1,
                     sample_rate: int = 16000, stream: bool | None = None, progress=None) -> SignalSet:
    """The clips below ``folder``, one second each. A folder whose waveforms would pass
    ``decoded.STREAM_FROM_BYTES`` (or any, with ``stream=True``) is decoded by worker processes into a
    memory-mapped cache, its training items first (``io.decoded``); ``progress(done, total)`` follows that."""
    paths = find_files(folder, AUDIO_SUFFIXES, "WAV, FLAC or OGG files", max_items)
    paths, waves = streamed(folder, paths, test_fraction, partial(load_clip, sample_rate=sample_rate), (sample_rate,),
                            f"audio clip {sample_rate} 1 s", stream, progress)
    if waves is None:
        waves = np.stack([load_clip(p, sample_rate) for p in paths])
    names, labels = names_and_labels(folder, paths)
    return SignalSet(
        modality="audio",
        values=waves[..., None],
        resolution=(waves.shape[1],),
        names=names,
        labels=labels,
        is_test=hash_split(names, test_fraction),
        source={"spec": str(Path(folder).resolve()), "max_items": max_items},
    )
