"""A contact sheet: real items beside what a checkpoint makes of them, to look at (or, for sound, at
the spectrograms of) before trusting a number. For each split, a row of real items above a row of
decodes: training items decoded from their learnt latents, held-out items from latents fitted at test
time (GEM §4.4, network frozen). Audio-visual checkpoints get a pair of rows per part."""
from __future__ import annotations

import numpy as np

from explorer.core.pictures import decoded_picture, real_picture
from explorer.modalities.pictures import rgb

CELL = 96
GAP = 4
LABEL_W = 120


def _cell(picture: np.ndarray) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray((rgb(picture) * 255).astype(np.uint8))
    w, h = img.size
    s = CELL / max(w, h)
    resample = Image.Resampling.NEAREST if max(w, h) <= 64 else Image.Resampling.BILINEAR
    img = img.resize((max(1, round(w * s)), max(1, round(h * s))), resample)
    out = np.ones((CELL, CELL, 3), np.float32)
    a = np.asarray(img, np.float32) / 255
    y, x = (CELL - a.shape[0]) // 2, (CELL - a.shape[1]) // 2
    out[y : y + a.shape[0], x : x + a.shape[1]] = a
    return out


def sheet_rows(pipeline, ckpt, dataset, n: int = 16, fit_steps: int = 300, seed: int = 0) -> list[tuple[str, list]]:
    """``[(label, [picture, ...]), ...]``: the rows of the sheet, for ``n`` items spread over each split of
    ``dataset`` (its training items must be the checkpoint's), so that a folder's every category shows."""
    import torch

    from explorer.data.dataset import spread
    from explorer.modalities import plug_parts
    from explorer.train.evaluate import fit_items

    modality = pipeline.plug
    data = modality.prepare(dataset)
    parts = plug_parts(modality)
    rows = []
    index = {name: i for i, name in enumerate(ckpt.names)}
    train = data.train()
    known = [j for j, name in enumerate(train.names) if name in index]
    picked = [known[i] for i in spread(len(known), n)]
    test = data.test()
    held = spread(len(test.names), n)
    z_test = None
    if held:
        fast = all(p == "bf16" for p in pipeline.part_precision.values())
        z_test = fit_items(ckpt, pipeline.model, modality, test, held, fit_steps, seed,
                           precision="bf16" if fast else "fp32", device=pipeline.device).cpu().numpy()
    for split, d, items, latents in (
        ("training", train, picked, [ckpt.latents[index[train.names[j]]].numpy() for j in picked]),
        ("held out", test, held, [] if z_test is None else list(z_test)),
    ):
        for key, plug in parts.items():
            part = d if key is None else d.parts[key]
            what = f" {key}" if key is not None else ""
            rows.append((f"{split}{what}: real", [real_picture(plug, part, j) for j in items]))
            verb = "decoded" if split == "training" else f"fitted ({fit_steps} steps)"
            with torch.no_grad():
                rows.append((f"{split}{what}: {verb}", [decoded_picture(pipeline, z, key) for z in latents]))
    return [r for r in rows if r[1]]


def render_sheet(rows: list[tuple[str, list]]) -> np.ndarray:
    """RGB ``[H, W, 3]`` in [0, 1]: one labelled row of cells per entry of ``rows``."""
    from PIL import Image, ImageDraw

    cols = max(len(pics) for _, pics in rows)
    h = len(rows) * (CELL + GAP) + GAP
    w = LABEL_W + cols * (CELL + GAP) + GAP
    canvas = np.ones((h, w, 3), np.float32)
    for r, (_, pics) in enumerate(rows):
        y = GAP + r * (CELL + GAP)
        for c, pic in enumerate(pics):
            x = LABEL_W + GAP + c * (CELL + GAP)
            canvas[y : y + CELL, x : x + CELL] = _cell(pic)
    img = Image.fromarray((canvas * 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for r, (label, _) in enumerate(rows):
        y = GAP + r * (CELL + GAP) + CELL // 2 - 6
        draw.text((4, y), label if len(label) <= 20 else label.replace(": ", ":\n"), fill=(0, 0, 0))
    return np.asarray(img, np.float32) / 255
