"""Decoders that are not this project's: a person's own ``torch.nn.Module`` or function (``explorer.show``),
held as an object rather than rebuilt from stored weights.

``AdaptedField`` puts such a decoder in this project's conventions, so that everything downstream (the
decode pipeline, previews, exports, fitting) treats it as one of its own fields: coordinates are mapped
affinely from the modality's own space into the decoder's domain, and its values affinely into the
modality's value range.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from explorer.errors import ExplorerError


@dataclass
class ForeignConfig:
    """What is known of a decoder given as an object: its sizes, and where it came from."""

    latent_dim: int
    in_dim: int
    out_dim: int
    source: str = "a Python decoder"
    kind: str = "foreign"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "latent_dim": self.latent_dim, "in_dim": self.in_dim, "out_dim": self.out_dim,
                "source": self.source}

    def summary(self) -> str:
        return f"{self.source} ({self.in_dim}-D coordinates to {self.out_dim} value(s))"

    def point_cost(self) -> int:
        return 0  # unknown


class AdaptedField(nn.Module):
    """``decoder(z [B, d], coords [P, k] or [B, P, k]) -> [B, P, C]`` in its own domain, seen in ours:
    ``coords_ours * coord_scale + coord_shift`` go in (after ``coord_order`` picks and orders the axes),
    ``values * value_scale + value_shift`` come out, in float32."""

    def __init__(self, decoder: Callable, coord_scale, coord_shift, value_scale: float = 1.0, value_shift: float = 0.0,
                 coord_order: list[int] | None = None, per_latent_coords: bool = False) -> None:
        super().__init__()
        if isinstance(decoder, nn.Module):
            self.decoder = decoder  # its parameters move with .to() and are frozen by fitting like ours
        else:
            self._function = decoder
        self.register_buffer("coord_scale", torch.as_tensor(coord_scale, dtype=torch.float32))
        self.register_buffer("coord_shift", torch.as_tensor(coord_shift, dtype=torch.float32))
        self.value_scale, self.value_shift = float(value_scale), float(value_shift)
        self.coord_order = coord_order
        self.per_latent_coords = per_latent_coords
        """The decoder takes only ``[B, P, k]`` coordinates: shared ones are expanded to every latent."""
        self.cannot_fit = getattr(decoder, "cannot_fit", "")
        """Why no latent can be fitted through the decoder (``DecodePipeline.check_fittable``), or ""."""

    def _call(self, z, coords):
        return self.decoder(z, coords) if hasattr(self, "decoder") else self._function(z, coords)

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        c = coords.float()
        if self.coord_order is not None:
            c = c[..., self.coord_order]
        c = c * self.coord_scale + self.coord_shift
        if self.per_latent_coords and c.ndim == 2:
            c = c[None].expand(z.shape[0], -1, -1)
        with torch.autocast(c.device.type, enabled=False):  # a person's decoder runs as they wrote it
            out = self._call(z.float(), c)
        if not isinstance(out, torch.Tensor):
            out = torch.as_tensor(out)
        if out.ndim == 2 and out.shape[0] == z.shape[0] * c.shape[-2]:
            out = out.reshape(z.shape[0], c.shape[-2], -1)
        elif out.ndim == 2:
            out = out[..., None]
        if out.ndim != 3 or out.shape[0] != z.shape[0] or out.shape[1] != c.shape[-2]:
            raise ExplorerError(f"the decoder returned shape {list(out.shape)} for {z.shape[0]} latents and "
                                f"{c.shape[-2]} coordinates; it must return [B, P, C]")
        return out.float() * self.value_scale + self.value_shift
