"""Test-time fitting (GEM section 4.4): latents for unseen signals with the network frozen.

Optimises ``L_rec + L_LLE`` on all coordinates or on an observed (masked) subset of them; the LLE
term projects each latent onto the affine region of its k nearest training latents and asks that
projection to reconstruct the signal too, which keeps fitted latents on the learned manifold.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from explorer.models.losses import lle_projection, nearest_latents, negative_weight_penalty, reconstruction_loss


@dataclass
class FitProgress:
    step: int
    steps: int
    loss: float
    latents: torch.Tensor
    """``[M, d]``: the current latents (detached)."""


@contextmanager
def frozen(model: torch.nn.Module):
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)


def fit_latents(
    model: torch.nn.Module,
    bank: torch.Tensor,
    targets: torch.Tensor,
    coords: torch.Tensor,
    mask: torch.Tensor | None = None,
    steps: int = 300,
    lr: float = 5e-2,
    lle: bool = True,
    k: int = 10,
    coords_per_signal: int = 256,
    init: str = "mean",
    seed: int = 0,
    negative_weight: float = 1.0,
    loss_fn=reconstruction_loss,
) -> Iterator[FitProgress]:
    """Yield progress after every step; the last yield holds the fitted latents.

    ``bank: [N, d]`` training latents; ``targets: [M, P, C]`` field values; ``coords: [P, k]``
    (shared) or ``[M, P, k]`` (per signal); ``loss_fn``: the modality's reconstruction loss;
    ``mask: [M, P]`` bool, True where the signal is observed (None: everywhere).
    ``init``: "mean" (every latent starts at the mean training latent) or "random" (each starts
    at a random training latent — different starts give different completions).
    """
    device = next(model.parameters()).device
    bank = bank.detach().to(device)
    targets = targets.to(device)
    coords = coords.to(device)
    m, p = targets.shape[0], targets.shape[1]
    gen = torch.Generator().manual_seed(seed)
    if init == "random":
        z0 = bank[torch.randint(bank.shape[0], (m,), generator=gen).to(device)]
    else:
        z0 = bank.mean(0, keepdim=True).expand(m, -1)
    z = torch.nn.Parameter(z0.clone())
    opt = torch.optim.Adam([z], lr=lr)
    weights = (mask if mask is not None else torch.ones(m, p, dtype=torch.bool)).float()
    n_obs = int(weights.sum(1).min().item())
    n = min(coords_per_signal, n_obs) if n_obs > 0 else 0
    if n == 0:
        raise ValueError("every signal needs at least one observed coordinate")
    with frozen(model):
        for step in range(1, steps + 1):
            idx = torch.multinomial(weights, n, replacement=False, generator=gen).to(device)  # [M, n]
            c = coords[idx] if coords.ndim == 2 else coords[torch.arange(m, device=device)[:, None], idx]  # [M, n, k]
            t = torch.gather(targets, 1, idx[..., None].expand(-1, -1, targets.shape[-1]))
            loss = loss_fn(model(z, c), t)
            if lle:
                nb = bank[nearest_latents(z, bank, k)]  # [M, k, d]
                z_proj, w = lle_projection(z, nb)
                loss = loss + loss_fn(model(z_proj, c), t) + negative_weight * negative_weight_penalty(w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            yield FitProgress(step, steps, float(loss.detach()), z.detach())


def run_fit(*args, **kwargs) -> torch.Tensor:
    """``fit_latents`` to the end; returns the fitted latents ``[M, d]``."""
    progress = None
    for progress in fit_latents(*args, **kwargs):
        pass
    if progress is None:
        raise ValueError("fitting needs at least one step")
    return progress.latents.clone()
