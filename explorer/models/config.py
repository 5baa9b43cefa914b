"""The typed model configuration that is stored in every checkpoint and rebuilds the model on load."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from explorer.errors import ExplorerError
from explorer.io.typed import need_dict, need_float, need_int, need_str

MODEL_KINDS = ("hyper", "modulated", "film")
ACTIVATIONS = ("sine", "relu_pe")
SIZE_BOUNDS = {"in_dim": (1, 4), "out_dim": (1, 16), "latent_dim": (1, 4096), "hidden": (1, 4096), "layers": (1, 32),
               "rank": (1, 1024), "hyper_hidden": (1, 8192), "hyper_layers": (1, 32), "pe_frequencies": (0, 24)}
"""What a stored or requested config may say; the parameter count is bounded as well (``models.check_size``)."""


@dataclass
class FieldConfig:
    """Architecture of a latent-conditioned neural field ``f(z, x) -> v``."""

    kind: str = "hyper"
    """"hyper" (GEM hypernetwork, low-rank weights), "modulated" (Mehta et al. synthesis +
    modulation network) or "film" (pi-GAN FiLM SIREN, Zuiderveld thesis)."""
    in_dim: int = 2
    """Coordinate dimension: 2 for images, 1 for waveforms, 3 for shapes."""
    out_dim: int = 1
    """Values per coordinate: 1 for grey images and audio, 3 for colour."""
    latent_dim: int = 64
    """Dimension of the latent z of each signal."""
    hidden: int = 256
    """Width of the field MLP's hidden layers."""
    layers: int = 3
    """Number of hidden layers of the field MLP."""
    activation: str = "sine"
    """Field activation of the "hyper" model: "sine" (SIREN) or "relu_pe" (positional encoding + ReLU)."""
    omega0_first: float = 30.0
    """SIREN frequency factor of the first layer."""
    omega0_hidden: float = 30.0
    """SIREN frequency factor of the hidden layers."""
    rank: int = 8
    """Rank r of the predicted factors A [out, r], B [r, in] of the "hyper" model."""
    hyper_hidden: int = 256
    """Width of the hypernetwork / modulation / mapping MLP."""
    hyper_layers: int = 3
    """Layers of the hypernetwork / mapping MLP (the last one predicts the field parameters)."""
    pe_frequencies: int = 8
    """Octaves of the positional encoding of the "relu_pe" activation."""

    def __post_init__(self) -> None:
        need_str(self.kind, "model config: kind", MODEL_KINDS)
        need_str(self.activation, "model config: activation", ACTIVATIONS)
        for name, (lo, hi) in SIZE_BOUNDS.items():
            need_int(getattr(self, name), f"model config: {name}", lo, hi)
        for name in ("omega0_first", "omega0_hidden"):
            setattr(self, name, need_float(getattr(self, name), f"model config: {name}", 1e-3, 1e4))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FieldConfig":
        need_dict(data, "model config")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ExplorerError(f"model config has unknown fields {unknown}; was it written by a newer latent-explorer?")
        return cls(**data)


@dataclass
class MultiFieldConfig:
    """Several fields that share one latent (GEM fig. 1: an image field and an audio field)."""

    parts: dict[str, FieldConfig]
    kind: str = "multi"

    def __post_init__(self) -> None:
        if not self.parts:
            raise ExplorerError("a multi-field model needs at least one part")
        dims = {c.latent_dim for c in self.parts.values()}
        if len(dims) != 1:
            raise ExplorerError(f"the parts of a multi-field model must share one latent dimension, got {sorted(dims)}")

    @property
    def latent_dim(self) -> int:
        return next(iter(self.parts.values())).latent_dim

    def to_dict(self) -> dict:
        return {"kind": "multi", "parts": {k: c.to_dict() for k, c in self.parts.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "MultiFieldConfig":
        unknown = sorted(set(data) - {"kind", "parts"})
        if unknown or not isinstance(data.get("parts"), dict) or not 1 <= len(data["parts"]) <= 8:
            raise ExplorerError(f"multi-field model config is malformed (fields {sorted(data)})")
        return cls({k: FieldConfig.from_dict(v) for k, v in data["parts"].items()})


ModelConfig = FieldConfig | MultiFieldConfig


def model_config_from_dict(data: dict) -> ModelConfig:
    """The stored config of a checkpoint: one field, or several sharing the latent."""
    need_dict(data, "model config")
    if data.get("kind") == "multi":
        return MultiFieldConfig.from_dict(data)
    return FieldConfig.from_dict(data)
