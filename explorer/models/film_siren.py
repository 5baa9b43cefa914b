"""FiLM-conditioned SIREN as in pi-GAN, following the Zuiderveld thesis (section 4.6.2).

Each layer computes ``sin((omega0_k + gamma_k) ⊙ (W_k x + b_k) + beta_k)``; a ReLU mapping
network turns z into every layer's ``gamma_k, beta_k``; ``omega0`` is separate for the first
and the hidden layers, and ``gamma`` is added to it (not substituted), as the thesis found stable.
"""
from __future__ import annotations

import torch
from torch import nn

from explorer.models.config import FieldConfig
from explorer.models.precision import full_precision
from explorer.models.siren import relu_mlp, siren_layers, siren_output


class FilmSiren(nn.Module):
    def __init__(self, config: FieldConfig):
        super().__init__()
        self.config = config
        c = config
        self.layers_ = siren_layers(c.in_dim, c.hidden, c.layers, c.omega0_first, c.omega0_hidden)
        self.out = siren_output(c.hidden, c.out_dim, c.omega0_hidden)
        self.mapping = relu_mlp([c.latent_dim] + [c.hyper_hidden] * (c.hyper_layers - 1) + [2 * c.layers * c.hidden])
        with torch.no_grad():
            self.mapping[-1].weight.mul_(0.25)
            self.mapping[-1].bias.zero_()

    def film(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``z: [B, d]`` -> ``gamma, beta: [B, layers, hidden]``."""
        gb = self.mapping(z).reshape(z.shape[0], 2, self.config.layers, self.config.hidden)
        return gb[:, 0], gb[:, 1]

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """``z: [B, d]``, ``coords: [P, k]`` or ``[B, P, k]`` -> values ``[B, P, out]``."""
        c = self.config
        gamma, beta = self.film(z)
        # float32: omega0 + gamma in bfloat16 would round 3000 + gamma to a multiple of 16
        gamma, beta = gamma.float(), beta.float()
        h = coords
        for i, layer in enumerate(self.layers_):
            omega = c.omega0_first if i == 0 else c.omega0_hidden
            pre = full_precision(layer, h) if i == 0 else layer(h)  # first layer float32 (models.precision)
            h = torch.sin((omega + gamma[:, i, None, :]) * pre + beta[:, i, None, :])  # [B, P, hidden]
        return self.out(h).float()
