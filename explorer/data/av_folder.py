"""Audio-visual pairs from a folder: ``X.png`` (or .jpg) and ``X.wav`` (or .flac, .ogg) with the same stem
are one item, named ``X`` (relative to the folder); labels from subfolders and ``labels.csv``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.data.audio_folder import AUDIO_SUFFIXES, load_clip
from explorer.data.dataset import SignalSet, hash_split
from explorer.data.folders import find_files, names_and_labels
from explorer.data.image_folder import IMAGE_SUFFIXES, is_grey, load_image
from explorer.errors import ExplorerError


def av_folder_set(folder: str | Path, resolution: int = 48, max_items: int | None = None,
                  test_fraction: float = 0.1) -> SignalSet:
    from explorer.modalities.image import ImageModality

    folder = Path(folder)
    images = {p.with_suffix(""): p for p in find_files(folder, IMAGE_SUFFIXES, "PNG or JPEG images")}
    sounds = {p.with_suffix(""): p for p in find_files(folder, AUDIO_SUFFIXES, "WAV, FLAC or OGG files")}
    alone = sorted(set(images) ^ set(sounds))
    if alone:
        lone = images.get(alone[0]) or sounds[alone[0]]
        raise ExplorerError(f"{lone} has no partner with the same name ({len(alone)} unpaired files): "
                            "an audio-visual folder holds X.png and X.wav for every item")
    stems = sorted(images)[:max_items]
    grey = all(is_grey(images[s]) for s in stems)
    pixels = np.stack([load_image(images[s], resolution, grey) for s in stems])
    waves = np.stack([load_clip(sounds[s]) for s in stems])
    names, labels = names_and_labels(folder, stems)
    is_test = hash_split(names, test_fraction)
    image = SignalSet("image", ImageModality.to_field(pixels), (resolution, resolution), names, labels, is_test)
    audio = SignalSet("audio", waves[..., None], (waves.shape[1],), names, labels, is_test)
    source = {"spec": str(folder.resolve()), "max_items": max_items, "resolution": resolution}
    return SignalSet.joint("audiovisual", {"image": image, "audio": audio}, source)
