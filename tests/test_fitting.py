"""Test-time fitting's starting points: ``init="best"`` starts each fit at the training latent whose decode is
closest to the signal."""
from __future__ import annotations

import json

import torch

from conftest import run_cli


def test_best_start_is_the_training_latent_that_decodes_the_signal(tiny_checkpoint):
    from explorer.models.checkpoint import load_checkpoint
    from explorer.modalities import checkpoint_plug
    from explorer.models.decode import decode_values
    from explorer.train.fitting import FitPart, best_starts

    ckpt = load_checkpoint(tiny_checkpoint)
    model, plug = ckpt.build_model(), checkpoint_plug(ckpt)
    coords = plug.coords(tuple(ckpt.modality["resolution"]))
    targets = decode_values(model, ckpt.latents[[3, 7]], coords)  # what items 3 and 7 decode to
    assert best_starts(ckpt.latents, [FitPart(model, targets, coords, loss_fn=plug.loss)]).tolist() == [3, 7]
    # seen only in part (completion's masks), and at coordinates of its own: the same items
    mask = torch.zeros(targets.shape[:2], dtype=torch.bool)
    mask[:, : targets.shape[1] // 2] = True
    own = coords[None].expand(2, -1, -1)
    assert best_starts(ckpt.latents, [FitPart(model, targets, coords, mask, plug.loss)]).tolist() == [3, 7]
    assert best_starts(ckpt.latents, [FitPart(model, targets, own, loss_fn=plug.loss)], chunk_points=500).tolist() == [3, 7]


def test_eval_records_where_its_fits_started(tiny_checkpoint):
    out = json.loads(run_cli("eval", str(tiny_checkpoint), "--json", "--max-items", "4", "--fit-steps", "5",
                             "--fit-init", "best").stdout)
    assert out["test"]["fit_init"] == "best" and out["test"]["n"] == 4
