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


def evaluate(ckpt: Checkpoint, dataset: SignalSet, max_items: int = 200, fit_steps: int = 300,
             device: torch.device | str = "cpu", held_out_only: bool = False, seed: int = 0,
             fit_lle: bool = True) -> dict:
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
    coords = modality.coords(dataset.resolution)
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
        target = torch.from_numpy(train.values[[b for _, b in pairs]])
        result["train"] = _summary(modality.metrics(decode_values(model, z, coords).cpu(), target))
    test = dataset if held_out_only else dataset.test()
    if len(test.names):
        pick = sorted(rng.choice(len(test.names), min(max_items, len(test.names)), replace=False))
        target = torch.from_numpy(test.values[pick])
        z = run_fit(model, ckpt.latents, target, coords, steps=fit_steps, seed=seed, lle=fit_lle)
        result["test"] = _summary(modality.metrics(decode_values(model, z, coords).cpu(), target))
        result["test"]["fit_steps"] = fit_steps
        result["test"]["fit_loss"] = "rec+lle" if fit_lle else "rec"
    return result
