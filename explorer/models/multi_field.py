"""Several neural fields that share one latent: ``parts[name](z, coords)`` (GEM's audio-visual model)."""
from __future__ import annotations

import torch
from torch import nn

from explorer.models.config import MultiFieldConfig


class MultiField(nn.Module):
    def __init__(self, config: MultiFieldConfig, build) -> None:
        super().__init__()
        self.config = config
        self.parts = nn.ModuleDict({name: build(c) for name, c in config.parts.items()})

    def forward(self, z: torch.Tensor, coords: torch.Tensor, part: str) -> torch.Tensor:
        return self.parts[part](z, coords)
