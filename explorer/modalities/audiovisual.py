"""Audio-visual pairs: one latent, an image field and an audio field (GEM fig. 1).

The plug is a pair of plugs; datasets are ``SignalSet.joint`` sets whose ``parts`` are an image set
and an audio set of the same items. Training sums the parts' reconstruction losses; LLE and
isometry act on the latent and on the joint signal.
"""
from __future__ import annotations

import dataclasses

from explorer.modalities.audio import AudioModality
from explorer.modalities.image import ImageModality

PARTS = ("image", "audio")


class AudioVisualModality:
    name = "audiovisual"
    read_suffixes = ()
    """A file is read by the part whose signal it is."""
    dataset_reader = "pairs"
    """A folder of X.png + X.wav pairs."""
    mask_kind = None

    def __init__(self, audio: dict | None = None) -> None:
        self.parts = {"image": ImageModality(), "audio": AudioModality(**(audio or {}))}

    @property
    def preset_settings(self) -> dict:
        """32 pairs x 1 024 samples of each part per step; the sound part's first-layer omega0 is the
        spectrogram field's 90 (``audio.``: a setting of that part alone, as ``--set audio.omega0_first=...``).
        ``base`` keeps GEM's L_LLE and L_iso weights of 1, not the preset's lighter ones: at 0.1 hallucination's
        first proposals matched less often on av-notes (5 and 14 of 23 against 8 and 16, docs/recipe.md)."""
        if self.parts["audio"].target == "waveform":
            return {}
        common = {"coords_per_signal": 1024, "batch_size": 32, "audio.omega0_first": 90.0}
        return {"small": common, "base": common | {"steps": 12000, "lle_weight": 1.0, "iso_weight": 1.0}}

    def data_resolution(self, info: dict) -> int | None:
        """The picture part's side."""
        return self.parts["image"].data_resolution(info.get("parts", {}).get("image", info))

    def target_options(self, target: str | None, preset: str) -> dict | None:
        """The sound part's target: a spectrogram by default, whatever the preset."""
        return {"audio": {"target": target or "spectrogram"}}

    def options(self) -> dict:
        return {"audio": self.parts["audio"].options()}

    def prepare(self, dataset):
        parts = {k: self.parts[k].prepare(p) for k, p in dataset.parts.items()}
        return dataclasses.replace(dataset, parts=parts)
