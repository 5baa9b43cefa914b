"""Test-time fitting (GEM section 4.4): latents for unseen signals with the network frozen.

Optimises ``L_rec + L_LLE`` on all coordinates or on an observed (masked) subset of them; the LLE
term projects each latent onto the affine region of its k nearest training latents and asks that
projection to reconstruct the signal too, which keeps fitted latents on the learned manifold.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from explorer.io.progress import run_to_end
from explorer.train.bank_decodes import BankDecodes
from explorer.models.decode import decode_values
from explorer.models.losses import lle_projection, nearest_latents, negative_weight_penalty, reconstruction_loss
from explorer.models.precision import autocast


STEP = 5e-2
"""Adam's step size for a fitted latent: ``fit_parts``'s default, and ``fit_step_size``'s least."""
STEP_PER_SPREAD = 0.025
"""``fit_step_size``'s fraction of the training latents' spread, where it is larger than ``STEP`` (docs/recipe.md)."""
WHOLE_FIT_COORDS = 1024
"""Coordinates per step of a fit to a whole signal (``whole_fit_options``): every pixel of a 28 x 28 image. At
``fit_parts``'s 256 those fits were noisy: 1 024 measured better on Fashion-MNIST, the notes and the furniture
(docs/recipe.md, 2026-12-04)."""


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


@dataclass
class FitPart:
    """What one field of the model must reconstruct: ``targets [M, P, C]`` at ``coords`` ``[P, k]``
    (shared) or ``[M, P, k]`` (per signal), where ``mask [M, P]`` is True (None: everywhere)."""

    field: torch.nn.Module
    targets: torch.Tensor
    coords: torch.Tensor
    mask: torch.Tensor | None = None
    loss_fn: object = reconstruction_loss


def fit_latents(
    model: torch.nn.Module,
    bank: torch.Tensor,
    targets: torch.Tensor,
    coords: torch.Tensor,
    mask: torch.Tensor | None = None,
    loss_fn=reconstruction_loss,
    **options,
) -> Iterator[FitProgress]:
    """Yield progress after every step; the last yield holds the fitted latents.

    ``bank: [N, d]`` training latents; ``targets: [M, P, C]`` field values; ``coords: [P, k]``
    (shared) or ``[M, P, k]`` (per signal); ``loss_fn``: the modality's reconstruction loss;
    ``mask: [M, P]`` bool, True where the signal is observed (None: everywhere). Other options
    as ``fit_parts``.
    """
    return fit_parts(bank, [FitPart(model, targets, coords, mask, loss_fn)], **options)


def fit_parts(
    bank: torch.Tensor,
    parts: list[FitPart],
    steps: int = 300,
    lr: float = STEP,
    lle: bool = True,
    k: int = 10,
    coords_per_signal: int = 256,
    init: str | torch.Tensor = "mean",
    seed: int = 0,
    negative_weight: float = 1.0,
    precision: str = "fp32",
) -> Iterator[FitProgress]:
    """Fit one latent per signal to every part at once (fields sharing a latent: the sum of their
    losses); a part left out is not observed — that is how one modality hallucinates another.

    ``init``: "mean" (every latent starts at the mean training latent), "random" (each starts
    at a random training latent — different starts give different completions), "best" (each
    starts at the training latent whose decode is closest to its signal, ``best_starts``), or the
    ``[M, d]`` starts themselves. ``precision``: "fp32" or "bf16" (``models.precision``); the
    latents and the optimiser stay float32 either way.
    """
    device = next(parts[0].field.parameters()).device
    bank = bank.detach().to(device)
    m = parts[0].targets.shape[0]
    gen = torch.Generator().manual_seed(seed)
    prepared = []
    for part in parts:
        targets, coords = part.targets.to(device), part.coords.to(device)
        p = targets.shape[1]
        weights = (part.mask if part.mask is not None else torch.ones(m, p, dtype=torch.bool)).float()
        n_obs = int(weights.sum(1).min().item())
        if n_obs == 0:
            raise ValueError("every signal needs at least one observed coordinate")
        prepared.append((part, targets, coords, weights, min(coords_per_signal, n_obs)))
    if isinstance(init, torch.Tensor):  # the starts themselves
        z0 = init.to(device).reshape(m, -1)
    elif init == "random":
        z0 = bank[torch.randint(bank.shape[0], (m,), generator=gen).to(device)]
    elif init == "best":
        z0 = bank[best_starts(bank, parts, seed=seed, precision=precision).to(device)]
    else:
        z0 = bank.mean(0, keepdim=True).expand(m, -1)
    z = torch.nn.Parameter(z0.clone())
    opt = torch.optim.Adam([z], lr=lr)
    with ExitStack() as stack:
        for part in parts:
            stack.enter_context(frozen(part.field))
        for step in range(1, steps + 1):
            batches = []
            for part, targets, coords, weights, n in prepared:
                idx = torch.multinomial(weights, n, replacement=False, generator=gen).to(device)  # [M, n]
                c = coords[idx] if coords.ndim == 2 else coords[torch.arange(m, device=device)[:, None], idx]
                t = torch.gather(targets, 1, idx[..., None].expand(-1, -1, targets.shape[-1]))
                batches.append((part, c, t))
            if lle:  # the latents and their LLE projections in one decode: [2M, ...]
                nb = bank[nearest_latents(z, bank, k)]  # [M, k, d]
                z_proj, w = lle_projection(z, nb)
                latents = torch.cat([z, z_proj])
            else:
                latents = z
            loss = 0.0
            for part, c, t in batches:
                with autocast(precision, device):
                    pred = part.field(latents, torch.cat([c, c]) if lle else c).float()  # [M or 2M, n, C]
                loss = loss + part.loss_fn(pred[:m], t)
                if lle:
                    loss = loss + part.loss_fn(pred[m:], t)
            if lle:
                loss = loss + negative_weight * negative_weight_penalty(w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            yield FitProgress(step, steps, float(loss.detach()), z.detach())


def best_starts(bank: torch.Tensor, parts: list[FitPart], **options) -> torch.Tensor:
    """``[M]``: for each signal, the index of the training latent whose decode has the lowest loss
    (summed over the parts) on up to ``coords_per_signal`` of its observed coordinates (``closest_latents``)."""
    return closest_latents(bank, parts, 1, **options)[:, 0]


@torch.no_grad()
def closest_latents(bank: torch.Tensor, parts: list[FitPart], k: int, coords_per_signal: int = 256,
                    chunk_points: int = 1 << 20, seed: int = 0, precision: str = "fp32",
                    cache: BankDecodes | None = None) -> torch.Tensor:
    """``[M, min(k, N)]``: for each signal, the indices of the ``k`` training latents whose decodes have the
    lowest loss (summed over the parts) on up to ``coords_per_signal`` of its observed coordinates, closest first.

    A fit that starts there begins on a surface, a garment or a note of the right kind instead of at
    the mean latent, whose decode is a blur (for shapes often no surface at all). Where a part's
    coordinates are shared by every signal (a grid), each signal is compared on its first observed
    coordinates in one fixed random order, and every training latent is decoded once at the coordinates
    the signals need, through ``cache`` where one is given (``BankDecodes``: a later call decodes only what
    an earlier one did not); else once per signal at its own. ``chunk_points`` bounds the points decoded
    at a time.
    """
    device = next(parts[0].field.parameters()).device
    bank = bank.detach().to(device)
    n, m = bank.shape[0], parts[0].targets.shape[0]
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(m, n, device=device)
    for part in parts:
        targets, coords = part.targets.to(device), part.coords.to(device)
        p = targets.shape[1]
        seen = _seen(part, m, p)
        if coords.ndim == 2:  # coordinates shared by every signal: one decode of the bank serves them all
            picks = _first_seen(seen, coords_per_signal)
            needed = torch.unique(torch.cat(picks))
            kept = cache if cache is not None else BankDecodes()
            decoded = kept.columns(part.field, bank, coords, needed, precision, chunk_points)  # [N, len(needed), C]
            for i in range(m):
                cols = torch.searchsorted(needed, picks[i]).to(device)
                t = targets[i, picks[i].to(device)][None].expand(n, -1, -1)
                total[i] += _item_losses(part.loss_fn, decoded[:, cols], t)
            continue
        for i in range(m):
            observed = torch.nonzero(seen[i]).flatten()
            pick = observed[torch.randperm(len(observed), generator=gen)[:coords_per_signal]].to(device)
            with autocast(precision, device):
                pred = decode_values(part.field, bank, coords[i, pick], chunk_points).float()  # [N, P', C]
            total[i] += _item_losses(part.loss_fn, pred, targets[i, pick][None].expand(n, -1, -1))
    return total.topk(min(k, n), dim=1, largest=False).indices.cpu()


def fit_from_closest(bank: torch.Tensor, parts: list[FitPart], k: int, steps: int = 300, seed: int = 0,
                     precision: str = "fp32", cache: BankDecodes | None = None, **options) -> Iterator[FitProgress]:
    """Fit every signal K times at once, from its K closest training latents (``closest_latents``), and end
    on the fit whose decode comes closest to the signal (``lowest_loss``): where one start falls into a wrong
    basin (a note an octave off, a garment of the wrong kind), another may not. Progress (every step, once)
    shows the fits from the closest starts; the last step's yield holds the chosen latents ``[M, d]``. K times the
    work of one fit. Options as ``fit_parts``'s."""
    m = parts[0].targets.shape[0]
    near = closest_latents(bank, parts, k, coords_per_signal=CLOSEST_COORDS, seed=seed, precision=precision,
                           cache=cache)  # [M, K]
    k = near.shape[1]
    copies = [FitPart(p.field, p.targets.repeat_interleave(k, 0),
                      p.coords if p.coords.ndim == 2 else p.coords.repeat_interleave(k, 0),
                      None if p.mask is None else p.mask.repeat_interleave(k, 0), p.loss_fn) for p in parts]
    last = None
    for last in fit_parts(bank, copies, steps=steps, init=bank[near.flatten()], seed=seed, precision=precision,
                          **options):
        if last.step < steps:  # the last step is reported once, with the chosen fits
            yield FitProgress(last.step, steps, last.loss, last.latents[::k])
    if last is None:
        return
    z = last.latents.reshape(m, k, -1)
    chosen = lowest_loss(parts, z, precision=precision)
    yield FitProgress(steps, steps, last.loss, z[torch.arange(m), chosen.to(z.device)])


SELECT_COORDS = 4096
"""Observed coordinates on which ``lowest_loss`` compares a signal's fits."""


@torch.no_grad()
def lowest_loss(parts: list[FitPart], z: torch.Tensor, coords_per_signal: int = SELECT_COORDS,
                precision: str = "fp32") -> torch.Tensor:
    """``[M]``: of each signal's fitted latents ``z [M, K, d]``, the index of the one whose decode has the lowest
    loss (summed over the parts) on up to ``coords_per_signal`` of the signal's observed coordinates, the same
    ones for all K, in one fixed random order."""
    m, k = z.shape[:2]
    device = z.device
    total = torch.zeros(m, k, device=device)
    for part in parts:
        targets, coords = part.targets.to(device), part.coords.to(device)
        for i, pick in enumerate(_first_seen(_seen(part, m, targets.shape[1]), coords_per_signal)):
            pick = pick.to(device)
            c = coords[pick] if coords.ndim == 2 else coords[i, pick]
            with autocast(precision, device):
                pred = decode_values(part.field, z[i], c).float()  # [K, P', C]
            total[i] += _item_losses(part.loss_fn, pred, targets[i, pick][None].expand(k, -1, -1))
    return total.argmin(1).cpu()


def _seen(part: FitPart, m: int, p: int) -> torch.Tensor:
    """``[M, P]`` bool on the CPU: where each of the part's signals is observed."""
    return part.mask.cpu() if part.mask is not None else torch.ones(m, p, dtype=torch.bool)


def _first_seen(seen: torch.Tensor, n: int) -> list[torch.Tensor]:
    """Each signal's first ``n`` observed positions in one fixed random order of all ``P`` (the same order for
    every signal and every call, so that signals share positions where they can and kept decodes serve again)."""
    order = torch.randperm(seen.shape[1], generator=torch.Generator().manual_seed(0))
    return [order[row[order]][:n] for row in seen]


def _item_losses(loss_fn, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``[B]``: ``loss_fn`` of each of ``pred [B, P, C]`` against ``target [B, P, C]``, item by item."""
    return torch.func.vmap(lambda a, b: loss_fn(a[None], b[None]))(pred, target)


def whole_fit_options(bank: torch.Tensor) -> dict:
    """``fit_parts``'s step size and coordinates per step for a latent fitted to a whole signal (``eval``'s
    held-out items, a file embedded in the map): ``fit_step_size`` and ``WHOLE_FIT_COORDS``. Fits to part of a
    signal (completion, hallucination) keep ``fit_parts``'s defaults, at which their figures were measured."""
    return {"lr": fit_step_size(bank), "coords_per_signal": WHOLE_FIT_COORDS}


def fit_step_size(bank: torch.Tensor) -> float:
    """Adam's step size for a latent fitted to a whole signal (``eval``'s held-out items, a file embedded in
    the map): ``STEP`` (0.05), or ``STEP_PER_SPREAD`` of the training latents' spread (their mean
    per-dimension standard deviation) where that is larger.

    Adam moves every coordinate by about its step size whatever the gradient's scale, so 0.05 is too short
    for latents that spread wide: Fashion-MNIST's (spread 3.79) fit best at 0.1 (+0.6 dB held out). Where
    they spread less, 0.05 measured best or as good (notes 1.99, furniture 2.13, av-notes 0.90, where
    0.025 of the spread lost 1.8 dB of picture PSNR), and a fixed 0.1 threw the fits of a small model
    (spread 0.06) out of its latent cloud.
    """
    spread = float(bank.detach().float().std(0).mean()) if len(bank) > 1 else 0.0
    return max(STEP, STEP_PER_SPREAD * spread) if math.isfinite(spread) else STEP


STARTS = ("nearest", "random", "closest")
CLOSEST_COORDS = 256
"""Coordinates of the observation at which "closest" starts compare it with every training latent's decode."""
DEFAULT_STARTS = "closest"
"""Where the K fits of completion and hallucination start unless told: measured against "nearest" on
Fashion-MNIST completion and av-notes hallucination, better in every case (docs/recipe.md, 2026-12-04)."""


def fit_k_ways(bank: torch.Tensor, parts_for, k: int, steps: int = 300, starts: str = DEFAULT_STARTS, seed: int = 0,
               cache: BankDecodes | None = None, **options) -> Iterator[FitProgress]:
    """K latents fitted to the same observation from K different starts (completion, hallucination).

    ``parts_for(m)``: the ``FitPart`` list for ``m`` copies of the observation. ``starts``: "random"
    (K random training latents, GEM's different starting points), "nearest" (one latent is first
    fitted from the mean for a quarter of the steps; the K training latents nearest to it start the
    rest — starts in the right region of the manifold, still different ones) or "closest" (the K
    training latents whose decodes are closest to the observation, ``closest_latents``, closest first:
    a fit to one part of a pair starts from pairs whose part looks or sounds like it; ``cache`` keeps the
    training latents' decodes for the next call).
    """
    if starts not in STARTS:
        raise ValueError(f"starts must be one of {STARTS}")
    if starts == "closest":
        near = closest_latents(bank, parts_for(1), k, coords_per_signal=CLOSEST_COORDS, seed=seed,
                               precision=options.get("precision", "fp32"), cache=cache)[0]
        yield from fit_parts(bank, parts_for(len(near)), steps=steps, init=bank[near], seed=seed, **options)
        return
    if starts == "random" or steps < 4:
        yield from fit_parts(bank, parts_for(k), steps=steps, init="random", seed=seed, **options)
        return
    first = steps // 4
    last = None
    for last in fit_parts(bank, parts_for(1), steps=first, init="mean", seed=seed, **options):
        yield FitProgress(last.step, steps, last.loss, last.latents)
    near = nearest_latents(last.latents, bank.to(last.latents.device), k)[0]
    for progress in fit_parts(bank, parts_for(len(near)), steps=steps - first, init=bank[near.to(bank.device)],
                              seed=seed, **options):
        yield FitProgress(first + progress.step, steps, progress.loss, progress.latents)


def run_fit(*args, **kwargs) -> torch.Tensor:
    """``fit_latents`` to the end; returns the fitted latents ``[M, d]``."""
    return _last(fit_latents(*args, **kwargs))


def run_fit_parts(*args, **kwargs) -> torch.Tensor:
    """``fit_parts`` to the end; returns the fitted latents ``[M, d]``."""
    return _last(fit_parts(*args, **kwargs))


def last_latents(progresses: Iterator[FitProgress]) -> np.ndarray:
    """The fitted latents of a fit run to its end, on the CPU as numpy."""
    return _last(progresses).cpu().numpy()


def _last(progresses: Iterator[FitProgress]) -> torch.Tensor:
    return run_to_end(progresses, "fitting").latents.clone()
