"""GEM §4.4 applied to a user's file: read it as the checkpoint's signal, fit a latent with the network
frozen, and say how well the manifold reproduces it and where it lies among the training items."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.data.audio_folder import AUDIO_SUFFIXES
from explorer.data.dataset import SignalSet
from explorer.data.image_folder import IMAGE_SUFFIXES
from explorer.data.shapes import MESH_SUFFIXES
from explorer.errors import ExplorerError
from explorer.modalities import plug_parts
from explorer.models import part_field
from explorer.train.fitting import FitPart, FitProgress, fit_parts


def signal_file_filter() -> str:
    """The files ``read_signal`` takes, as a file-dialog filter."""
    suffixes = sorted(IMAGE_SUFFIXES) + sorted(AUDIO_SUFFIXES) + sorted(MESH_SUFFIXES)
    return "Signals (" + " ".join(f"*{s}" for s in suffixes) + ")"


@dataclass
class Observed:
    """A file as field values of one part of a checkpoint."""

    part: str | None
    values: torch.Tensor  # [1, P, C]
    coords: torch.Tensor  # [P, k] or [1, P, k]
    signals: torch.Tensor | None = None  # the waveform of a spectrogram field
    exact: object | None = field(default=None, repr=False)  # shapes: points -> true SDF
    notes: list[str] = field(default_factory=list)
    """What was done to the file to match the training signals (e.g. a picture's negative taken)."""


def border_level(pixels: np.ndarray) -> float:
    """The mean grey level of a picture's outermost pixels ``[..., H, W, C]`` in [0, 1]: its background."""
    p = np.asarray(pixels, np.float32)
    edge = np.concatenate([p[..., 0, :, :].reshape(-1), p[..., -1, :, :].reshape(-1),
                           p[..., :, 0, :].reshape(-1), p[..., :, -1, :].reshape(-1)])
    return float(edge.mean())


def training_background(pipeline, part=None, n: int = 32) -> float:
    """The background level of the checkpoint's pictures: ``border_level`` of decodes of ``n`` training items."""
    bank = pipeline.ckpt.latents.numpy()
    pick = np.linspace(0, len(bank) - 1, min(n, len(bank))).round().astype(int)
    return border_level(pipeline.signal(bank[pick], part=part))


def read_signal(pipeline, path: str | Path, invert: bool | None = None) -> Observed:
    """The file as the checkpoint's field values; for audio-visual checkpoints, the part its type matches.

    ``invert`` (pictures): take the picture's negative; ``None`` decides by the background: a dark shoe
    on white, given to a model of light garments on black, is embedded as its negative and the result
    says so (embedded as it was, it came out a grey square)."""
    path = Path(path)
    suffix = path.suffix.lower()
    parts = plug_parts(pipeline.plug)
    kind = "image" if suffix in IMAGE_SUFFIXES else "audio" if suffix in AUDIO_SUFFIXES else \
        "shape" if suffix in MESH_SUFFIXES else None
    if kind is None:
        raise ExplorerError(f"{path.name}: not an image, sound or mesh file (PNG/JPEG, WAV/FLAC/OGG, OBJ/PLY/STL/OFF)")
    part = next((k for k, p in parts.items() if p.name == kind), "missing")
    if part == "missing":
        what = {"image": "an image", "audio": "a sound", "shape": "a mesh"}[kind]
        raise ExplorerError(f"{path.name} is {what} but this checkpoint is {pipeline.ckpt.modality['name']}")
    plug = parts[part]
    info = pipeline.part_info(part)
    if kind == "image":
        from explorer.data.image_folder import load_image
        from explorer.modalities.image import ImageModality

        h = info["resolution"][0]
        pixels = load_image(path, h, grey=info["channels"] == 1)
        notes = []
        if invert is None:
            mine, theirs = border_level(pixels), training_background(pipeline, part)
            invert = abs(mine - theirs) > 0.5 and abs((1 - mine) - theirs) < 0.25
            if invert:
                notes.append(f"{path.name} has a {'light' if mine > 0.5 else 'dark'} background and the training "
                             f"pictures a {'dark' if mine > 0.5 else 'light'} one: its negative was embedded")
        if invert:
            pixels = 1.0 - pixels
        values = torch.from_numpy(ImageModality.to_field(pixels[None]))
        return Observed(part, values, plug.coords(tuple(info["resolution"])), notes=notes)
    if kind == "audio":
        from explorer.data.audio_folder import load_clip

        wave = load_clip(path)
        one = SignalSet("audio", wave[None, :, None], (len(wave),), [path.name])
        ready = plug.prepare(one)
        if tuple(ready.resolution) != tuple(info["resolution"]):
            raise ExplorerError(f"{path.name}: the sound does not match the checkpoint's sampling")
        signals = None if ready.signals is None else torch.from_numpy(ready.signals)
        return Observed(part, torch.from_numpy(ready.values), plug.coords(tuple(info["resolution"])), signals)
    from explorer.data.shapes import load_mesh, shared_uniform_points
    from explorer.modalities.sdf import mesh_sdf, near_surface_points

    v, f = load_mesh(path)
    shared = shared_uniform_points(2048)
    pts = np.concatenate([shared, near_surface_points(v, f, 2048, np.random.default_rng(0))])
    values = torch.from_numpy(mesh_sdf(pts, v, f)[None, :, None])
    return Observed(part, values, torch.from_numpy(pts)[None], exact=lambda q: mesh_sdf(q, v, f)[:, None])


def observed_from_latent(pipeline, z: np.ndarray, part=None, shape_resolution: int = 32) -> Observed:
    """A decoded latent as an observed signal (to complete or to hallucinate from): field values on the
    part's trained grid; shapes on a ``shape_resolution``³ grid."""
    plug = pipeline.parts[part]
    res = (shape_resolution,) if plug.name == "shape" else tuple(pipeline.resolution(part))
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


def embed_steps(pipeline, observed: Observed, steps: int = 300, seed: int = 0, lle: bool = True
                ) -> Iterator[FitProgress | EmbedResult]:
    """Fit a latent to the observed part (progress every step; close to cancel); the last value is the result."""
    field_ = part_field(pipeline.model, observed.part)
    plug = pipeline.parts[observed.part]
    last = None
    for last in fit_parts(pipeline.ckpt.latents.to(pipeline.device),
                          [FitPart(field_, observed.values, observed.coords, loss_fn=plug.loss)], steps=steps,
                          seed=seed, lle=lle, precision=pipeline.part_precision[observed.part]):
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
