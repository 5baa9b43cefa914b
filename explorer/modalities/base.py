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

    def options(self) -> dict:
        """Settings that rebuild this plug from a checkpoint: ``get_modality(name, options)``."""

    def prepare(self, dataset):
        """A loaded ``SignalSet`` as this plug's field values (identity unless the field is a transform)."""

    def metrics(self, pred: torch.Tensor, target: torch.Tensor, signals=None, resolution=None,
                labels=None) -> dict[str, torch.Tensor]:
        """Per-item quality of ``pred`` against ``target`` (field values ``[B, P, C]``); ``signals``
        (the items' own signals, where values are a transform) and ``resolution`` serve plugs that
        measure the decoded signal rather than the field."""
