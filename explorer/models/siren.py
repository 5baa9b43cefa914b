"""Building blocks shared by the fields: SIREN initialisation and positional encoding."""
from __future__ import annotations

import math

import torch


def siren_uniform_(weight: torch.Tensor, fan_in: int, omega0: float, first: bool) -> torch.Tensor:
    """SIREN initialisation (Sitzmann et al. 2020) for a layer computing ``sin(omega0 * (W x + b))``."""
    bound = 1.0 / fan_in if first else math.sqrt(6.0 / fan_in) / omega0
    with torch.no_grad():
        return weight.uniform_(-bound, bound)


def positional_encoding(coords: torch.Tensor, octaves: int) -> torch.Tensor:
    """``coords: [..., k] -> [..., k * (1 + 2 * octaves)]``: x, sin(2^j pi x), cos(2^j pi x)."""
    freqs = (2.0 ** torch.arange(octaves, device=coords.device, dtype=coords.dtype)) * math.pi
    angles = coords[..., None] * freqs  # [..., k, octaves]
    enc = torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(-2)
    return torch.cat([coords, enc], dim=-1)


def relu_mlp(sizes: list[int]) -> torch.nn.Sequential:
    """A ReLU MLP with the given layer sizes and no activation after the last layer."""
    layers: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def siren_layers(in_dim: int, hidden: int, layers: int, omega0_first: float, omega0_hidden: float) -> torch.nn.ModuleList:
    """The shared linear layers of a SIREN synthesis network, SIREN-initialised for their omega0."""
    out = torch.nn.ModuleList()
    for i in range(layers):
        n_in = in_dim if i == 0 else hidden
        layer = torch.nn.Linear(n_in, hidden)
        siren_uniform_(layer.weight, n_in, omega0_first if i == 0 else omega0_hidden, first=i == 0)
        out.append(layer)
    return out


def siren_output(hidden: int, out_dim: int, omega0_hidden: float) -> torch.nn.Linear:
    """The final linear layer of a SIREN (no activation)."""
    layer = torch.nn.Linear(hidden, out_dim)
    siren_uniform_(layer.weight, hidden, omega0_hidden, first=False)
    return layer
