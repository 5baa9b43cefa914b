"""Latent-conditioned neural fields. Models know nothing of modalities: ``f(z, coords) -> values``."""
from __future__ import annotations

from torch import nn

from explorer.models.config import FieldConfig
from explorer.models.film_siren import FilmSiren
from explorer.models.hypernetwork import HyperField
from explorer.models.modulated_siren import ModulatedSiren

_KINDS = {"hyper": HyperField, "modulated": ModulatedSiren, "film": FilmSiren}


def build_model(config: FieldConfig) -> nn.Module:
    """Rebuild a field from its stored config (a checkpoint holds the config, not the code)."""
    return _KINDS[config.kind](config)


__all__ = ["FieldConfig", "HyperField", "ModulatedSiren", "FilmSiren", "build_model"]
