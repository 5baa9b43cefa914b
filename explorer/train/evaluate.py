"""Reconstruction quality of a checkpoint: training items as stored, held-out items after test-time fitting."""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.checkpoint import Checkpoint
from explorer.core.decode import decode_values
from explorer.data.dataset import SignalSet
from explorer.errors import ExplorerError
from explorer.modalities import get_modality
from explorer.train.fitting import run_fit


def _summary(metrics: dict[str, torch.Tensor]) -> dict:
    out = {k: float(v.mean()) for k, v in metrics.items()}
    out["n"] = int(next(iter(metrics.values())).shape[0])
    return out


def _coords(modality, dataset: SignalSet, pick) -> torch.Tensor:
    """The grid shared by all items, or the picked items' own sample points ``[M, P, k]``."""
    if dataset.coords is None:
        return modality.coords(dataset.resolution)
    return torch.from_numpy(dataset.coords[pick])


def _grid_summary(modality, model, z: torch.Tensor, dataset: SignalSet, pick, resolution: int, max_items: int) -> dict:
    """Metrics against each item's exact signal on a grid (shapes: Chamfer, IoU), for the first items."""
    grid = modality.coords((resolution,))
    rows = []
    for j in range(min(max_items, len(pick))):
        pred = decode_values(model, z[j : j + 1], grid)[0].cpu().numpy().reshape((resolution,) * 3)
        true = dataset.exact(int(pick[j]), grid.numpy()).reshape((resolution,) * 3)
        rows.append(modality.grid_metrics(pred, true))
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    return out | {"grid_items": len(rows), "grid_resolution": resolution}


def evaluate(ckpt: Checkpoint, dataset: SignalSet, max_items: int = 200, fit_steps: int = 300,
             device: torch.device | str = "cpu", held_out_only: bool = False, seed: int = 0,
             fit_lle: bool = True, grid_items: int = 16, grid_resolution: int = 48) -> dict:
    """``{"train": {...}, "test": {...}}`` with mean MSE and PSNR (images) per split.

    Training items are decoded from their stored latents; held-out items get latents by
    test-time fitting (L_rec + L_LLE, or L_rec alone with ``fit_lle=False``; network frozen). ``held_out_only`` treats every item of
    ``dataset`` as held out (a dataset other than the one the checkpoint was trained on).
    """
    modality = get_modality(ckpt.modality["name"])
    if dataset.modality != modality.name:
        raise ExplorerError(f"the checkpoint is a {modality.name} model but the data is {dataset.modality}")
    if tuple(dataset.resolution) != tuple(ckpt.modality["resolution"]) or dataset.channels != ckpt.modality["channels"]:
        raise ExplorerError(
            f"the data is {dataset.resolution} x {dataset.channels} channels but the checkpoint was trained on "
            f"{tuple(ckpt.modality['resolution'])} x {ckpt.modality['channels']}"
        )
    model = ckpt.build_model(device)
    grid = hasattr(modality, "grid_metrics") and dataset.exact is not None and grid_items > 0
    result: dict = {}
    rng = np.random.default_rng(seed)
    if not held_out_only:
        index = {n: i for i, n in enumerate(ckpt.names)}
        train = dataset.train()
        pairs = [(index[n], j) for j, n in enumerate(train.names) if n in index]
        if not pairs:
            raise ExplorerError("none of the dataset's training items are in the checkpoint; pass --data for held-out data")
        pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), min(max_items, len(pairs)), replace=False))]
        z = ckpt.latents[[a for a, _ in pairs]]
        pick = [b for _, b in pairs]
        target = torch.from_numpy(train.values[pick])
        coords = _coords(modality, train, pick)
        result["train"] = _summary(modality.metrics(decode_values(model, z, coords).cpu(), target))
        if grid:
            result["train"] |= _grid_summary(modality, model, z, train, pick, grid_resolution, grid_items)
    test = dataset if held_out_only else dataset.test()
    if len(test.names):
        pick = sorted(rng.choice(len(test.names), min(max_items, len(test.names)), replace=False))
        target = torch.from_numpy(test.values[pick])
        coords = _coords(modality, test, pick)
        z = run_fit(model, ckpt.latents, target, coords, steps=fit_steps, seed=seed, lle=fit_lle, loss_fn=modality.loss)
        result["test"] = _summary(modality.metrics(decode_values(model, z, coords).cpu(), target))
        if grid:
            result["test"] |= _grid_summary(modality, model, z, test, pick, grid_resolution, grid_items)
        result["test"]["fit_steps"] = fit_steps
        result["test"]["fit_loss"] = "rec+lle" if fit_lle else "rec"
    return result
