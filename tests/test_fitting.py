"""Test-time fitting's starting points: ``init="best"`` starts each fit at the training latent whose decode is
closest to the signal."""
from __future__ import annotations

import json

import pytest
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


def test_k_fits_from_the_closest_starts_begin_at_the_items_whose_decodes_look_most_alike(tiny_checkpoint):
    """``--starts closest``: the K training latents whose decodes are closest to what is given, closest first
    (completion's and hallucination's default since 2026-12-04, docs/recipe.md)."""
    from explorer.models.checkpoint import load_checkpoint
    from explorer.modalities import checkpoint_plug
    from explorer.models.decode import decode_values
    from explorer.train.fitting import FitPart, closest_latents, fit_k_ways

    ckpt = load_checkpoint(tiny_checkpoint)
    model, plug = ckpt.build_model(), checkpoint_plug(ckpt)
    coords = plug.coords(tuple(ckpt.modality["resolution"]))
    target = decode_values(model, ckpt.latents[[5]], coords)  # what item 5 decodes to
    parts_for = lambda m: [FitPart(model, target.expand(m, -1, -1), coords, loss_fn=plug.loss)]  # noqa: E731
    near = closest_latents(ckpt.latents, parts_for(1), 3)[0]
    assert near[0] == 5 and len(set(near.tolist())) == 3
    losses = [float(plug.loss(decode_values(model, ckpt.latents[[int(i)]], coords), target)) for i in near]
    assert losses == sorted(losses)  # closest first: the first proposal is the likeliest
    first = next(iter(fit_k_ways(ckpt.latents, parts_for, 3, steps=10, starts="closest")))
    assert first.latents.shape == (3, ckpt.latents.shape[1])
    assert torch.linalg.vector_norm(first.latents - ckpt.latents[near], dim=1).max() < 0.2  # one step from them
    with pytest.raises(ValueError, match="starts"):
        next(iter(fit_k_ways(ckpt.latents, parts_for, 3, starts="anywhere")))


def test_a_second_completion_reuses_the_training_latents_decodes(tiny_checkpoint):
    """The closest starts decode every training latent; a pipeline keeps those decodes, so a second
    completion on the same checkpoint decodes only coordinates the first did not, and finds the same starts."""
    from explorer.core.complete import complete
    from explorer.core.pipeline import DecodePipeline
    from explorer.models.checkpoint import load_checkpoint
    from explorer.modalities.masks import preset_image_mask
    from explorer.train.fitting import CLOSEST_COORDS

    ckpt = load_checkpoint(tiny_checkpoint)
    pipeline = DecodePipeline(ckpt, device="cpu", precision="fp32")
    res = pipeline.resolution()
    coords = pipeline.plug.coords(res)
    values = pipeline.values(ckpt.latents[[5]].numpy(), res)  # what item 5 decodes to
    hidden = preset_image_mask("left-half", *res)
    first = complete(pipeline, values, coords, hidden, k=3, steps=1)
    decoded = pipeline.bank_decodes.decoded
    assert 0 < decoded <= min(CLOSEST_COORDS, int((~hidden).sum()))  # only seen pixels were compared
    again = complete(pipeline, values, coords, hidden, k=3, steps=1)
    assert pipeline.bank_decodes.decoded == decoded  # nothing decoded again
    assert torch.equal(torch.as_tensor(first), torch.as_tensor(again))
    fresh = complete(DecodePipeline(ckpt, device="cpu", precision="fp32"), values, coords, hidden, k=3, steps=1)
    assert torch.equal(torch.as_tensor(first), torch.as_tensor(fresh))  # the same as without a kept decode
    complete(pipeline, values, coords, preset_image_mask("centre", *res), k=3, steps=1)  # other pixels seen
    assert decoded < pipeline.bank_decodes.decoded < 2 * decoded


def test_the_command_line_offers_the_starts_fitting_knows_with_the_same_default():
    from explorer.cli import common
    from explorer.train import fitting

    assert common.STARTS == fitting.STARTS and common.DEFAULT_STARTS == fitting.DEFAULT_STARTS == "closest"


def test_eval_records_where_its_fits_started(tiny_checkpoint):
    out = json.loads(run_cli("eval", str(tiny_checkpoint), "--json", "--max-items", "4", "--fit-steps", "5",
                             "--fit-init", "best").stdout)
    assert out["test"]["fit_init"] == "best" and out["test"]["n"] == 4
    out = json.loads(run_cli("eval", str(tiny_checkpoint), "--json", "--max-items", "4", "--fit-steps", "5",
                             "--fit-init", "closest", "--k", "3").stdout)
    assert out["test"]["fit_init"] == "closest" and out["test"]["fit_k"] == 3 and out["test"]["n"] == 4


def test_a_fit_from_the_k_closest_starts_ends_on_the_one_that_decodes_closest(tiny_checkpoint):
    """``eval --fit-init closest``: K fits per item at once, from its K closest training latents; the one kept
    is the fit whose decode has the lowest loss on the item, never worse than the fit from the closest start."""
    from explorer.models.checkpoint import load_checkpoint
    from explorer.modalities import checkpoint_plug
    from explorer.models.decode import decode_values
    from explorer.io.progress import run_to_end
    from explorer.train.fitting import FitPart, closest_latents, fit_from_closest, fit_parts

    ckpt = load_checkpoint(tiny_checkpoint)
    model, plug = ckpt.build_model(), checkpoint_plug(ckpt)
    coords = plug.coords(tuple(ckpt.modality["resolution"]))
    # two signals no training item decodes: halfway between two items each
    targets = 0.5 * (decode_values(model, ckpt.latents[[1, 4]], coords) + decode_values(model, ckpt.latents[[6, 9]], coords))
    parts = [FitPart(model, targets, coords, loss_fn=plug.loss)]
    progress = list(fit_from_closest(ckpt.latents, parts, 3, steps=20))
    assert [p.step for p in progress[:3]] == [1, 2, 3] and progress[-1].latents.shape == (2, ckpt.latents.shape[1])
    kept = progress[-1].latents

    def loss(z, i):
        return float(plug.loss(decode_values(model, z[None], coords), targets[[i]]))

    assert [p.step for p in progress] == list(range(1, 21))  # each step reported once
    near = closest_latents(ckpt.latents, parts, 3)
    copies = [FitPart(model, targets.repeat_interleave(3, 0), coords, loss_fn=plug.loss)]
    every = run_to_end(fit_parts(ckpt.latents, copies, steps=20, init=ckpt.latents[near.flatten()]), "fitting").latents
    from_closest = every[::3]  # the fits from the closest starts
    for i in range(2):
        losses = [loss(z, i) for z in every[3 * i: 3 * i + 3]]
        assert loss(kept[i], i) == pytest.approx(min(losses), rel=1e-4)
        assert loss(kept[i], i) <= loss(from_closest[i], i) * (1 + 1e-4)
    assert any(loss(kept[i], i) < loss(from_closest[i], i) * 0.999 for i in range(2))  # another start won


def test_held_out_items_and_embedded_files_are_fitted_on_1024_coordinates_at_a_step_scaled_to_the_latents(
        tiny_checkpoint, image_folder, monkeypatch):
    """Adam's step is 0.05, or 0.025 of the training latents' spread where that is larger (docs/recipe.md:
    Fashion-MNIST's wide latents fit best at 0.1; a fixed 0.1 threw a small model's fits out of its cloud), and
    each step sees up to 1 024 of the signal's coordinates (256 left the fits noisy)."""
    import explorer.core.embed as embed
    import explorer.train.evaluate as evaluate
    from explorer.data import load_dataset
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.pipeline import DecodePipeline
    from explorer.core.embed import read_signal
    from explorer.train import fitting

    seen, sizes = [], []

    def spy(*args, **kwargs):
        seen.append(kwargs["lr"])
        sizes.append(kwargs["coords_per_signal"])
        return fitting.fit_parts(*args, **kwargs)

    monkeypatch.setattr(evaluate, "fit_parts", spy)
    monkeypatch.setattr(embed, "fit_parts", spy)
    ckpt = load_checkpoint(tiny_checkpoint)
    spread = float(ckpt.latents.std(0).mean())
    data = load_dataset(str(image_folder), "image", resolution=16).split_like(ckpt.names)
    result = evaluate.evaluate(ckpt, data, max_items=2, fit_steps=2, grid_items=0)
    pipeline = DecodePipeline(ckpt, compile="off")
    picture = sorted(p for p in image_folder.rglob("*.png"))[0]
    list(embed.embed_steps(pipeline, read_signal(pipeline, str(picture)), steps=2))
    assert spread < 1 and seen == [0.05, 0.05] and result["test"]["n"] == 2  # a small spread: the fixed step
    assert sizes == [fitting.WHOLE_FIT_COORDS] * 2 == [1024] * 2  # whole signals: 4 x fit_parts' 256 per step
    wide = ckpt.latents * (4 / spread)  # spread 4, about Fashion-MNIST's: 0.1
    assert fitting.fit_step_size(wide) == pytest.approx(0.1) and fitting.fit_step_size(wide * 2) == pytest.approx(0.2)
    assert fitting.fit_step_size(torch.zeros(5, 8)) == fitting.fit_step_size(torch.ones(1, 8)) == 0.05


def test_embed_can_fit_from_the_k_closest_starts(tiny_checkpoint, image_folder):
    """``embed --fit-init closest``: a training picture, embedded from its K closest starts, comes back at least as
    close as from the mean (on this tiny model only just); the progress counts the steps once."""
    from explorer.core import embed
    from explorer.core.pipeline import DecodePipeline
    from explorer.models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(tiny_checkpoint)
    picture = next(p for p in sorted(image_folder.rglob("*.png")) if p.relative_to(image_folder).as_posix() in ckpt.names)
    args = ("embed", str(tiny_checkpoint), str(picture), "--json", "--steps", "20")
    mean, closest = (json.loads(run_cli(*a).stdout) for a in (args, (*args, "--fit-init", "closest", "--k", "3")))
    assert mean["fit_init"] == "mean" and "fit_k" not in mean
    assert closest["fit_init"] == "closest" and closest["fit_k"] == 3
    assert closest["metrics"]["psnr"] >= mean["metrics"]["psnr"] - 0.1
    assert closest["neighbours"] and closest["latent"] != mean["latent"]
    pipeline = DecodePipeline(ckpt, compile="off")
    steps = list(embed.embed_steps(pipeline, embed.read_signal(pipeline, str(picture)), steps=5, starts=3))
    assert [s.step for s in steps[:-1]] == [1, 2, 3, 4, 5] and isinstance(steps[-1], embed.EmbedResult)
