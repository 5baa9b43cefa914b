"""One plug per signal type. Models never import these; the trainer and the UI ask them."""
from __future__ import annotations

from explorer.errors import ExplorerError
from explorer.modalities.audio import AudioModality
from explorer.modalities.audiovisual import AudioVisualModality
from explorer.modalities.base import Modality
from explorer.modalities.image import ImageModality
from explorer.modalities.shape import ShapeModality

_MODALITIES = {"image": ImageModality, "audio": AudioModality, "shape": ShapeModality,
               "audiovisual": AudioVisualModality}
KNOWN = tuple(_MODALITIES)


def get_modality(name: str, options: dict | None = None):
    """The plug for ``name``, set up with the ``options`` a checkpoint stored (audio target, ...)."""
    if name not in _MODALITIES:
        raise ExplorerError(f"unknown modality {name!r}; choose one of {', '.join(KNOWN)}")
    try:
        return _MODALITIES[name](**(options or {}))
    except TypeError as e:
        raise ExplorerError(f"the {name} modality does not take the options {sorted(options or {})}") from e


def checkpoint_modality(info: dict):
    """The plug described by a checkpoint's ``modality`` entry."""
    return get_modality(info["name"], info.get("options"))


def part_precisions(plug, requested: str, device) -> dict:
    """``{part: "fp32"|"bf16"}``: what each part decodes and is fitted in. ``auto`` keeps float32 for the
    plugs whose signals bfloat16 would visibly change (each plug's ``bf16_decode``); ``bf16`` forces it."""
    from explorer.models.precision import resolve_precision

    precision = resolve_precision(requested, device)
    return {part: precision if requested != "auto" or getattr(p, "bf16_decode", False) else "fp32"
            for part, p in plug_parts(plug).items()}


def plug_parts(plug) -> dict:
    """``{part: plug}``: the parts of a multi-field plug, or ``{None: plug}`` for a single field."""
    return dict(plug.parts) if hasattr(plug, "parts") else {None: plug}


__all__ = ["Modality", "get_modality", "checkpoint_modality", "plug_parts", "part_precisions", "ImageModality", "AudioModality",
           "ShapeModality", "AudioVisualModality"]
