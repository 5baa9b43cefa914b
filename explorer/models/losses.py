"""GEM's three losses (Du et al. 2021, section 4): reconstruction, LLE and local isometry."""
from __future__ import annotations

import torch


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """GEM eq. 4: mean squared error over the sampled coordinates. ``pred, target: [B, P, C]``."""
    return torch.mean((pred - target) ** 2)


def nearest_latents(z: torch.Tensor, bank: torch.Tensor, k: int, exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Indices ``[B, k]`` of the k nearest rows of ``bank [N, d]`` to each ``z [B, d]``.

    ``exclude [B]`` (optional) is each query's own row in the bank, which is never its own neighbour.
    """
    with torch.no_grad():
        dist = torch.cdist(z.detach(), bank.detach())  # [B, N]
        if exclude is not None:
            dist[torch.arange(z.shape[0], device=z.device), exclude] = float("inf")
        k = min(k, bank.shape[0] - (1 if exclude is not None else 0))
        return torch.topk(dist, k, dim=1, largest=False).indices


def lle_weights(z: torch.Tensor, neighbours: torch.Tensor, reg: float = 1e-3) -> torch.Tensor:
    """Sum-to-one weights ``w [B, k]`` minimising ``||z - sum_j w_j n_j||^2`` (GEM eq. 5).

    ``z: [B, d]``, ``neighbours: [B, k, d]``. Solves ``G w = 1`` with the local Gram matrix
    ``G = (z - n)(z - n)^T`` and normalises; ``G`` is regularised by ``reg * trace(G)`` (as in
    Roweis & Saul's LLE) plus a tiny absolute term, so the solve never fails when ``k >= d`` or
    when neighbours coincide. Differentiable with respect to ``z`` and the neighbours.
    """
    diff = z[:, None, :] - neighbours  # [B, k, d]
    gram = diff @ diff.transpose(1, 2)  # [B, k, k]
    k = gram.shape[-1]
    trace = gram.diagonal(dim1=1, dim2=2).sum(-1)  # [B]
    eye = torch.eye(k, device=z.device, dtype=z.dtype)
    ridge = (reg * trace + 1e-9)[:, None, None] * eye
    w = torch.linalg.solve(gram + ridge, torch.ones(z.shape[0], k, 1, device=z.device, dtype=z.dtype)).squeeze(-1)
    return w / w.sum(dim=1, keepdim=True)


def lle_projection(z: torch.Tensor, neighbours: torch.Tensor, reg: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """``z' = sum_j w_j n_j``: the best projection of ``z`` onto its neighbours' affine region."""
    w = lle_weights(z, neighbours, reg)
    return torch.einsum("bk,bkd->bd", w, neighbours), w


def negative_weight_penalty(w: torch.Tensor) -> torch.Tensor:
    """GEM's L1 penalty on negative LLE weights, encouraging convex combinations. ``w: [B, k]``."""
    return torch.relu(-w).sum(dim=1).mean()


def isometry_loss(z: torch.Tensor, signals: torch.Tensor, log_alpha: torch.Tensor, quantile: float = 0.25) -> torch.Tensor:
    """GEM eq. 7: ``| alpha ||z_i - z_j|| - ||I_i - I_j|| |`` on the closest ``quantile`` of signal pairs.

    ``z: [B, d]``, ``signals: [B, D]`` (whole signals, flattened). Signal distances are RMS
    (``||I_i - I_j|| / sqrt(D)``) so the scale does not depend on the resolution;
    ``alpha = exp(log_alpha)`` is learnt.
    """
    b = z.shape[0]
    if b < 2:
        return z.new_zeros(())
    iu = torch.triu_indices(b, b, offset=1, device=z.device)
    dz = torch.cdist(z, z)[iu[0], iu[1]]
    with torch.no_grad():
        ds = torch.cdist(signals, signals)[iu[0], iu[1]] / signals.shape[1] ** 0.5
        keep = ds <= torch.quantile(ds, quantile)
    return torch.abs(log_alpha.exp() * dz[keep] - ds[keep]).mean()


def forward_difference(values: torch.Tensor) -> torch.Tensor:
    """``y[j+1] - y[j]`` along the sample axis of ``values [N, P, C]`` (0 at the last sample)."""
    diff = torch.zeros_like(values)
    diff[:, :-1] = values[:, 1:] - values[:, :-1]
    return diff


def derivative_loss(pred: torch.Tensor, coords: torch.Tensor, target_diff: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Zuiderveld thesis eq. 4.7, second term: MSE between the field's derivative and the target's forward difference.

    ``pred: [B, M, C]`` was computed from ``coords: [B, M, 1]`` (``requires_grad``); the field's
    derivative d pred / d t (autograd, kept in the graph) is converted to per-sample units
    (one sample is ``2 / n_samples`` in t) to compare with ``target_diff: [B, M, C]``.
    """
    (grad,) = torch.autograd.grad(pred.sum(), coords, create_graph=True)  # [B, M, 1], C == 1 fields
    return torch.mean((grad * (2.0 / n_samples) - target_diff) ** 2)


def multires_stft_loss(pred: torch.Tensor, target: torch.Tensor, stride: int,
                       sizes: tuple[int, ...] = (400, 800, 1600, 3200)) -> torch.Tensor:
    """Thesis eq. 4.7's optional term: mean over window sizes of the MSE between STFT magnitudes.

    ``pred, target: [B, M, 1]`` are evenly strided samples (every ``stride``-th of the clip), so
    each window of ``s`` samples of the full rate spans ``s / stride`` of them (at least 16, at
    most half the clip).
    """
    p, t = pred[..., 0], target[..., 0]
    m = p.shape[1]
    terms = []
    for s in sizes:
        n_fft = int(min(max(16, s // max(1, stride)), m // 2))
        window = torch.hamming_window(n_fft, device=p.device, dtype=p.dtype)
        mag = [torch.stft(x, n_fft, hop_length=max(1, n_fft // 4), window=window, center=True,
                          return_complex=True).abs() for x in (p, t)]
        terms.append(torch.mean((mag[0] - mag[1]) ** 2))
    return torch.stack(terms).mean()
