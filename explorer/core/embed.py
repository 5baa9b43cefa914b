"""GEM §4.4 applied to a user's file: read it as the checkpoint's signal, fit a latent with the network
frozen, and say how well the manifold reproduces it and where it lies among the training items."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.modalities import file_plug, file_plugs, plug_parts
from explorer.modalities.base import Observed
from explorer.models import part_field
from explorer.train.fitting import FitPart, FitProgress, fit_from_closest, fit_parts, whole_fit_options


def signal_file_filter() -> str:
    """The files ``read_signal`` takes, as a file-dialog filter."""
    suffixes = [s for plug in file_plugs() for s in plug.read_suffixes]
    return "Signals (" + " ".join(f"*{s}" for s in suffixes) + ")"


def read_signal(pipeline, path: str | Path, invert: bool | None = None) -> Observed:
    """The file as the checkpoint's field values (the plug's ``read_file``); for audio-visual checkpoints,
    the part its type matches. ``invert`` (pictures): take the picture's negative; ``None`` decides by
    the background (``ImageModality.read_file``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    reader = file_plug(path)
    if reader is None:
        raise ExplorerError(f"{path.name}: not an image, sound or mesh file (PNG/JPEG, WAV/FLAC/OGG, OBJ/PLY/STL/OFF)")
    parts = plug_parts(pipeline.plug)
    part = next((k for k, p in parts.items() if suffix in p.read_suffixes), "missing")
    if part == "missing":
        raise ExplorerError(f"{path.name} is {reader.file_kind} but this checkpoint is {pipeline.ckpt.modality['name']}")
    return parts[part].read_file(path, pipeline, part, invert)


def observed_from_latent(pipeline, z: np.ndarray, part=None, shape_resolution: int = 32) -> Observed:
    """A decoded latent as an observed signal (to complete or to hallucinate from): field values on the
    part's trained grid; shapes on a ``shape_resolution``³ grid."""
    plug = pipeline.parts[part]
    res = (shape_resolution,) if plug.is_sdf else tuple(pipeline.resolution(part))
    z = np.asarray(z, np.float32).reshape(1, -1)
    return Observed(part, pipeline.values(z, res, part).clone(), plug.coords(res))


@dataclass
class EmbedResult:
    latent: np.ndarray
    metrics: dict
    neighbours: list[tuple[int, str, float]]
    """The nearest training items: (index, name, latent distance)."""
    part: str | None = None
    notes: list[str] = field(default_factory=list)
    """What was done to the file before fitting (``Observed.notes``)."""


def embed_steps(pipeline, observed: Observed, steps: int = 300, seed: int = 0, lle: bool = True, starts: int = 1
                ) -> Iterator[FitProgress | EmbedResult]:
    """Fit a latent to the observed part (progress every step; close to cancel); the last value is the result.

    ``starts``: 1 fits from the mean training latent; K > 1 fits from the K training latents whose decodes are
    closest to the file, all at once, and keeps the fit that decodes closest (``fit_from_closest``, as ``eval
    --fit-init closest``; K times the work)."""
    pipeline.check_fittable()
    field_ = part_field(pipeline.model, observed.part)
    plug = pipeline.parts[observed.part]
    bank = pipeline.ckpt.latents.to(pipeline.device)
    parts = [FitPart(field_, observed.values, observed.coords, loss_fn=plug.loss)]
    options = dict(steps=steps, seed=seed, lle=lle, precision=pipeline.part_precision[observed.part],
                   **whole_fit_options(pipeline.ckpt.latents))
    last = None
    for last in fit_from_closest(bank, parts, starts, **options) if starts > 1 else fit_parts(bank, parts, **options):
        yield last
    z = last.latents.cpu()
    coords = observed.coords if observed.coords.ndim == 2 else observed.coords[0]
    pred = pipeline.values(z.numpy(), part=observed.part, coords=coords)
    metrics = {k: float(v.mean()) for k, v in plug.metrics(pred, observed.values, signals=observed.signals,
                                                            resolution=pipeline.resolution(observed.part)).items()}
    if observed.exact is not None:
        r = 48
        grid = plug.coords((r,))
        sdf = pipeline.values(z.numpy(), (r,), part=observed.part)[0, :, 0].numpy().reshape((r,) * 3)
        metrics |= plug.grid_metrics(sdf, observed.exact(grid.numpy()).reshape((r,) * 3))
    bank = pipeline.ckpt.latents
    d = torch.cdist(z, bank)[0]
    near = torch.topk(d, min(5, len(d)), largest=False)
    neighbours = [(int(i), pipeline.ckpt.names[int(i)], float(v)) for v, i in zip(near.values, near.indices)]
    yield EmbedResult(z[0].numpy(), metrics, neighbours, observed.part, list(observed.notes))
