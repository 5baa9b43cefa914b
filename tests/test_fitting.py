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


def test_held_out_items_and_embedded_files_are_fitted_at_their_plugs_step_size(tiny_checkpoint, image_folder,
                                                                              monkeypatch):
    """Images fit at 0.1 (measured +0.6 dB held out on Fashion-MNIST over 0.05, docs/recipe.md); sounds and
    shapes at 0.05; a model of several parts at the smallest of its parts'."""
    import explorer.core.embed as embed
    import explorer.train.evaluate as evaluate
    from explorer.data import load_dataset
    from explorer.modalities import get_modality
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline
    from explorer.core.embed import read_signal
    from explorer.train import fitting

    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs["lr"])
        return fitting.fit_parts(*args, **kwargs)

    monkeypatch.setattr(evaluate, "fit_parts", spy)
    monkeypatch.setattr(embed, "fit_parts", spy)
    ckpt = load_checkpoint(tiny_checkpoint)
    data = load_dataset(str(image_folder), "image", resolution=16).split_like(ckpt.names)
    result = evaluate.evaluate(ckpt, data, max_items=2, fit_steps=2, grid_items=0)
    pipeline = DecodePipeline(ckpt, compile="off")
    picture = sorted(p for p in image_folder.rglob("*.png"))[0]
    list(embed.embed_steps(pipeline, read_signal(pipeline, str(picture)), steps=2))
    assert seen == [0.1, 0.1] and result["test"]["n"] == 2
    assert get_modality("audio").fit_lr == get_modality("shape").fit_lr == 0.05
    assert min(p.fit_lr for p in get_modality("audiovisual").parts.values()) == 0.05
