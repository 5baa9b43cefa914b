"""The typed model configuration that is stored in every checkpoint and rebuilds the model on load."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from explorer.errors import ExplorerError
from explorer.io.typed import need_dict, need_float, need_int, need_list, need_str

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

    def point_cost(self) -> int:
        """Multiply-adds per coordinate of the field network (the per-latent work aside)."""
        return self.in_dim * self.hidden + (self.layers - 1) * self.hidden**2 + self.hidden * self.out_dim

    def summary(self) -> str:
        return f"{self.kind} field, {self.layers} x {self.hidden} {self.activation if self.kind == 'hyper' else 'sine'}"

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

    def point_cost(self) -> int:
        return max(c.point_cost() for c in self.parts.values())

    def to_dict(self) -> dict:
        return {"kind": "multi", "parts": {k: c.to_dict() for k, c in self.parts.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "MultiFieldConfig":
        unknown = sorted(set(data) - {"kind", "parts"})
        if unknown or not isinstance(data.get("parts"), dict) or not 1 <= len(data["parts"]) <= 8:
            raise ExplorerError(f"multi-field model config is malformed (fields {sorted(data)})")
        return cls({k: FieldConfig.from_dict(v) for k, v in data["parts"].items()})


@dataclass
class DeepSDFConfig:
    """DeepSDF's decoder (Park et al. 2019, ``networks/deep_sdf_decoder.py``), imported from a DeepSDF
    experiment (``io.deepsdf_import``): ReLU layers ``lin0 ... linL`` over ``cat([z, xyz])``, the input
    concatenated again before each layer in ``latent_in``, xyz before every other hidden layer when
    ``xyz_in_all``, and a final tanh. Weight norm is folded into plain weights on import; dropout only
    acts in training."""

    latent_dim: int = 256
    dims: list[int] = dataclasses.field(default_factory=lambda: [512] * 8)
    """Widths of the hidden layers (DeepSDF's ``NetworkSpecs.dims``)."""
    latent_in: list[int] = dataclasses.field(default_factory=lambda: [4])
    """Layers whose input is concatenated with the network's input ``[z, xyz]``."""
    xyz_in_all: bool = False
    use_tanh: bool = False
    """A tanh after the last layer, before the final tanh that DeepSDF always applies."""
    layer_norm: list[int] = dataclasses.field(default_factory=list)
    """Hidden layers followed by a LayerNorm (``bn<i>``): DeepSDF's ``norm_layers`` when trained without weight norm."""
    kind: str = "deepsdf"
    in_dim = 3
    out_dim = 1

    def __post_init__(self) -> None:
        need_int(self.latent_dim, "model config: latent_dim", *SIZE_BOUNDS["latent_dim"])
        dims = need_list(self.dims, "model config: dims", 32)
        if not dims:
            raise ExplorerError("model config: dims is empty")
        for d in dims:
            need_int(d, "model config: dims", 1, 8192)
        n = len(dims) + 1  # linear layers
        for name in ("latent_in", "layer_norm"):
            for i in need_list(getattr(self, name), f"model config: {name}", 32):
                need_int(i, f"model config: {name}", 1 if name == "latent_in" else 0, n - (1 if name == "latent_in" else 2))
        for name in ("xyz_in_all", "use_tanh"):
            if not isinstance(getattr(self, name), bool):
                raise ExplorerError(f"model config: {name} must be true or false")
        for i in self.latent_in:
            if dims[i] - (self.latent_dim + 3) < 1:
                raise ExplorerError(f"model config: layer {i} concatenates the input, so it must be wider than {self.latent_dim + 3}")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "DeepSDFConfig":
        need_dict(data, "model config")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ExplorerError(f"model config has unknown fields {unknown}; was it written by a newer latent-explorer?")
        return cls(**data)

    def point_cost(self) -> int:
        """Multiply-adds per coordinate (the latent's share is computed once per latent)."""
        dims = [3, *self.dims, 1]
        return sum(dims[i] * dims[i + 1] for i in range(len(dims) - 1)) + sum(self.latent_dim * self.dims[i - 1] for i in self.latent_in)

    def summary(self) -> str:
        skip = f", input again at layer {', '.join(map(str, self.latent_in))}" if self.latent_in else ""
        return f"DeepSDF decoder, {len(self.dims)} x {max(self.dims)} ReLU{skip}"


ModelConfig = FieldConfig | MultiFieldConfig | DeepSDFConfig


def model_config_from_dict(data: dict) -> ModelConfig:
    """The stored config of a checkpoint: one field, several sharing the latent, or an imported DeepSDF decoder."""
    need_dict(data, "model config")
    if data.get("kind") == "multi":
        return MultiFieldConfig.from_dict(data)
    if data.get("kind") == "deepsdf":
        return DeepSDFConfig.from_dict(data)
    return FieldConfig.from_dict(data)
