"""One plug per signal type. Models never import these; the trainer and the UI ask them."""
from __future__ import annotations

from pathlib import Path

from explorer.errors import ExplorerError
from explorer.io.typed import need_dict
from explorer.modalities.audio import AudioModality
from explorer.modalities.audiovisual import AudioVisualModality
from explorer.modalities.base import Modality
from explorer.modalities.image import ImageModality
from explorer.modalities.nothing import NothingModality
from explorer.modalities.shape import ShapeModality

_MODALITIES = {"image": ImageModality, "audio": AudioModality, "shape": ShapeModality,
               "audiovisual": AudioVisualModality}
KNOWN = tuple(_MODALITIES)
"""What a model is trained on; ``"none"`` (``NothingModality``: plain latents without files) is opened, never trained."""
_OPENED_ONLY = {"none": NothingModality}


def get_modality(name: str, options: dict | None = None):
    """The plug for ``name``, set up with the ``options`` a checkpoint stored (audio target, ...)."""
    plugs = _MODALITIES | _OPENED_ONLY
    if not isinstance(name, str) or name not in plugs:
        raise ExplorerError(f"unknown modality {name!r}; choose one of {', '.join(KNOWN)}")
    try:
        return plugs[name](**need_dict(options, f"{name} options", optional=True))
    except TypeError as e:
        raise ExplorerError(f"the {name} modality does not take the options {sorted(options or {})}") from e


def file_plugs() -> list[type]:
    """The plug classes that read a file into an observation (their ``read_suffixes``), in ``KNOWN`` order."""
    return [cls for cls in _MODALITIES.values() if cls.read_suffixes]


def file_plug(path) -> type | None:
    """The plug class that reads ``path``, by its extension (``read_suffixes``); None where none does."""
    suffix = Path(path).suffix.lower()
    return next((cls for cls in file_plugs() if suffix in cls.read_suffixes), None)


def checkpoint_modality(info: dict):
    """The plug described by a checkpoint's ``modality`` entry."""
    return get_modality(info["name"], info.get("options"))


def checkpoint_plug(ckpt):
    """The plug of a loaded checkpoint, once its stored sampling agrees with the plug and the model
    (``Checkpoint``: its metadata's types and ranges are checked at load); ``ExplorerError`` naming the
    file otherwise."""
    from explorer.models import MultiFieldConfig

    try:
        plug = checkpoint_modality(ckpt.modality)
        configs = ckpt.model_config.parts if isinstance(ckpt.model_config, MultiFieldConfig) else {None: ckpt.model_config}
        for part, p in plug_parts(plug).items():
            if part not in configs:
                raise ExplorerError(f"the model has no {part!r} part")
            info, cfg = (ckpt.modality if part is None else ckpt.modality["parts"][part]), configs[part]
            where = "modality" if part is None else f"modality part {part!r}"
            p.check_resolution(tuple(info["resolution"]))
            if p.in_dim != cfg.in_dim or info["channels"] != cfg.out_dim:
                raise ExplorerError(f"{where}: a {p.name} signal of {info['channels']} channels on {p.in_dim}-D "
                                    f"coordinates, but the model maps {cfg.in_dim}-D coordinates to {cfg.out_dim} values")
    except ExplorerError as e:
        raise ExplorerError(f"{ckpt.path or 'checkpoint'}: {e}") from e
    return plug


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


__all__ = ["Modality", "get_modality", "file_plugs", "checkpoint_modality", "checkpoint_plug", "plug_parts", "part_precisions", "ImageModality", "AudioModality",
           "ShapeModality", "AudioVisualModality"]
