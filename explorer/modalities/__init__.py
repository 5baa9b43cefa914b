"""One plug per signal type. Models never import these; the trainer and the UI ask them."""
from __future__ import annotations

from explorer.errors import ExplorerError
from explorer.modalities.base import Modality
from explorer.modalities.audio import AudioModality
from explorer.modalities.image import ImageModality
from explorer.modalities.shape import ShapeModality

_MODALITIES = {"image": ImageModality, "audio": AudioModality, "shape": ShapeModality}
KNOWN = ("image", "audio", "shape", "audiovisual")


def get_modality(name: str) -> Modality:
    if name in _MODALITIES:
        return _MODALITIES[name]()
    if name in KNOWN:
        raise ExplorerError(f"the {name} modality is not available in this version yet; {', '.join(_MODALITIES)} are")
    raise ExplorerError(f"unknown modality {name!r}; choose one of {', '.join(KNOWN)}")


__all__ = ["Modality", "get_modality", "ImageModality", "AudioModality", "ShapeModality"]
