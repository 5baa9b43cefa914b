"""A folder of WAV/FLAC/OGG files: mono, resampled to 16 kHz, trimmed or zero-padded to 1 s."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels
from explorer.modalities.audio_file import AUDIO_SUFFIXES, load_clip


def audio_folder_set(folder: str | Path, max_items: int | None = None, test_fraction: float = 0.1,
                     sample_rate: int = 16000) -> SignalSet:
    paths = find_files(folder, AUDIO_SUFFIXES, "WAV, FLAC or OGG files", max_items)
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
