"""Training configuration and named presets (stored in the checkpoint with the weights)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from explorer.errors import ExplorerError
from explorer.models.config import FieldConfig


@dataclass
class TrainConfig:
    steps: int = 6000
    """Optimisation steps (one batch of signals each)."""
    minutes: float = 0.0
    """A budget of training time in minutes (0: none). The run ends at ``steps`` or when its training time
    (as the checkpoint records it: compiling and reading the data not counted) reaches the budget, whichever
    comes first, and a cosine schedule follows whichever of the two is further along, so a run cut by time
    still ends at ``lr_final``. How many steps that is depends on the machine."""
    batch_size: int = 64
    """Signals per step."""
    coords_per_signal: int = 256
    """Coordinates sampled at random from each signal per step (GEM eq. 4)."""
    lr: float = 2e-4
    """Adam learning rate of the network."""
    latent_lr: float = 5e-2
    """Adam learning rate of the latents (high: each latent is in only batch_size / N of the steps)."""
    lr_schedule: str = "constant"
    """"constant", or "cosine": both learning rates fall along a half cosine to ``lr_final`` times
    their value at the last step (the latents settle instead of jittering at a high rate)."""
    lr_final: float = 0.1
    latent_init_std: float = 0.01
    """Standard deviation of the Gaussian the latents start from."""
    lle: bool = True
    """Use GEM's LLE loss (section 4.2)."""
    iso: bool = True
    """Use GEM's local isometry loss (section 4.3)."""
    lle_k: int = 10
    """Neighbours of each latent for the LLE loss."""
    lle_weight: float = 1.0
    lle_warmup: int = 0
    """Steps of reconstruction (and isometry) alone before L_LLE starts; it then ramps linearly to
    ``lle_weight`` over as many steps again (0: L_LLE from the first step, as in GEM). At most a
    quarter of ``steps``, so that a short run still trains with L_LLE."""
    lle_coords: float = 1.0
    """Fraction of each signal's sampled coordinates at which L_LLE decodes the LLE projections (1: all of
    them, as in GEM). L_LLE is an expectation over coordinates like the reconstruction; below 1 it is
    estimated from evenly spaced ones of the step's samples, in a second, smaller decode, and the step
    costs less (a projection's decode is half of a step's work at 1)."""
    iso_weight: float = 1.0
    negative_weight: float = 1.0
    """Weight of the L1 penalty on negative LLE weights."""
    sampling: str = "random"
    """How coordinates are drawn each step: "random" (uniformly, per signal) or "strided" (every
    k-th sample with a random phase per signal, as in the Zuiderveld thesis for waveforms)."""
    derivative_weight: float = 0.0
    """Weight of the derivative MSE (thesis eq. 4.7) for 1-D fields: the field's derivative
    (autograd) against the target's forward difference, both per sample."""
    stft_weight: float = 0.0
    """Weight of the multi-resolution STFT loss (thesis section 4.7, optional) for waveform fields
    trained with strided sampling: the strided samples form a decimated clip whose STFT magnitudes
    are compared at window sizes 400, 800, 1600 and 3200 samples of the full rate, scaled by the stride."""
    iso_quantile: float = 0.25
    """Fraction of the closest signal pairs in a batch that the isometry loss applies to."""
    table_sync_every: int = 1
    """Multi-process runs (``torchrun``): steps between all-gathers of the latent table in which L_LLE looks
    for neighbours (each process's own rows are always current); 0 never refreshes the others' rows."""
    seed: int = 0
    save_every_s: float = 120.0
    """Seconds between checkpoint writes during training (and always at the end)."""

    def __post_init__(self) -> None:
        if not self.minutes >= 0:  # also NaN
            raise ExplorerError("training config: minutes is a time budget, >= 0 (0: none)")
        if self.steps < 0 or self.batch_size < 1 or self.coords_per_signal < 1 or self.lle_k < 1 or self.lle_warmup < 0:
            raise ExplorerError("training config: steps must be >= 0 and batch_size, coords_per_signal, lle_k >= 1")
        if not 0 < self.lle_coords <= 1:
            raise ExplorerError("training config: lle_coords is a fraction of the sampled coordinates, in (0, 1]")
        if self.stft_weight > 0 and self.sampling != "strided":
            raise ExplorerError("training config: the STFT loss needs sampling=strided (evenly spaced samples)")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ExplorerError(f"training config: lr_schedule must be constant or cosine, not {self.lr_schedule!r}")
        if self.sampling not in ("random", "strided"):
            raise ExplorerError(f"training config: sampling must be random or strided, not {self.sampling!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})



DATA_SETTINGS = {"points": int, "shell": float}
"""Settings of how the data is sampled rather than of the model or training, with their types, recorded in
the checkpoint's data source: ``--set points=16384`` (SDF samples per mesh), ``--set shell=0.016`` (every
mesh surface moved out by that distance, so that an open sheet becomes a solid; ``data.shapes``)."""

BASE_MANIFOLD_WEIGHT = 0.1
"""The ``base`` preset's L_LLE and L_iso weights (GEM's are 1, as in ``small``, the ablation's preset): at 0.1
Fashion-MNIST, sprites and the furniture trained closer on their training items and held out, the notes
closer on their training items and more often on pitch (docs/recipe.md, 2026-12-04). Audio-visual models
keep 1 (``AudioVisualModality.preset_settings``): at 0.1 their hallucination matched less often."""

# name -> (model config overrides, train config overrides, data options)
PRESETS: dict[str, tuple[dict, dict, dict]] = {
    "tiny": (  # seconds on a laptop: tests and smoke checks
        dict(latent_dim=8, hidden=32, layers=2, rank=2, hyper_hidden=32, hyper_layers=2),
        dict(steps=40, batch_size=16, coords_per_signal=64, lr=1e-3, latent_lr=1e-2, lle_k=4, save_every_s=60.0),
        dict(max_items=64, max_test=16),
    ),
    "small": (  # minutes on 2 CPU cores: ablations
        dict(latent_dim=32, hidden=128, layers=3, rank=8, hyper_hidden=256, hyper_layers=3),
        dict(steps=3000, batch_size=64, coords_per_signal=196),
        dict(max_items=2000, max_test=200),
    ),
    "base": (  # the recipe of docs/recipe.md: the shipped checkpoints, and what `train` gives by default
        dict(latent_dim=256, hidden=128, layers=3, rank=8, hyper_hidden=256, hyper_layers=3),
        dict(steps=24000, batch_size=64, coords_per_signal=196, lle_warmup=1000, lr_schedule="cosine",
             lle_weight=BASE_MANIFOLD_WEIGHT, iso_weight=BASE_MANIFOLD_WEIGHT),
        dict(max_items=10000, max_test=500),
    ),
    "large": (  # sized for a GPU: wider fields, more samples per step, a longer run
        dict(latent_dim=256, hidden=256, layers=4, rank=16, hyper_hidden=512, hyper_layers=3),
        dict(steps=100000, batch_size=128, coords_per_signal=512, lle_warmup=2000, lr_schedule="cosine"),
        dict(max_items=None, max_test=500),
    ),
    "audio-waveform": (  # the Zuiderveld thesis's waveform field: FiLM SIREN, strided samples, derivative loss
        dict(kind="film", latent_dim=64, hidden=256, layers=4, omega0_first=3000.0, omega0_hidden=30.0,
             hyper_hidden=256, hyper_layers=3),
        dict(steps=3000, batch_size=16, coords_per_signal=2000, lr=1e-4, sampling="strided", derivative_weight=1.0),
        dict(),
    ),
}


def preset(name: str, in_dim: int, out_dim: int, plug=None) -> tuple[FieldConfig, TrainConfig, dict]:
    """The preset's model, training and data settings; a modality ``plug`` adds what its signals need
    (its ``preset_settings``: e.g. shapes a low first-layer omega0 and many samples per item)."""
    if name not in PRESETS:
        raise ExplorerError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    model, train, data = PRESETS[name]
    model_cfg, train_cfg, data = FieldConfig(in_dim=in_dim, out_dim=out_dim, **model), TrainConfig(**train), dict(data)
    extra = getattr(plug, "preset_settings", {}).get(name, {}) if plug is not None else {}
    for key, value in extra.items():
        if "." in key:  # one part's setting (``part_preset_settings``)
            continue
        if key in DATA_SETTINGS:
            data[key] = value
            continue
        target = model_cfg if hasattr(model_cfg, key) else train_cfg
        if not hasattr(target, key):
            raise ExplorerError(f"preset setting {key!r} is neither a model nor a training setting")
        setattr(target, key, value)
    return model_cfg, train_cfg, data


def part_preset_settings(name: str, plug) -> dict[str, list[str]]:
    """The settings a modality's preset gives one part of a multi-field model: ``{part: ["KEY=VALUE"]}``
    (``"audio.omega0_first": 90`` in its ``preset_settings``), applied before the user's ``--set``."""
    out: dict[str, list[str]] = {}
    for key, value in (getattr(plug, "preset_settings", {}).get(name, {}) if plug is not None else {}).items():
        part, dot, setting = key.partition(".")
        if dot:
            out.setdefault(part, []).append(f"{setting}={value}")
    return out


def apply_setting(item: str, *configs) -> None:
    """``KEY=VALUE`` onto the first config with that field, converted to the field's type."""
    key, sep, raw = item.partition("=")
    key = key.strip().replace("-", "_")
    if not sep:
        raise ExplorerError(f"--set {item!r}: write KEY=VALUE, e.g. --set hidden=256")
    for cfg in configs:
        names = {f.name for f in dataclasses.fields(cfg)}
        if key in names:
            current = getattr(cfg, key)
            try:
                if isinstance(current, bool):
                    if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(raw)
                    value = raw.lower() in ("true", "1", "yes")
                else:
                    value = type(current)(raw)
            except ValueError:
                raise ExplorerError(f"--set {key}: {raw!r} is not a valid {type(current).__name__}") from None
            setattr(cfg, key, value)
            return
    known = sorted({f.name for cfg in configs for f in dataclasses.fields(cfg)})
    raise ExplorerError(f"--set: unknown setting {key!r}; known: {', '.join(known)}")
