"""Modulated periodic activations (Mehta et al. 2021, section 3.1).

Synthesis network: ``h_i = alpha_i ⊙ sin(omega0 * (w_i h_{i-1} + b_i))`` with weights shared by
all signals. Modulation network: ``alpha_1 = ReLU(w'_1 z + b'_1)``,
``alpha_{i+1} = ReLU(w'_{i+1} [alpha_i, z] + b'_{i+1})`` — z reaches every layer by a skip
connection. Much cheaper than a hypernetwork: the synthesis weights are not per signal.
"""
from __future__ import annotations

import torch
from torch import nn

from explorer.models.config import FieldConfig
from explorer.models.precision import full_precision
from explorer.models.siren import siren_layers, siren_output


class ModulatedSiren(nn.Module):
    def __init__(self, config: FieldConfig):
        super().__init__()
        self.config = config
        c = config
        self.synthesis = siren_layers(c.in_dim, c.hidden, c.layers, c.omega0_first, c.omega0_hidden)
        self.modulation = nn.ModuleList()
        for i in range(c.layers):
            mod = nn.Linear(c.latent_dim if i == 0 else c.hidden + c.latent_dim, c.hidden)
            with torch.no_grad():
                mod.weight.mul_(0.1)
                mod.bias.fill_(1.0)  # alpha starts near 1: a plain SIREN
            self.modulation.append(mod)
        self.out = siren_output(c.hidden, c.out_dim, c.omega0_hidden)

    def modulations(self, z: torch.Tensor) -> list[torch.Tensor]:
        """``z: [B, d]`` -> ``alpha_i: [B, hidden]`` for each synthesis layer."""
        alphas = []
        a = torch.relu(self.modulation[0](z))
        alphas.append(a)
        for mod in self.modulation[1:]:
            a = torch.relu(mod(torch.cat([a, z], dim=1)))
            alphas.append(a)
        return alphas

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """``z: [B, d]``, ``coords: [P, k]`` or ``[B, P, k]`` -> values ``[B, P, out]``."""
        c = self.config
        alphas = self.modulations(z)
        h = coords
        for i, (layer, alpha) in enumerate(zip(self.synthesis, alphas)):
            omega = c.omega0_first if i == 0 else c.omega0_hidden
            pre = full_precision(layer, h) if i == 0 else layer(h)  # first layer float32 (models.precision)
            h = alpha[:, None, :] * torch.sin(omega * pre)  # [B, P, hidden]
        return self.out(h).float()
