"""GEM's hypernetwork neural field (Du et al. 2021, section 3).

A hypernetwork MLP maps a latent z to the parameters of a field MLP. Every field weight is
``W = W_s ⊙ sigmoid(A · B)`` with ``W_s`` shared across signals and the rank-r factors
``A [out, r]``, ``B [r, in]`` predicted per latent; biases are predicted in full.
"""
from __future__ import annotations

import torch
from torch import nn

from explorer.models.config import FieldConfig
from explorer.models.precision import full_precision
from explorer.models.siren import positional_encoding, relu_mlp, siren_uniform_


class HyperField(nn.Module):
    def __init__(self, config: FieldConfig):
        super().__init__()
        self.config = config
        c = config
        self.sine = c.activation == "sine"
        first_in = c.in_dim if self.sine else c.in_dim * (1 + 2 * c.pe_frequencies)
        dims = [first_in] + [c.hidden] * c.layers + [c.out_dim]
        self.shapes = [(dims[i + 1], dims[i]) for i in range(len(dims) - 1)]  # (out, in) per layer
        self.shared = nn.ParameterList()
        for i, (n_out, n_in) in enumerate(self.shapes):
            w = torch.empty(n_out, n_in)
            last = i == len(self.shapes) - 1
            if self.sine and not last:
                omega = c.omega0_first if i == 0 else c.omega0_hidden
                siren_uniform_(w, n_in, omega, first=i == 0)
            elif self.sine:
                siren_uniform_(w, n_in, c.omega0_hidden, first=False)
            else:
                nn.init.kaiming_uniform_(w, nonlinearity="relu")
            # sigmoid(A·B) starts near 0.5: double W_s so the effective weights start at their intended scale
            self.shared.append(nn.Parameter(w.mul_(2.0)))  # in place: on the meta device an out-of-place op imports torch._dynamo (1.5 s)
        # per layer: A [out*r], B [r*in], bias [out]
        self.splits: list[int] = []
        for n_out, n_in in self.shapes:
            self.splits += [n_out * c.rank, c.rank * n_in, n_out]
        self.hyper = relu_mlp([c.latent_dim] + [c.hyper_hidden] * (c.hyper_layers - 1) + [sum(self.splits)])
        self._init_head()

    def _init_head(self) -> None:
        head: nn.Linear = self.hyper[-1]
        c = self.config
        if head.weight.is_meta:  # only the shapes are wanted (``parameter_shapes``), and normal_ on the meta
            return               # device imports torch._dynamo: 1.5 s before a checkpoint's map
        with torch.no_grad():
            head.weight.mul_(0.1)
            parts = torch.split(head.bias, self.splits)
            for li, (n_out, n_in) in enumerate(self.shapes):
                a, b, bias = parts[3 * li : 3 * li + 3]
                a.normal_(0.0, c.rank**-0.5)
                b.normal_(0.0, 1.0)
                bias.uniform_(-(n_in**-0.5), n_in**-0.5)
                if self.sine and li < len(self.shapes) - 1:
                    # SIREN applies omega0 to the bias as well: keep phases within one period
                    bias.div_(c.omega0_first if li == 0 else c.omega0_hidden)

    def field_parameters(self, z: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``z: [B, d]`` -> per layer ``(W [B, out, in], b [B, out])``."""
        flat = self.hyper(z)  # [B, total]
        parts = torch.split(flat, self.splits, dim=1)
        params = []
        r = self.config.rank
        for li, (n_out, n_in) in enumerate(self.shapes):
            a = parts[3 * li].reshape(-1, n_out, r)
            b = parts[3 * li + 1].reshape(-1, r, n_in)
            if li == 0:  # the first layer's weights in float32 (see models.precision)
                w = full_precision(lambda s, a, b: s * torch.sigmoid(torch.bmm(a, b)), self.shared[li], a, b)
            else:
                w = self.shared[li] * torch.sigmoid(torch.bmm(a, b))
            params.append((w, parts[3 * li + 2]))
        return params

    def forward(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """``z: [B, d]``, ``coords: [P, k]`` or ``[B, P, k]`` -> values ``[B, P, out]``."""
        c = self.config
        h = coords if self.sine else positional_encoding(coords, c.pe_frequencies)
        params = self.field_parameters(z)
        last = len(params) - 1
        for li, (w, b) in enumerate(params):
            if li == 0:  # float32 whatever the autocast: omega0 multiplies this layer's rounding error
                h = full_precision(lambda h, w, b: torch.matmul(h, w.transpose(1, 2)) + b[:, None, :], h, w, b)
            else:
                h = torch.matmul(h, w.transpose(1, 2)) + b[:, None, :]  # [B, P, out]
            if li == last:
                break
            if self.sine:
                h = torch.sin((c.omega0_first if li == 0 else c.omega0_hidden) * h)
            else:
                h = torch.relu(h)
        return h.float()
