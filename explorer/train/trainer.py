"""GEM auto-decoder training: one latent per training signal, optimised with the network.

``Trainer.run()`` is a generator that yields progress after every step, so the CLI shows a
progress bar and the app can run it in a worker thread and stop it between steps. The
checkpoint is written atomically every ``save_every_s`` seconds and at the end, after a
training-state file from which ``--resume`` continues exactly where the run stopped. That file holds
everything a resume needs (weights, latents, optimiser moments, random state, step), so it is
consistent on its own: a kill at any instant, even between or during the two writes, or a full
disk, leaves a state that resumes. ``request_stop()`` (Ctrl-C, SIGTERM) ends the run at the next step
boundary with a save, so the resumed run is bit-identical to one that was never stopped.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.io.atomic import atomic_write_bytes
from explorer.models.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.models.decode import decode_values
from explorer.data.dataset import SignalSet
from explorer.errors import ExplorerError
from explorer.modalities import get_modality, plug_parts
from explorer.models import ModelConfig, build_model, model_config_from_dict, part_field
from explorer.models.compiled import compile_fn, failure_reason
from explorer.models.losses import (
    derivative_loss,
    forward_difference,
    isometry_loss,
    multires_stft_loss,
    lle_projection,
    nearest_latents,
    negative_weight_penalty,
)
from explorer.models.precision import autocast, resolve_precision
from explorer.train.config import TrainConfig
from explorer.train.distributed import Group, broadcast_parameters, gather_rows, own_items, sum_gradients


@dataclass
class TrainProgress:
    step: int
    steps: int
    losses: dict[str, float]
    seconds: float
    saved: bool = False
    seconds_left: float | None = None
    """Of the run's time budget (``TrainConfig.minutes``); None without one."""
    work_left: float | None = None
    """The steps left, counted in steps of the kind being run now: during an L_LLE warm-up a step with L_LLE
    (two decodes) counts as ``Trainer.lle_step_cost`` of them, so that a time left estimated from the speed
    now is not half the truth (``Trainer.work_left``)."""


def fingerprint(model: dict, train: dict, data: dict, n_items: int) -> dict:
    """What must not change between a run and its --resume: everything but the step count and save interval."""
    train = {k: v for k, v in train.items() if k not in ("steps", "minutes", "save_every_s", "table_sync_every")}
    return {"model": model, "train": train, "data": data, "names": n_items}


def state_path(ckpt_path: str | Path) -> Path:
    """The training-state file kept beside a checkpoint for ``--resume``."""
    p = Path(ckpt_path)
    return p.with_name(p.name + ".train-state.safetensors")


def remove_orphans(out: Path) -> None:
    """Delete the temporary files that a run killed while writing ``out`` or its state left beside them."""
    import os

    for name in (out.name, state_path(out).name):
        for tmp in out.parent.glob(f".{name}.*.tmp"):
            try:
                os.unlink(tmp)
            except OSError:
                pass


@dataclass
class TrainPart:
    """One field of the model and the signals it learns (a single-field model has one, key ``None``)."""

    key: str | None
    plug: object
    data: SignalSet
    values: torch.Tensor  # [N, P, C]
    coords: torch.Tensor | None  # [P, k] shared grid, or None
    item_coords: torch.Tensor | None  # [N, P, k] per-item points, or None
    differences: torch.Tensor | None = None  # [N, P, C] forward differences (derivative loss)


def describe_modality(plug, dataset: SignalSet) -> dict:
    """The checkpoint's ``modality`` entry: name, resolution, channels and options, per part for multi-field data."""
    if dataset.parts is not None:
        return {"name": plug.name, "options": plug.options(),
                "parts": {k: describe_modality(plug.parts[k], d) for k, d in dataset.parts.items()}}
    out = {"name": dataset.modality, "resolution": list(dataset.resolution), "channels": dataset.channels}
    options = plug.options()
    return out | ({"options": options} if options else {})


class Trainer:
    def __init__(self, dataset: SignalSet, model_config: ModelConfig, config: TrainConfig, out: str | Path,
                 device: torch.device | str = "cpu", command: str = "", resume: bool = False, modality=None,
                 precision: str = "fp32", compile: bool = False, group: Group | None = None):
        self.modality = modality if modality is not None else get_modality(dataset.modality)
        self.dataset = self.modality.prepare(dataset)
        self.train_set = self.dataset.train()
        if len(self.train_set.names) < 2:
            raise ExplorerError(f"need at least 2 training signals, found {len(self.train_set.names)}")
        self.model_config = model_config
        self.config = config
        self.out = Path(out)
        self.device = torch.device(device)
        self.command = command
        self.parts = [self._part(key, plug) for key, plug in plug_parts(self.modality).items()]
        if config.derivative_weight > 0 and all(p.differences is None for p in self.parts):
            raise ExplorerError("the derivative loss is for 1-D signals on a grid (waveforms)")
        if config.stft_weight > 0 and not any(p.plug.in_dim == 1 and p.coords is not None for p in self.parts):
            raise ExplorerError("the STFT loss is for waveform fields")
        n = len(self.train_set.names)

        self.precision = resolve_precision(precision, self.device)
        self.notes: list[str] = []
        """What a person should know about how this run computes (printed by the command line)."""
        if compile and config.derivative_weight > 0:
            compile = False
            self.notes.append("running uncompiled: the derivative loss differentiates the field twice, "
                              "which torch.compile does not support")
        self.compiled = compile
        torch.manual_seed(config.seed)
        self.model = build_model(model_config).to(self.device)
        # what the step calls: each part's field, compiled when asked (the module itself is what is saved)
        self.fields = self._eager_fields()
        if compile:
            self.fields = {k: compile_fn(f) for k, f in self.fields.items()}
        self.gen = torch.Generator().manual_seed(config.seed)
        z0 = torch.randn(n, model_config.latent_dim, generator=self.gen) * config.latent_init_std
        self.group = group
        """The other processes of a ``torchrun`` run (``train.distributed``), or None."""
        self.own = own_items(n, group).to(self.device)
        """Global indices of the items whose latents this process optimises (all of them in one process)."""
        self.latents = torch.nn.Parameter(z0[self.own.cpu()].to(self.device))
        """``[n_own, d]``: the latents of ``own``, the whole table in one process."""
        self.log_alpha = torch.nn.Parameter(torch.zeros((), device=self.device))
        self.agreed_stop = self.agreed_save = False
        self.save_wanted = False
        if group is not None:
            self.table = z0.to(self.device)
            """``[N, d]``: every item's latent as last gathered (own rows current), where L_LLE looks for neighbours."""
            self.local_of = torch.full((n,), -1, dtype=torch.long, device=self.device)
            self.local_of[self.own] = torch.arange(len(self.own), device=self.device)
            broadcast_parameters(list(self.model.parameters()), group)
            self.gen.manual_seed(self._rank_seed())
        # fused: one loop over every parameter instead of a dozen element-wise passes per tensor
        self.opt = torch.optim.Adam([
            {"params": list(self.model.parameters()), "lr": config.lr},
            {"params": [self.latents, self.log_alpha], "lr": config.latent_lr},
        ], fused=True)
        self.step = 0
        self.seconds = 0.0
        self.clock = time.monotonic
        """The clock ``run()`` measures training time with (a test's fake one)."""
        self.agreed_seconds = 0.0
        """The training time the time budget and the schedule go by: ``seconds``, or in a multi-process run
        the processes' mean from the last step's all-reduce, so that all of them agree."""
        self.step_seconds = 0.0
        """How long the last step took, by ``agreed_seconds``: the schedule aims at the end of the step it sets."""
        self.lle_step_cost = 1.0
        """How many steps without L_LLE a step with it costs (its latents and their projections decoded
        together): ``measure_lle_cost``, when the run has an L_LLE warm-up; 1 until measured."""
        self.resumed = False
        self.stop_requested = False
        """Set (``request_stop``, e.g. from a signal handler) to end ``run()`` at the next step boundary."""
        self.stopped = False
        """Whether ``run()`` ended on a stop request (saved) rather than at ``config.steps``."""
        self.final_metrics: dict = {}
        remove_orphans(self.out)
        if resume and (self.out.exists() or state_path(self.out).exists()):
            self._load_state()
            self.agreed_seconds = self.seconds
            self.resumed = True

    def _rank_seed(self) -> int:
        """The batch generator's seed of a process other than rank 0 (rank 0 goes on with the run's own)."""
        return self.config.seed + 7919 * self.group.rank + 104729 * getattr(self, "step", 0)

    def _part(self, key: str | None, plug) -> TrainPart:
        data = self.train_set if key is None else self.train_set.parts[key]
        for start in range(0, len(data.values), 1024):  # in chunks: a memory-mapped set is not read in at once
            chunk = np.asarray(data.values[start:start + 1024])
            bad = ~np.isfinite(chunk.reshape(len(chunk), -1)).all(1)
            if bad.any():
                raise ExplorerError(f"training item {data.names[start + int(np.argmax(bad))]!r} has NaN or infinite values; "
                                    "nothing was trained")
        values = torch.from_numpy(data.values).to(self.device)
        # signals on the modality's grid share its coordinates; point-sampled ones bring their own
        coords = plug.coords(data.resolution).to(self.device) if data.coords is None else None
        item_coords = None if data.coords is None else torch.from_numpy(data.coords).to(self.device)
        part = TrainPart(key, plug, data, values, coords, item_coords)
        if self.config.derivative_weight > 0 and plug.in_dim == 1 and data.coords is None:
            part.differences = forward_difference(values)
        return part

    # --- one optimisation step -------------------------------------------------------------
    def losses(self, gen: torch.Generator, lle: bool | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted total loss of one batch drawn with ``gen``, and its terms (not yet reduced to floats).

        With L_LLE on, the batch's latents and their LLE projections are decoded in one call of
        each field (``[2B, P, k]``): one large product per layer instead of two. ``lle`` forces L_LLE
        on or off (the warm-up compiles both shapes of a run with ``lle_warmup``).
        """
        c = self.config
        n_own = len(self.own)
        # a process of a multi-process run draws its share of the batch from the items it owns
        b = min(c.batch_size if self.group is None else max(1, c.batch_size // self.group.world), n_own)
        local = torch.randperm(n_own, generator=gen)[:b].to(self.device)  # [B]
        idx = local if self.group is None else self.own[local]  # the items' global indices
        z = self.latents[local]  # [B, d]
        extra = c.derivative_weight > 0 or c.stft_weight > 0
        lle_scale = self.lle_scale()
        use_lle = c.lle and lle_scale > 0 if lle is None else lle
        if use_lle:
            z_proj, w = lle_projection(z, self._neighbours(z, idx))  # [B, d], [B, k]
        # the projections are decoded with the latents in one call ([2B, P, k]) when at the same coordinates
        joint = use_lle and c.lle_coords >= 1
        latents = torch.cat([z, z_proj]) if joint else z
        rec, lle, terms = 0.0, 0.0, {}
        for part in self.parts:
            pts = self._sample_points(b, part.values.shape[1], gen)  # [B, Pc]
            coords = part.coords[pts] if part.item_coords is None else part.item_coords[idx[:, None], pts]  # [B, Pc, k]
            if part.differences is not None:
                coords = coords.detach().requires_grad_(True)
            target = part.values[idx[:, None], pts]  # [B, Pc, C]
            with autocast(self.precision, self.device):
                pred = self.fields[part.key](latents, torch.cat([coords, coords]) if joint else coords)
            pred = pred.float()  # losses and reductions in float32
            rec = rec + part.plug.loss(pred[:b], target)
            if joint:
                lle = lle + part.plug.loss(pred[b:], target)
            elif use_lle:
                few = self._lle_subset(coords.shape[1])
                with autocast(self.precision, self.device):
                    pred_proj = self.fields[part.key](z_proj, coords[:, few].detach())
                lle = lle + part.plug.loss(pred_proj.float(), target[:, few])
            if extra and part.differences is not None:
                d = derivative_loss(pred[:b], coords, part.differences[idx[:, None], pts], part.values.shape[1])
                terms["deriv"] = terms.get("deriv", 0.0) + d
            if extra and c.stft_weight > 0 and part.plug.in_dim == 1 and part.coords is not None:
                stride = part.values.shape[1] // pts.shape[1]
                terms["stft"] = terms.get("stft", 0.0) + multires_stft_loss(pred[:b], target, stride)
        losses = {"rec": rec}
        total = rec
        for name, weight in (("deriv", c.derivative_weight), ("stft", c.stft_weight)):
            if name in terms:
                losses[name] = terms[name]
                total = total + weight * terms[name]
        if use_lle:
            losses["lle"] = lle
            total = total + lle_scale * (c.lle_weight * lle + c.negative_weight * negative_weight_penalty(w))
        if c.iso:
            iso = isometry_loss(z, self._joint_signal(idx), self.log_alpha, c.iso_quantile)
            losses["iso"] = iso
            total = total + c.iso_weight * iso
        return total, losses

    def _lle_subset(self, p: int) -> torch.Tensor:
        """``[m]``: evenly spaced positions among a step's ``p`` sampled coordinates at which L_LLE is
        decoded (``lle_coords``); random samples stay random, strided ones stay evenly spread."""
        m = max(1, round(p * self.config.lle_coords))
        return torch.arange(m, device=self.device) * p // m

    def _neighbours(self, z: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """``[B, k, d]``: the latents of the L_LLE neighbours of ``z`` (items ``idx``) among all items. In a
        multi-process run they are searched in the gathered table; those this process owns carry gradients."""
        k = self.config.lle_k
        if self.group is None:
            return self.latents[nearest_latents(z, self.latents, k, exclude=idx)]
        with torch.no_grad():
            self.table[self.own] = self.latents.detach()
        nb = nearest_latents(z, self.table, k, exclude=idx)  # [B, k] global
        loc = self.local_of[nb]
        return torch.where((loc >= 0)[..., None], self.latents[loc.clamp_min(0)], self.table[nb])

    def _lle_warmup(self) -> int:
        """Steps without L_LLE before it ramps in (0: from the first step): ``lle_warmup``, at most a quarter
        of the run, so that a short run still trains with L_LLE."""
        return min(self.config.lle_warmup, self.config.steps // 4) if self.config.lle else 0

    def work_left(self) -> float:
        """The steps left, in steps of the kind run now (``TrainProgress.work_left``)."""
        steps = self.config.steps
        start = self._lle_warmup() if self.config.lle else steps  # the first step that decodes the projections
        if self.step >= start:
            return float(steps - self.step)
        return (start - self.step) + self.lle_step_cost * (steps - start)

    def lle_scale(self) -> float:
        """How much of L_LLE this step carries: 0 during ``lle_warmup``, then a linear ramp to 1."""
        warmup = self._lle_warmup()
        if warmup <= 0:
            return 1.0
        return min(1.0, max(0.0, (self.step + 1 - warmup) / warmup))  # self.step: steps done before this one

    def _agree(self, seconds: float) -> None:
        self.step_seconds, self.agreed_seconds = seconds - self.agreed_seconds, seconds

    def out_of_time(self) -> bool:
        """Whether the run's time budget (``TrainConfig.minutes``) is spent."""
        return self.config.minutes > 0 and self.agreed_seconds >= 60 * self.config.minutes

    def seconds_left(self) -> float | None:
        """Of the time budget; None without one."""
        return max(0.0, 60 * self.config.minutes - self.agreed_seconds) if self.config.minutes > 0 else None

    def lr_scale(self) -> float:
        """The factor on both learning rates at this step (``lr_schedule``): along the steps, or along the
        time budget where that is further along."""
        c = self.config
        if c.lr_schedule == "constant" or (c.steps <= 1 and c.minutes <= 0):
            return 1.0
        t = min(1.0, self.step / (c.steps - 1)) if c.steps > 1 else 0.0
        if c.minutes > 0:
            # where the budget will be at the end of this step: the last step in the budget ends at lr_final
            t = max(t, min(1.0, (self.agreed_seconds + self.step_seconds) / (60 * c.minutes)))
        return c.lr_final + (1 - c.lr_final) * 0.5 * (1 + math.cos(math.pi * t))

    def train_step(self) -> dict[str, float]:
        total, losses = self.losses(self.gen)
        finite = bool(torch.isfinite(total))
        self.opt.zero_grad(set_to_none=True)
        if finite:
            total.backward()
        if self.group is not None:  # one all-reduce: the network's gradients and every process's flags
            flags = sum_gradients(list(self.model.parameters()) + [self.log_alpha],
                                  [float(not finite), float(self.stop_requested), float(self.save_wanted),
                                   self.seconds], self.group)
            finite = finite and flags[0] == 0
            self.agreed_stop, self.agreed_save = flags[1] > 0, flags[2] > 0
            self._agree(flags[3] / self.group.world)
        if not finite:
            raise ExplorerError(
                f"training diverged at step {self.step + 1} (loss is {float(total)}); "
                + (f"the last good checkpoint is {self.out}; lower the learning rate and resume" if self.out.exists()
                   else "nothing was saved yet; lower the learning rate and train again")
            )
        scale = self.lr_scale()
        for group, base in zip(self.opt.param_groups, (self.config.lr, self.config.latent_lr)):
            group["lr"] = base * scale
        self.opt.step()
        self.step += 1
        every = self.config.table_sync_every
        if self.group is not None and every > 0 and self.step % every == 0:
            self.table = gather_rows(self.latents.detach(), len(self.table), self.group)
        return {k: float(v.detach()) for k, v in losses.items()}

    def all_latents(self) -> torch.Tensor:
        """``[N, d]``: every item's latent (gathered from all processes in a multi-process run: collective)."""
        if self.group is None:
            return self.latents.detach()
        return gather_rows(self.latents.detach(), len(self.table), self.group)

    def _eager_fields(self) -> dict:
        return {p.key: part_field(self.model, p.key) for p in self.parts}

    def use_eager(self) -> None:
        """Run the step uncompiled from now on (the compiler failed)."""
        self.fields = self._eager_fields()
        self.compiled = False

    def warm_up(self, strict: bool = False) -> float:
        """Compile the step's fields (forward and backward) on a batch of the training shape, without
        training on it: the random state, weights, latents and optimiser are untouched. Returns the
        seconds it took — the compile time, reported apart from the step time. If the compiler fails,
        the run goes on uncompiled with a note (``strict``: stops with one line instead)."""
        if not self.compiled:
            return 0.0
        t = time.monotonic()
        c = self.config
        # both shapes a run decodes: [B] during an L_LLE warm-up, [2B] with L_LLE
        modes = [False, True] if self._lle_warmup() > 0 else [None]
        try:
            for mode in modes:
                self._trial_step(mode)
        except Exception as e:  # inductor and the C++ compiler fail in many ways; the step itself is sound
            self.opt.zero_grad(set_to_none=True)
            reason = failure_reason(e)
            if strict:
                raise ExplorerError(f"torch.compile failed ({reason}); use --compile off") from e
            self.use_eager()
            self.notes.append(f"torch.compile failed ({reason}); running uncompiled")
            return 0.0
        self.opt.zero_grad(set_to_none=True)
        return time.monotonic() - t

    def _trial_step(self, lle: bool | None) -> None:
        """Forward and backward of one batch, with L_LLE on, off or as scheduled (None), from a generator of its
        own: the run's random state is untouched, and the gradients are the caller's to clear."""
        total, _ = self.losses(torch.Generator().manual_seed(self.config.seed + 1), lle=lle)
        total.backward()

    def measure_lle_cost(self) -> None:
        """Time one step of each kind, without training on it (as ``warm_up``; after it, on compiled fields),
        so that the time left before L_LLE starts counts the later steps at their cost (``lle_step_cost``).
        Nothing to measure without an L_LLE warm-up."""
        if self._lle_warmup() <= 0:
            return
        took = []
        for mode in (False, True):
            t = time.perf_counter()
            self._trial_step(mode)
            took.append(time.perf_counter() - t)
        self.opt.zero_grad(set_to_none=True)
        self.lle_step_cost = min(4.0, max(1.0, took[1] / max(took[0], 1e-9)))

    def _joint_signal(self, idx: torch.Tensor) -> torch.Tensor:
        """``[B, D]``: the comparable part of each item's signal; parts of a multi-field signal are
        scaled by ``1 / sqrt(size)`` so that each weighs the same in the distance between items."""
        if len(self.parts) == 1:
            part = self.parts[0]
            return part.values[idx, : part.data.comparable_points].flatten(1)
        pieces = []
        for part in self.parts:
            v = part.values[idx, : part.data.comparable_points].flatten(1)
            pieces.append(v / v.shape[1] ** 0.5)
        joint = torch.cat(pieces, dim=1)
        return joint * joint.shape[1] ** 0.5 / len(pieces) ** 0.5

    def request_stop(self) -> None:
        """End ``run()`` after the step in progress, with a save (safe to call from a signal handler)."""
        self.stop_requested = True

    def run(self) -> Iterator[TrainProgress]:
        """Train up to ``config.steps`` or its time budget; yield after each step; save periodically and at
        the end, or when a stop is requested (then ``stopped`` is set and the run ends unfinished, resumable)."""
        clock = self.clock
        last_save = clock()
        t0 = clock() - self.seconds
        alone = self.group is None
        while self.step < self.config.steps and not self.out_of_time():
            # in a multi-process run every process stops and saves on the flags all of them agreed on
            if self.stop_requested if alone else self.agreed_stop:
                self.save()
                self.stopped = True
                return
            self.save_wanted = clock() - last_save >= self.config.save_every_s
            losses = self.train_step()
            self.seconds = clock() - t0
            if alone:
                self._agree(self.seconds)
            saved = False
            if (self.save_wanted if alone else self.agreed_save) and self.step < self.config.steps:
                self.save()
                last_save = clock()
                saved = True
            yield TrainProgress(self.step, self.config.steps, losses, self.seconds, saved, self.seconds_left(),
                                self.work_left())
        self.save(final=True)

    def _sample_points(self, b: int, p: int, gen: torch.Generator | None = None) -> torch.Tensor:
        """``[B, Pc]`` coordinate indices per signal: uniform, or evenly strided with a random phase."""
        gen = self.gen if gen is None else gen
        m = min(self.config.coords_per_signal, p)
        if self.config.sampling == "strided":
            stride = p // m
            phase = torch.randint(stride, (b, 1), generator=gen)
            return (phase + stride * torch.arange(m)).to(self.device)
        return torch.randint(p, (b, m), generator=gen).to(self.device)

    # --- checkpoints ----------------------------------------------------------------------
    def train_metrics(self, latents: torch.Tensor | None = None, max_items: int = 256, calibrate: bool = False) -> dict:
        """Metrics of up to ``max_items`` training items decoded from their latents, per part; with
        ``calibrate``, a plug that sets its output level from such decodes (``calibrate``: spectrogram
        fields) does so first, and the metrics are of the calibrated decodes."""
        latents = self.all_latents() if latents is None else latents
        out = {}
        for part in self.parts:
            m = min(max_items, part.values.shape[0])
            coords = part.coords if part.item_coords is None else part.item_coords[:m]
            pred = decode_values(part_field(self.model, part.key), latents[:m], coords)
            signals = None if part.data.signals is None else torch.from_numpy(part.data.signals[:m])
            if calibrate and hasattr(part.plug, "calibrate"):
                part.plug.calibrate(pred.cpu(), signals, part.data.resolution)
            metrics = part.plug.metrics(pred.cpu(), part.values[:m].cpu(), signals=signals,
                                        resolution=part.data.resolution)
            summary = {k: float(v.mean()) for k, v in metrics.items()} | {"n": m}
            if part.key is None:
                return summary
            out[part.key] = summary
        return out

    def checkpoint(self, final: bool = False, latents: torch.Tensor | None = None) -> Checkpoint:
        ts = self.train_set
        latents = self.latents.detach() if latents is None else latents
        if final:
            self.final_metrics = self.train_metrics(latents, calibrate=True)
        metrics = {"train_fit": self.final_metrics} if final else {}
        return Checkpoint(
            model_config=self.model_config,
            modality=describe_modality(self.modality, self.dataset),
            latents=latents,
            state_dict=self.model.state_dict(),
            names=ts.names,
            labels=ts.labels,
            data=dict(self.dataset.source) | {"n_train": len(ts.names), "n_test": int(self.dataset.is_test.sum())},
            train={"config": self.config.to_dict(), "command": self.command, "step": self.step,
                   "seconds": round(self.seconds, 1), "device": self.device.type, "finished": final,
                   "precision": self.precision, "compiled": self.compiled},
            metrics=metrics,
        )

    def save(self, final: bool = False) -> None:
        """The training state (complete in itself), then the checkpoint, each written atomically. In a
        multi-process run every process takes part (the latents and their optimiser moments are gathered)
        and rank 0 writes: the files are those of a one-process run, so any number of processes resumes them."""
        from safetensors.torch import save

        opt_state = self.opt.state_dict()
        latents = self.all_latents()
        latent_pid = len(list(self.model.parameters()))
        moments = {}
        for pid, st in opt_state["state"].items():
            for key, val in st.items():
                val = torch.as_tensor(val).detach()
                if self.group is not None and pid == latent_pid and val.ndim == 2:
                    val = gather_rows(val, len(latents), self.group)
                moments[f"opt.{pid}.{key}"] = val.cpu().contiguous()
        if self.group is not None and not self.group.leader:
            return
        tensors = {"log_alpha": self.log_alpha.detach().cpu().reshape(1), "rng": self.gen.get_state(),
                   "latents": latents.float().cpu().contiguous()} | moments
        for k, v in self.model.state_dict().items():
            tensors[f"model.{k}"] = v.detach().cpu().contiguous()
        meta = {"step": self.step, "seconds": self.seconds, "param_groups": opt_state["param_groups"],
                "fingerprint": self._fingerprint()}
        atomic_write_bytes(state_path(self.out), save(tensors, metadata={"state": json.dumps(meta)}))
        save_checkpoint(self.checkpoint(final, latents), self.out)

    def _fingerprint(self) -> dict:
        return fingerprint(self.model_config.to_dict(), self.config.to_dict(), self.dataset.source,
                           len(self.train_set.names))

    def _load_state(self) -> None:
        from safetensors import SafetensorError, safe_open

        sp = state_path(self.out)
        if not sp.exists():
            raise ExplorerError(f"cannot resume: {sp} (the training state) is missing; train again with --force")
        try:
            with safe_open(str(sp), "pt") as f:
                meta = json.loads(f.metadata()["state"])
                tensors = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as e:
            raise ExplorerError(f"cannot resume: {sp} is unreadable ({e}); train again with --force") from e
        try:
            self._restore(sp, meta, tensors)
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
            detail = (str(e).splitlines() or [""])[0]
            raise ExplorerError(f"cannot resume: {sp} is damaged ({e.__class__.__name__}: {detail}); "
                                "train again with --force") from e

    def _restore(self, sp: Path, meta: dict, tensors: dict) -> None:
        """Weights, latents, optimiser, random state and step from a training state read from ``sp``."""
        saved = meta["fingerprint"]
        try:  # fields added to the configs since that run take their defaults
            saved = fingerprint(model_config_from_dict(saved["model"]).to_dict(),
                                TrainConfig.from_dict(saved["train"]).to_dict(), saved["data"], saved["names"])
        except (ExplorerError, KeyError, TypeError):
            pass
        if json.loads(json.dumps(saved)) != json.loads(json.dumps(self._fingerprint())):
            raise ExplorerError(
                f"cannot resume {self.out}: it was trained with other data or settings; use the same command, or --force"
            )
        if "latents" in tensors:  # the state holds the weights and latents it goes with
            weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
            latents = tensors["latents"]
            if not all(torch.isfinite(v).all() for v in [latents, *weights.values()]):
                raise ExplorerError(f"cannot resume: {sp} holds NaN or infinite weights; train again with --force")
        else:  # a state file written before it held them: the checkpoint of the same step
            ckpt = load_checkpoint(self.out)
            if meta["step"] != ckpt.train.get("step"):
                raise ExplorerError(f"cannot resume: {sp} and {self.out} are from different steps; train again with --force")
            weights, latents = ckpt.state_dict, ckpt.latents
        self.model.load_state_dict(weights)
        n = len(self.train_set.names)
        if tuple(latents.shape) != (n, self.latents.shape[1]):
            raise ValueError(f"latents {tuple(latents.shape)}, expected {(n, self.latents.shape[1])}")
        own = self.own.cpu()
        with torch.no_grad():  # the whole table was saved: this process takes its own rows
            self.latents.copy_(latents[own].to(self.device))
            self.log_alpha.copy_(tensors["log_alpha"].reshape(()))
            if self.group is not None:
                self.table = latents.to(self.device).clone()
        latent_pid = len(list(self.model.parameters()))
        state: dict = {}
        for key, val in tensors.items():
            if key.startswith("opt."):
                _, pid, name = key.split(".", 2)
                if int(pid) == latent_pid and val.ndim == 2:
                    val = val[own]
                state.setdefault(int(pid), {})[name] = val.to(self.device) if name != "step" else val
        self.opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        self.gen.set_state(tensors["rng"])
        self.step = int(meta["step"])
        self.seconds = float(meta["seconds"])
        if self.group is not None and not self.group.leader:
            self.gen.manual_seed(self._rank_seed())
