"""DeepSDF's decoder as a field ``f(z, xyz) -> sdf``, with DeepSDF's own weight names (``lin<i>``, ``bn<i>``).

The network computes what DeepSDF's ``Decoder.forward(cat([z, xyz]))`` computes in evaluation mode, but
never builds the ``[B, P, d + 3]`` input: each layer that reads the input splits its weight into the
columns of ``z`` (applied once per latent) and those of ``xyz`` (once per point).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from explorer.models.config import DeepSDFConfig


class DeepSDFField(nn.Module):
    def __init__(self, config: DeepSDFConfig) -> None:
        super().__init__()
        self.config = config
        d = config.latent_dim
        dims = [d + 3, *config.dims, 1]
        self.n_linear = len(dims) - 1
        for layer in range(self.n_linear):
            out = dims[layer + 1]
            if layer + 1 in config.latent_in:
                out -= dims[0]
            elif config.xyz_in_all and layer != self.n_linear - 1:
                out -= 3
            n_in = dims[layer]
            self.add_module(f"lin{layer}", nn.Linear(n_in, out))
            if layer in config.layer_norm:
                self.add_module(f"bn{layer}", nn.LayerNorm(out))

    def _reads_input(self, layer: int) -> str:
        """What layer ``layer`` appends to its hidden input: the whole input, xyz alone, or nothing."""
        if layer == 0 or layer in self.config.latent_in:
            return "input"
        return "xyz" if self.config.xyz_in_all else ""

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """``z: [B, d]``, ``coords: [P, 3]`` or ``[B, P, 3]`` -> ``[B, P, 1]``."""
        d = self.config.latent_dim
        if coords.ndim == 2:
            coords = coords[None]
        x = None
        for layer in range(self.n_linear):
            lin = getattr(self, f"lin{layer}")
            w, b = lin.weight, lin.bias
            reads = self._reads_input(layer)
            n_hidden = 0 if x is None else x.shape[-1]
            if reads == "input":
                wz, wx = w[:, n_hidden : n_hidden + d], w[:, n_hidden + d :]
                y = F.linear(coords, wx, b) + F.linear(z, wz)[:, None, :]
            elif reads == "xyz":
                y = F.linear(coords, w[:, n_hidden:], b)
            else:
                y = None
            if x is not None:
                y = F.linear(x, w[:, :n_hidden], b if y is None else None) + (0 if y is None else y)
            x = y
            if layer == self.n_linear - 1:
                break
            if layer in self.config.layer_norm:
                x = getattr(self, f"bn{layer}")(x)
            x = torch.relu_(x)
        if self.config.use_tanh:
            x = torch.tanh(x)
        return torch.tanh(x).float()
