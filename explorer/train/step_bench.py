"""Timing full training steps of each field kind, float32 eager against the fast mode (``bench``).

Each kind trains at its preset's batch with every loss of a real run (L_rec, L_LLE with its
second decode, L_iso; the waveform field's derivative loss) on synthetic signals of the real
shape: an optimiser step costs the same whatever the pixel values are. The two trainers take
turns step by step, so a noisy neighbour on the machine slows both alike.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
import torch

from explorer.data.dataset import SignalSet
from explorer.modalities import get_modality
from explorer.models.compiled import resolve_compile
from explorer.models.precision import resolve_precision
from explorer.train.config import preset
from explorer.train.trainer import Trainer


@dataclass(frozen=True)
class StepSetup:
    kind: str
    preset: str
    modality: str
    options: dict
    resolution: tuple[int, ...]


SETUPS = (
    StepSetup("hyper", "base", "image", {}, (28, 28)),  # the shipped Fashion-MNIST configuration
    StepSetup("modulated", "base", "image", {}, (28, 28)),
    StepSetup("film", "audio-waveform", "audio", {"target": "waveform"}, (16000,)),  # the thesis's waveform field
)


def synthetic_set(setup: StepSetup, n: int = 256, seed: int = 0) -> SignalSet:
    """``n`` random signals of the setup's modality and resolution."""
    p = int(np.prod(setup.resolution))
    values = np.random.default_rng(seed).uniform(-1, 1, size=(n, p, 1)).astype(np.float32)
    return SignalSet(modality=setup.modality, values=values, resolution=setup.resolution,
                     names=[f"s{i}" for i in range(n)], source={"spec": "synthetic"})


def _sync(device: torch.device):
    """What waits for a device's queued work before each clock reading (nothing on the CPU)."""
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def step_trainers(setup: StepSetup, device: torch.device, compile_auto: bool, folder: str) -> tuple[Trainer, Trainer, float]:
    """(float32 eager, auto precision and compilation) trainers for ``setup``, and the compile seconds."""
    plug = get_modality(setup.modality, setup.options)
    dataset = synthetic_set(setup)
    trainers = []
    for precision, compiled in (("fp32", False), ("auto", compile_auto)):
        mcfg, tcfg, _ = preset(setup.preset, plug.in_dim, 1)
        mcfg.kind = setup.kind
        tcfg.lle_warmup = 0  # every timed step carries L_LLE, as a run's steps after the warm-up do
        trainers.append(Trainer(dataset, mcfg, tcfg, f"{folder}/{setup.kind}-{precision}.safetensors", device=device,
                                modality=plug, precision=precision, compile=compiled))
    return trainers[0], trainers[1], trainers[1].warm_up()


def train_step_benches(repeats: int, quick: bool, device: torch.device) -> list:
    """``train step (KIND, fp32 eager)`` and ``train step (KIND, auto)`` for every field kind."""
    from explorer.io.timing import BenchResult, timed_in_turns

    precision = resolve_precision("auto", device)
    compile_auto, note = resolve_compile("auto", device)
    compile_auto = compile_auto and not quick  # --quick: seconds, not the minute compilation takes
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for setup in SETUPS[:1] if quick else SETUPS:  # --quick: the shipped image configuration only
            fp32, auto, compile_s = step_trainers(setup, device, compile_auto, folder)
            slow = setup.kind == "film"  # seconds a step on two cores: fewer repeats
            ms32, ms_auto = timed_in_turns([fp32.train_step, auto.train_step], max(3, repeats // 4) if slow else repeats,
                                           warmup=1 if slow else 2, sync=_sync(device))
            b = min(auto.config.batch_size, len(auto.train_set.names))
            where = f"{setup.preset} preset, batch {b} x {auto.config.coords_per_signal} coords, LLE + iso"
            out.append(BenchResult(f"train step ({setup.kind}, fp32 eager)", ms32, repeats, None, where))
            why = note or (auto.notes[0].removeprefix("running uncompiled: ") if auto.notes else "--quick")
            how = f"{precision}, " + (f"compiled (compile {compile_s:.1f} s, apart)" if auto.compiled
                                      else f"uncompiled ({why})")
            out.append(BenchResult(f"train step ({setup.kind}, auto)", ms_auto, repeats, None,
                                   f"{ms32 / ms_auto:.2f} x faster than fp32 eager; {how}"))
            del fp32, auto
    out += lle_coords_benches(repeats, device, compile_auto, points=1024 if quick else 16384)
    return out


def synthetic_shapes(n: int = 256, points: int = 16384, seed: int = 0) -> SignalSet:
    """``n`` random SDF items, each with its own ``points`` sample coordinates, as mesh data comes."""
    rng = np.random.default_rng(seed)
    return SignalSet(modality="shape", values=rng.uniform(-0.1, 0.1, size=(n, points, 1)).astype(np.float32),
                     resolution=(64, 64, 64), names=[f"s{i}" for i in range(n)], source={"spec": "synthetic"},
                     coords=rng.uniform(-1, 1, size=(n, points, 3)).astype(np.float32), shared_points=points // 2)


def lle_coords_benches(repeats: int, device: torch.device, compile_auto: bool, points: int = 16384) -> list:
    """``train step (shape, LLE at all coords)`` against ``lle_coords=0.25``: the shipped furniture
    configuration (base preset for shapes), the LLE projections decoded at every or a quarter of the
    step's sampled coordinates, both in the run's own precision (``points`` samples per item; ``--quick``: few)."""
    from explorer.io.timing import BenchResult, timed_in_turns

    plug = get_modality("shape")
    dataset = synthetic_shapes(points=points)
    trainers = []
    with tempfile.TemporaryDirectory() as folder:
        for frac in (1.0, 0.25):
            mcfg, tcfg, _ = preset("base", plug.in_dim, 1, plug)
            tcfg.lle_warmup, tcfg.lle_coords = 0, frac
            trainer = Trainer(dataset, mcfg, tcfg, f"{folder}/shape-{frac}.safetensors", device=device, modality=plug,
                              precision="auto", compile=compile_auto)
            trainer.warm_up()
            trainers.append(trainer)
        n = max(3, repeats // 2)
        ms_all, ms_few = timed_in_turns([t.train_step for t in trainers], n, warmup=2, sync=_sync(device))
    c = trainers[0].config
    where = f"base preset for shapes, batch {c.batch_size} x {c.coords_per_signal} points, LLE + iso"
    return [BenchResult("train step (shape, LLE at all coords)", ms_all, n, None, where),
            BenchResult("train step (shape, lle_coords=0.25)", ms_few, n, None,
                        f"{ms_all / ms_few:.2f} x faster than LLE at all coords")]
