"""Decode latents to field values on a coordinate grid, in bounded chunks, without gradients."""
from __future__ import annotations

import torch


@torch.no_grad()
def decode_values(model: torch.nn.Module, latents: torch.Tensor, coords: torch.Tensor, max_points: int = 1 << 18) -> torch.Tensor:
    """``latents: [B, d]``, ``coords: [P, k]`` (shared) or ``[B, P, k]`` (per latent) -> ``[B, P, C]``.

    At most ``max_points`` coordinates go through the model per call.
    """
    device = next(model.parameters()).device
    coords = coords.to(device)
    per_batch = max(1, max_points // max(1, coords.shape[-2]))
    outs = []
    for i in range(0, latents.shape[0], per_batch):
        c = coords if coords.ndim == 2 else coords[i : i + per_batch]
        outs.append(model(latents[i : i + per_batch].to(device), c))
    return torch.cat(outs)
