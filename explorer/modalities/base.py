"""What every modality plug provides (DESIGN.md: coordinates, field output -> signal, metrics, files)."""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch


class Modality(Protocol):
    name: str
    in_dim: int

    def coords(self, resolution: tuple[int, ...]) -> torch.Tensor:
        """Field coordinates ``[P, in_dim]`` of a signal sampled at ``resolution``."""

    def to_signal(self, values: torch.Tensor, resolution: tuple[int, ...]) -> np.ndarray:
        """Field output ``[P, C]`` (or ``[B, P, C]``) -> the signal a person sees or hears."""

    def loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training reconstruction loss on sampled values ``[B, P, C]``."""

    def metrics(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-item quality of ``pred`` against ``target`` (field values ``[B, P, C]``)."""
