"""Conditional completion (GEM §4.4): hide part of a signal and let the manifold fill it in.

K latents are fitted from different starting points (``fitting.fit_k_ways``: the training latents
nearest to a first fit, or random ones as in GEM) with L_rec + L_LLE on the observed part only; each
decodes to a full signal. The baseline copies the hidden part from
the training signal closest on the visible part.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.modalities.masks import preset_image_mask
from explorer.models import part_field
from explorer.train.fitting import DEFAULT_STARTS, FitPart, FitProgress, fit_k_ways, last_latents

def complete_steps(pipeline, values: torch.Tensor, coords: torch.Tensor, hidden: np.ndarray, k: int = 4,
                   steps: int = 300, part=None, seed: int = 0, starts: str = DEFAULT_STARTS) -> Iterator[FitProgress]:
    """Fit K latents to the visible part of ``values [1, P, C]`` from K different starts (``fit_k_ways``):
    progress after every step (close the generator to cancel); the last progress holds the ``[K, d]`` latents."""
    pipeline.check_fittable()
    hidden = torch.as_tensor(np.asarray(hidden, bool)).reshape(1, -1)
    if bool(hidden.all()):
        raise ExplorerError("the mask hides the whole signal: nothing is left to complete from")
    if not bool(hidden.any()):
        raise ExplorerError("the mask hides nothing")
    plug = pipeline.parts[part]
    field = part_field(pipeline.model, part)

    def parts_for(m: int) -> list[FitPart]:
        c = coords if coords.ndim == 2 else coords.expand(m, -1, -1)
        return [FitPart(field, values.expand(m, -1, -1), c, mask=(~hidden).expand(m, -1), loss_fn=plug.loss)]

    return fit_k_ways(pipeline.ckpt.latents, parts_for, k, steps, starts, seed, cache=pipeline.bank_decodes,
                      precision=pipeline.part_precision[part])


def complete(pipeline, values: torch.Tensor, coords: torch.Tensor, hidden: np.ndarray, k: int = 4,
             steps: int = 300, part=None, seed: int = 0, starts: str = DEFAULT_STARTS) -> np.ndarray:
    """``[K, d]`` latents fitted to the visible part of ``values [1, P, C]`` from K different starts."""
    return last_latents(complete_steps(pipeline, values, coords, hidden, k, steps, part, seed, starts))


def hidden_psnr(pred: np.ndarray, truth: np.ndarray, hidden: np.ndarray) -> float:
    """PSNR on [0, 1] pixels of the hidden part (field values in [-1, 1])."""
    p = (np.clip(pred, -1, 1) + 1) / 2
    t = (truth + 1) / 2
    mse = float(((p - t)[..., hidden.reshape(-1), :] ** 2).mean())
    return 10 * np.log10(1 / max(mse, 1e-10))


def nearest_neighbour_fill(train_values: np.ndarray, values: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The baseline: the training signal closest on the visible part, its hidden part copied in."""
    vis = ~hidden.reshape(-1)
    d = ((train_values[:, vis] - values[0, vis]) ** 2).reshape(len(train_values), -1).mean(1)
    out = values[0].copy()
    out[~vis] = train_values[int(np.argmin(d))][~vis]
    return out[None]


def completion_benchmark(pipeline, train_values: np.ndarray, test_values: np.ndarray, mask_name: str,
                         k: int = 4, steps: int = 300, starts: str = DEFAULT_STARTS) -> dict:
    """Image checkpoints: hidden-part PSNR of GEM completions (the first start, and the best of K) on
    held-out images, next to the nearest-neighbour baseline."""
    res = pipeline.resolution()
    hidden = preset_image_mask(mask_name, *res)
    coords = pipeline.plug.coords(res)
    first, best, nn = [], [], []
    for i in range(len(test_values)):
        v = torch.from_numpy(test_values[i : i + 1])
        z = complete(pipeline, v, coords, hidden, k, steps, seed=i, starts=starts)
        decoded = pipeline.values(z).numpy()
        scores = [hidden_psnr(decoded[j : j + 1], test_values[i : i + 1], hidden) for j in range(k)]
        first.append(scores[0])
        best.append(max(scores))
        nn.append(hidden_psnr(nearest_neighbour_fill(train_values, test_values[i : i + 1], hidden),
                              test_values[i : i + 1], hidden))
    return {"mask": mask_name, "items": len(test_values), "k": k, "fit_steps": steps, "starts": starts,
            "gem_psnr_first": float(np.mean(first)), "gem_psnr_best_of_k": float(np.mean(best)),
            "nearest_neighbour_psnr": float(np.mean(nn))}
