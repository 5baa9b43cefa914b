"""GEM §4.4 sample generation: walk the manifold's locally linear regions.

From a start latent, repeatedly: pick one of its k nearest training latents, move a random
fraction α of the way towards it, add Gaussian noise of scale β, and project the result back onto
the local region of its own k nearest training latents (sum-to-one LLE weights; negative weights,
which GEM's training discourages, are dropped so that the point stays in the convex hull).
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.models.losses import lle_weights, nearest_latents


def project_to_region(z: torch.Tensor, bank: torch.Tensor, k: int) -> torch.Tensor:
    """``z [B, d]`` onto the convex region of its ``k`` nearest rows of ``bank``."""
    nb = bank[nearest_latents(z, bank, k)]  # [B, k, d]
    w = lle_weights(z, nb).clamp_min(0)
    w = w / w.sum(1, keepdim=True).clamp_min(1e-12)
    return torch.einsum("bk,bkd->bd", w, nb)


def typical_spacing(bank: torch.Tensor, k: int = 1, sample: int = 2000, seed: int = 0) -> float:
    """Median distance from a latent to its k-th nearest other latent (over a sample): the data's scale."""
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(bank.shape[0], generator=gen)[:sample].to(bank.device)
    d = torch.cdist(bank[pick], bank)
    d[torch.arange(len(pick)), pick] = float("inf")
    return float(d.topk(k, dim=1, largest=False).values[:, -1].median())


def lle_walk(latents, start: int, steps: int, k: int = 10, beta: float = 0.1, seed: int = 0,
             progress=None) -> np.ndarray:
    """``[steps + 1, d]`` latents: the start and each step of a seeded walk over the LLE regions.

    ``beta`` is the noise as a fraction of the data's typical neighbour spacing (noise vector of
    about that length), so the same value suits any checkpoint. ``progress(done, steps)``, if given,
    is called after each step (a long walk reports; an exception from it stops the walk).
    """
    bank = torch.as_tensor(np.asarray(latents), dtype=torch.float32)
    if not 0 <= start < bank.shape[0]:
        raise ExplorerError(f"start item {start} is not in 0..{bank.shape[0] - 1}")
    if steps < 0:
        raise ExplorerError("steps must be >= 0")
    k = min(k, bank.shape[0])
    gen = torch.Generator().manual_seed(seed)
    d = bank.shape[1]
    noise_scale = beta * typical_spacing(bank, seed=seed) / d**0.5
    z = bank[start : start + 1]
    out = [z]
    for _ in range(steps):
        nb = nearest_latents(z, bank, k + 1)[0]
        nb = nb[(bank[nb] - z).norm(dim=1) > 1e-9][:k]  # not the point itself
        j = nb[torch.randint(len(nb), (1,), generator=gen)]
        alpha = torch.rand((), generator=gen)
        step = alpha * z + (1 - alpha) * bank[j] + noise_scale * torch.randn(1, d, generator=gen)
        z = project_to_region(step, bank, k)
        out.append(z)
        if progress is not None:
            progress(len(out) - 1, steps)
    return torch.cat(out).numpy()
