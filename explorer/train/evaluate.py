"""Reconstruction quality of a checkpoint: training items as stored, held-out items after test-time fitting."""
from __future__ import annotations

import numpy as np
import torch

from explorer.models.checkpoint import Checkpoint
from explorer.models.decode import decode_values
from explorer.data.dataset import SignalSet, spread
from explorer.errors import ExplorerError
from explorer.modalities import checkpoint_plug, part_precisions, plug_parts
from explorer.models import part_field
from explorer.train.fitting import FitPart, fit_from_closest, fit_parts, whole_fit_options


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
    """Metrics against each item's exact signal on a grid (shapes: Chamfer, IoU), for ``max_items`` items
    spread over ``pick`` (sorted by name: the first ones would all be of the first category)."""
    grid = modality.coords((resolution,))
    rows = []
    for j in spread(len(pick), max_items):
        pred = decode_values(model, z[j : j + 1], grid)[0].cpu().numpy().reshape((resolution,) * 3)
        true = dataset.exact(int(pick[j]), grid.numpy()).reshape((resolution,) * 3)
        rows.append(modality.grid_metrics(pred, true))
    return summarise_grid_rows(rows) | {"grid_resolution": resolution}


def summarise_grid_rows(rows: list[dict]) -> dict:
    """Per-item grid metrics -> mean and median of each over the items it is finite for, and the counts."""
    # an item whose exact signal gives nothing to compare with on this grid has only NaN metrics: not scored
    unscored = sum(all(np.isnan(v) for v in r.values()) for r in rows)
    out = {}
    for k in rows[0]:
        vals = np.array([r[k] for r in rows], dtype=np.float64)
        finite = vals[np.isfinite(vals)]
        out[k] = float(finite.mean()) if len(finite) else None
        # the median beside the mean: one stray speck far from a surface does not dominate it
        out[f"{k}_median"] = float(np.median(finite)) if len(finite) else None
    # a decode with no surface at all has no Chamfer distance: counted, not averaged in as infinity
    empty = sum(np.isposinf(r.get("chamfer", 0.0)) for r in rows)
    return out | {"grid_items": len(rows), "empty_surfaces": int(empty), "unscored_items": int(unscored)}


def _check_shape(info: dict, data: SignalSet, where: str = "") -> None:
    if tuple(data.resolution) != tuple(info["resolution"]) or data.channels != info["channels"]:
        raise ExplorerError(
            f"the {where}data is {data.resolution} x {data.channels} channels but the checkpoint was trained on "
            f"{tuple(info['resolution'])} x {info['channels']}"
        )


def _measure(parts: dict, model, z: torch.Tensor, data: SignalSet, pick, grid: dict) -> dict:
    """Metrics of every part of the picked items decoded from ``z`` (one dict, or one per part)."""
    out = {}
    for key, plug in parts.items():
        d = data if key is None else data.parts[key]
        field = part_field(model, key)
        target = torch.from_numpy(d.values[pick])
        signals = None if d.signals is None else torch.from_numpy(d.signals[pick])
        pred = decode_values(field, z, _coords(plug, d, pick)).cpu()
        if not torch.isfinite(pred).all():  # overflowing or damaged weights: no "psnr nan" reported as a result
            raise ExplorerError("the model decodes NaN or infinite values for these latents; its weights may be "
                                "damaged or overflow, so nothing was measured")
        labels = {k: [v[i] for i in pick] for k, v in d.labels.items()}
        summary = _summary(plug.metrics(pred, target, signals=signals, resolution=d.resolution, labels=labels))
        if hasattr(plug, "grid_metrics") and d.exact is not None and grid["items"] > 0:
            summary |= _grid_summary(plug, field, z, d, pick, grid["resolution"], grid["items"])
        if key is None:
            return summary
        out[key] = summary
    return out


def fit_items(ckpt: Checkpoint, model, modality, data: SignalSet, pick, steps: int = 300, seed: int = 0,
              lle: bool = True, precision: str = "fp32", device="cpu", on_step=None, init: str = "mean",
              k: int = 4) -> torch.Tensor:
    """``[M, d]`` latents of the picked items of (prepared) ``data`` by test-time fitting on every part at
    once (GEM §4.4; network frozen), in bfloat16 only where every part may run in it
    (``modalities.part_precisions``). ``init``: "mean", "best" (``fit_parts``) or "closest" (``k`` fits per
    item from its k closest training latents, the closest decode kept: ``fit_from_closest``).
    ``on_step(step, steps)`` hears every step."""
    fit = []
    for key, plug in plug_parts(modality).items():
        d = data if key is None else data.parts[key]
        fit.append(FitPart(part_field(model, key), torch.from_numpy(d.values[pick]), _coords(plug, d, pick),
                           loss_fn=plug.loss))
    fit_precision = "bf16" if all(v == "bf16" for v in part_precisions(modality, precision, device).values()) \
        else "fp32"
    options = dict(steps=steps, seed=seed, lle=lle, precision=fit_precision, **whole_fit_options(ckpt.latents))
    fits = fit_from_closest(ckpt.latents, fit, k, **options) if init == "closest" else \
        fit_parts(ckpt.latents, fit, init=init, **options)
    last = None
    for last in fits:
        if on_step is not None:
            on_step(last.step, steps)
    if last is None:
        raise ExplorerError("fitting needs at least one step")
    return last.latents.clone()


def evaluate(ckpt: Checkpoint, dataset: SignalSet, max_items: int = 200, fit_steps: int = 300,
             device: torch.device | str = "cpu", seed: int = 0,
             fit_lle: bool = True, grid_items: int = 16, grid_resolution: int = 64, precision: str = "fp32",
             report=None, fit_init: str = "mean", fit_k: int = 4) -> dict:
    """``{"train": {...}, "test": {...}}`` with the modality's mean metrics (per part for multi-field models).

    Training items are decoded from their stored latents; held-out items get latents by
    test-time fitting (L_rec + L_LLE, or L_rec alone with ``fit_lle=False``; network frozen),
    on every part at once. A dataset rebuilt elsewhere keeps the checkpoint's split with
    ``SignalSet.split_like``; one marked all held out (``SignalSet.with_test_flags``) is all fitted. ``precision`` (auto|fp32|bf16) is that
    of the held-out fits (``modalities.part_precisions``); decodes are measured in float32.
    ``report(stage, done, total)`` hears the progress: "decoding", "fitting" (every step), "measuring".
    """
    report = report or (lambda stage, done, total: None)
    modality = checkpoint_plug(ckpt)
    if dataset.modality != modality.name:
        raise ExplorerError(f"the checkpoint is a {modality.name} model but the data is {dataset.modality}")
    dataset = modality.prepare(dataset)
    parts = plug_parts(modality)
    for key in parts:
        if key is None:
            _check_shape(ckpt.modality, dataset)
        else:
            _check_shape(ckpt.modality["parts"][key], dataset.parts[key], f"{key} ")
    model = ckpt.build_model(device)
    grid = {"items": grid_items, "resolution": grid_resolution}
    result: dict = {}
    rng = np.random.default_rng(seed)
    if not dataset.is_test.all():
        index = {n: i for i, n in enumerate(ckpt.names)}
        train = dataset.train()
        pairs = [(index[n], j) for j, n in enumerate(train.names) if n in index]
        if not pairs:
            raise ExplorerError("none of the dataset's training items are in the checkpoint; pass --data for held-out data")
        pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), min(max_items, len(pairs)), replace=False))]
        z = ckpt.latents[[a for a, _ in pairs]]
        report("decoding", 0, 1)
        result["train"] = _measure(parts, model, z, train, [b for _, b in pairs], grid)
        report("decoding", 1, 1)
    test = dataset.test()
    if len(test.names):
        pick = sorted(rng.choice(len(test.names), min(max_items, len(test.names)), replace=False))
        z = fit_items(ckpt, model, modality, test, pick, fit_steps, seed, fit_lle, precision, device,
                      on_step=lambda step, steps: report("fitting", step, steps), init=fit_init, k=fit_k)
        report("measuring", 0, 1)
        result["test"] = _measure(parts, model, z, test, pick, grid)
        report("measuring", 1, 1)
        result["test"] |= {"fit_steps": fit_steps, "fit_loss": "rec+lle" if fit_lle else "rec", "fit_init": fit_init}
        if fit_init == "closest":
            result["test"]["fit_k"] = fit_k
    return result
