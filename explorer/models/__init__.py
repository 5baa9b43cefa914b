"""Latent-conditioned neural fields. Models know nothing of modalities: ``f(z, coords) -> values``."""
from __future__ import annotations

import torch
from torch import nn

from explorer.models.config import DeepSDFConfig, FieldConfig, ModelConfig, MultiFieldConfig, model_config_from_dict
from explorer.models.deepsdf_decoder import DeepSDFField
from explorer.models.film_siren import FilmSiren
from explorer.models.hypernetwork import HyperField
from explorer.models.modulated_siren import ModulatedSiren
from explorer.models.multi_field import MultiField

_KINDS = {"hyper": HyperField, "modulated": ModulatedSiren, "film": FilmSiren, "deepsdf": DeepSDFField}


def build_model(config: ModelConfig) -> nn.Module:
    """Rebuild a field (or fields sharing a latent) from its stored config: a checkpoint holds the config, not the code."""
    if isinstance(config, MultiFieldConfig):
        return MultiField(config, build_model)
    return _KINDS[config.kind](config)


def parameter_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The shapes of the model's weights by name, found without allocating them (built on the meta device)."""
    with torch.device("meta"):
        model = build_model(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def part_field(model: nn.Module, part: str | None) -> nn.Module:
    """The field of one part of a multi-field model; a single field is its own only part (``None``)."""
    return model if part is None else model.parts[part]


__all__ = ["FieldConfig", "MultiFieldConfig", "DeepSDFConfig", "DeepSDFField", "ModelConfig", "model_config_from_dict", "HyperField",
           "ModulatedSiren", "FilmSiren", "MultiField", "build_model", "parameter_shapes", "part_field"]
