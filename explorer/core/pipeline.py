"""Decoding latents into signals for interactive use: batched, cached, coarse then fine, cancellable.

``DecodePipeline(ckpt)`` holds the model on the best device, in the fastest precision that
keeps decodes true to float32 (``precision="auto"``: bfloat16 where the hardware has fast
bfloat16 matrix units; ``latent-explorer bench`` measures its error). ``steps(...)`` is a generator that
decodes chunk by chunk (the caller regains control after every chunk and may stop iterating to
cancel); ``decode(...)`` runs it to the end. Results are kept in an LRU cache keyed by the latent,
the resolution and the part. Shapes are refined in a narrow band: a coarse grid is decoded, upsampled
trilinearly, and the field is evaluated again only where the upsampled distance is within two
coarse cells of the surface.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.models.checkpoint import Checkpoint
from explorer.core.device import resolve_device
from explorer.modalities import checkpoint_plug, part_precisions, plug_parts
from explorer.models import part_field
from explorer.models.compiled import compile_fn, failure_reason, no_silent_fallback, resolve_compile
from explorer.models.precision import autocast, resolve_precision
from explorer.io.progress import run_to_end
from explorer.train.bank_decodes import BankDecodes


@dataclass
class DecodeStep:
    done: int
    total: int
    values: torch.Tensor | None = None
    """``[B, P, C]`` field values, on the last step only."""


def _key(z: np.ndarray, *extra) -> str:
    return hashlib.sha1(np.ascontiguousarray(z, np.float32).tobytes() + repr(extra).encode()).hexdigest()


class DecodePipeline:
    def __init__(self, ckpt: Checkpoint, device: str = "auto", cache_items: int = 256, precision: str = "auto",
                 compile: str = "off", chunk_points: int = 1 << 16) -> None:
        self.ckpt = ckpt
        self.device = resolve_device(device)
        self.model = ckpt.build_model(self.device)
        self.plug = checkpoint_plug(ckpt)
        self.parts = plug_parts(self.plug)
        if ckpt.module is not None:  # a person's own decoder runs in float32, uncompiled, as they wrote it
            precision, compile = "fp32", "off"
        self.precision = resolve_precision(precision, self.device)
        """fp32 or bf16 (``models.precision``): what the fields compute in where the modality allows."""
        self.part_precision = part_precisions(self.plug, precision, self.device)
        """What each part decodes (and is fitted) in (``modalities.part_precisions``)."""
        self.bulk_precision = {part: "bf16" if p.is_sdf and precision == "auto" and self.precision == "bf16"
                               else self.part_precision[part] for part, p in self.parts.items()}
        """What a distance grid is first decoded in: bfloat16 where it is fast and the precision is ``auto``;
        the narrow band around the surface is then decoded again in the part's own precision (``sdf_grid``),
        so the mesh is float32's while most of the grid costs what bfloat16 costs."""
        self.sdf_base = {part: (16 if ckpt.model_config.point_cost() > 500_000 else 32) if getattr(p, "narrow_band", True)
                         else 1 << 16 for part, p in self.parts.items()}
        """The side of the grid a distance field is decoded on in full; finer grids are refined in a narrow
        band. 16 for fields that cost more than half a million multiply-adds a point (DeepSDF's 8 x 512); no
        limit for a field that is not a distance in the cube's units (the plug's ``narrow_band``)."""
        self.compiled, note = resolve_compile(compile, self.device)
        """Whether the fields are to be compiled; they are once ``warm_up()`` has run (until then, eager)."""
        self.notes = [note] if note else []
        """What a person should know about how this pipeline runs (for example that it runs uncompiled)."""
        self.fields = {part: part_field(self.model, part) for part in self.parts}
        """The callables that decode, per part: the fields, or their compiled versions after ``warm_up()``."""
        self.warm = not self.compiled
        self.chunk_points = chunk_points
        self.bank_decodes = BankDecodes()
        """The training latents' decodes that completion and hallucination compare what is given with
        (``fitting.closest_latents``), kept for the next one."""
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()  # the app decodes from worker threads
        self.cache_items = cache_items

    @property
    def makes_signals(self) -> bool:
        """Whether any part decodes to something a person can see or hear (not so for plain latents: ``none``)."""
        return any(p.produces for p in self.parts.values())

    def check_fittable(self) -> None:
        """``ExplorerError`` unless latents can be fitted through this decoder (embedding, completion); a
        decoder that cannot (an ONNX graph, none at all) says why in its ``cannot_fit``."""
        reason = getattr(self.model, "cannot_fit", "")
        if reason:
            raise ExplorerError(reason)

    # --- what a part is sampled on ---------------------------------------------------------------
    def part_info(self, part: str | None = None) -> dict:
        return self.ckpt.modality if part is None else self.ckpt.modality["parts"][part]

    def resolution(self, part: str | None = None) -> tuple[int, ...]:
        """The resolution the part was trained at (shapes: the stored mesh grid)."""
        return tuple(self.part_info(part)["resolution"])

    def preview_resolution(self, part: str | None = None) -> tuple[int, ...]:
        """A cheaper sampling for live use: images at half size (at least 16), shapes at 32³, audio at full."""
        return tuple(self.parts[part].preview_resolution(self.resolution(part)))

    def warm_up(self) -> float:
        """Compile the fields now (when this pipeline was asked to), for one latent and for several, any
        point count, so that no live request pays for it; decodes meanwhile run uncompiled, and may run
        in other threads. Returns the seconds it took. A compiler that fails leaves the pipeline
        uncompiled, with a note saying why."""
        if self.warm:
            return 0.0
        t = time.monotonic()
        compiled = {part: compile_fn(f, dynamic=True) for part, f in self.fields.items()}
        d = self.ckpt.model_config.latent_dim
        try:
            with torch.no_grad(), no_silent_fallback():
                for part, f in compiled.items():
                    coords = torch.zeros(7, self.parts[part].in_dim, device=self.device)
                    for precision in {self.part_precision[part], self.bulk_precision[part]}:
                        with autocast(precision, self.device):
                            for b in (1, 3):  # torch specialises on a batch of one: both graphs, now
                                f(torch.zeros(b, d, device=self.device), coords)
        except Exception as e:  # inductor and the C++ compiler fail in many ways; eager decoding still works
            reason = failure_reason(e)
            self.compiled = False
            self.notes.append(f"torch.compile failed ({reason}); decoding uncompiled")
        else:
            self.fields = compiled
        self.warm = True
        return time.monotonic() - t

    # --- decoding ----------------------------------------------------------------------------------
    def steps(self, latents, resolution: tuple[int, ...] | None = None, part: str | None = None,
              coords: torch.Tensor | None = None, precision: str | None = None) -> Iterator[DecodeStep]:
        """Field values of ``latents [B, d]`` at ``resolution`` (or at explicit ``coords [P, k]``), chunk by chunk,
        in ``precision`` (the part's by default)."""
        z = torch.as_tensor(np.asarray(latents, dtype=np.float32)).reshape(-1, self.ckpt.model_config.latent_dim)
        plug = self.parts[part]
        precision = precision or self.part_precision[part]
        resolution = tuple(resolution or self.resolution(part))
        key = None
        if coords is None:
            key = _key(z.numpy(), resolution, part, precision)
            with self._lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
            if cached is not None:
                yield DecodeStep(1, 1, cached)
                return
            coords = plug.coords(resolution)
        coords = coords.to(self.device)
        field = self.fields[part]
        per = max(1, self.chunk_points // coords.shape[0])  # latents per chunk
        p_chunk = min(coords.shape[0], self.chunk_points)
        total = -(-z.shape[0] // per) * -(-coords.shape[0] // p_chunk)
        outs, done = [], 0
        with torch.no_grad(), autocast(precision, self.device):
            for i in range(0, z.shape[0], per):
                zi = z[i : i + per].to(self.device)
                cols = []
                for j in range(0, coords.shape[0], p_chunk):
                    cols.append(field(zi, coords[j : j + p_chunk]).float())
                    done += 1
                    if done < total:
                        yield DecodeStep(done, total)
                outs.append(torch.cat(cols, dim=1))
        values = self._finite(torch.cat(outs).cpu())
        if key is not None and self.cache_items > 0:
            with self._lock:
                self._cache[key] = values
                while len(self._cache) > self.cache_items:
                    self._cache.popitem(last=False)
        yield DecodeStep(total, total, values)

    def morph_wave(self, path_latents, seconds: float, part=None) -> np.ndarray:
        """One continuous sound of ``seconds`` along ``path_latents [T, d]`` (the sound plug's ``morph``)."""
        plug, field = self.parts[part], self.fields[part]

        def decode(z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
            per = max(1, self.chunk_points // coords.shape[1])
            out = []
            with torch.no_grad(), autocast(self.part_precision[part], self.device):
                for i in range(0, z.shape[0], per):
                    out.append(field(z[i : i + per].to(self.device), coords[i : i + per].to(self.device)).float().cpu())
            return self._finite(torch.cat(out))

        return self._finite(plug.morph(decode, np.asarray(path_latents, np.float32), seconds, self.resolution(part)))

    def _finite(self, values):
        """``values`` (field values, or the signal made of them), unless they hold NaN or infinity (damaged
        or overflowing weights, or a spectrogram that overflows when turned into sound): then an
        ``ExplorerError``, before anything shows or writes them."""
        finite = torch.isfinite(values).all() if isinstance(values, torch.Tensor) else np.isfinite(values).all()
        if not finite:
            raise ExplorerError(f"{self.ckpt.path or 'the checkpoint'}: its model decodes NaN or infinite values "
                                "here; its weights may be damaged or overflow")
        return values

    def values(self, latents, resolution=None, part=None, coords=None, precision=None) -> torch.Tensor:
        """``steps`` to the end: field values ``[B, P, C]``."""
        return run_to_end(self.steps(latents, resolution, part, coords, precision), "decoding").values

    def signal(self, latents, resolution=None, part=None):
        """The signal a person sees or hears: images ``[B, H, W, C]``, waveforms ``[B, n]``, or a list of
        meshes ``(vertices, faces)`` for shapes (refined in a narrow band above the preview grid)."""
        plug = self.parts[part]
        resolution = tuple(resolution or self.resolution(part))
        if plug.is_sdf:
            return [self.mesh(z, resolution[0]) for z in np.asarray(latents, np.float32).reshape(len(latents), -1)]
        return self._finite(plug.to_signal(self.values(latents, resolution, part), resolution))

    def stream(self, latents, part: str | None = None) -> Iterator[tuple[str, object]]:
        """Coarse then fine, for live use: yields ``("coarse", signal)`` then ``("fine", signal)``
        (each after its chunks; close the generator to cancel). Shapes: a 32³ mesh, then the
        narrow-band refinement at the stored resolution; images: half then full size; sound:
        a quick Griffin-Lim (8 iterations) then the full one, when the field is a spectrogram."""
        plug = self.parts[part]
        z = np.asarray(latents, np.float32).reshape(-1, self.ckpt.model_config.latent_dim)
        if plug.is_sdf:
            yield "coarse", [self.mesh(zi, self.preview_resolution(part)[0], part=part) for zi in z]
            yield "fine", [self.mesh(zi, self.resolution(part)[0], part=part) for zi in z]
            return
        if plug.quick_signal_iters:
            res = self.resolution(part)
            values = None
            for step in self.steps(z, res, part):
                if step.values is None:
                    yield "progress", step
                values = step.values
            yield "coarse", self._finite(plug.to_signal(values, res, iters=plug.quick_signal_iters))
            yield "fine", self._finite(plug.to_signal(values, res))
            return
        for level, res in (("coarse", self.preview_resolution(part)), ("fine", self.resolution(part))):
            if level == "coarse" and res == self.resolution(part):
                continue
            values = None
            for step in self.steps(z, res, part):
                if step.values is None:
                    yield "progress", step
                values = step.values
            yield level, self._finite(plug.to_signal(values, res))

    # --- shapes --------------------------------------------------------------------------------------
    def sdf_grid(self, z, resolution: int, coarse: int | None = None, part: str | None = None) -> np.ndarray:
        """``[R, R, R]`` SDF of one latent. Up to ``coarse`` (the part's ``sdf_base`` by default) the whole grid
        is decoded; beyond, the grid of half the side is upsampled and decoded again only in a narrow band
        of two of its cells around the surface. Bulk values are decoded in ``bulk_precision`` and the band
        around the surface in the part's precision."""
        z = np.asarray(z, np.float32).reshape(1, -1)
        coarse = coarse or self.sdf_base[part]
        if resolution <= coarse:
            grid = self.values(z, (resolution,), part, precision=self.bulk_precision[part])[0, :, 0].clone()
            if self.bulk_precision[part] != self.part_precision[part]:
                band = grid.abs() < max(2 * (2.0 / (resolution - 1)), 0.15)  # wider than the iso slider's +-0.1
                grid[band] = self.values(z, part=part, coords=self.parts[part].coords((resolution,))[band])[0, :, 0]
            return grid.numpy().reshape((resolution,) * 3)
        below = max(coarse, (resolution + 1) // 2)
        rough = torch.from_numpy(self.sdf_grid(z, below, coarse, part))
        fine = torch.nn.functional.interpolate(rough[None, None], size=(resolution,) * 3, mode="trilinear",
                                               align_corners=True)[0, 0]
        band = fine.abs() < max(2 * (2.0 / (below - 1)), 0.15)
        pts = self.parts[part].coords((resolution,))[band.reshape(-1)]
        if len(pts):
            exact = self.values(z, part=part, coords=pts)[0, :, 0]
            fine.view(-1)[band.reshape(-1)] = exact
        return fine.numpy()

    def mesh(self, z, resolution: int = 64, level: float = 0.0, part: str | None = None):
        from explorer.modalities.sdf import sdf_to_mesh

        return sdf_to_mesh(self.sdf_grid(z, resolution, part=part), level)
