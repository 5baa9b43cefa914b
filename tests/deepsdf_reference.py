"""A DeepSDF experiment built the way DeepSDF builds one, for the import tests: DeepSDF's ``Decoder``
(``networks/deep_sdf_decoder.py``: ``lin<i>`` layers over ``cat([latent, xyz])``, the input concatenated
again at ``latent_in``, ``nn.utils.weight_norm``, the final tanh), wrapped in ``DataParallel`` as its
``train_deep_sdf.py`` does, trained for a few hundred steps on six analytic shapes with an
``nn.Embedding`` of codes, and saved with ``torch.save`` in its folder layout."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import nn

SPECS = {"dims": [64] * 8, "dropout": [0, 1, 2, 3, 4, 5, 6, 7], "dropout_prob": 0.0,
         "norm_layers": [0, 1, 2, 3, 4, 5, 6, 7], "latent_in": [4], "xyz_in_all": False, "use_tanh": False,
         "latent_dropout": False, "weight_norm": True}
CODE = 16
RADIUS = 1 / 1.03
"""DeepSDF normalises every mesh into the unit sphere with a 3 % margin; so are these shapes."""


def _box(a: float, b: float, c: float) -> tuple[float, float, float]:
    scale = RADIUS / (a * a + b * b + c * c) ** 0.5
    return (a * scale, b * scale, c * scale)


SHAPES = [("ball", "sphere", (RADIUS,) * 3), ("cube", "box", _box(1, 1, 1)), ("slab", "box", _box(4, 4, 1)),
          ("plank", "box", _box(4, 1, 1)), ("brick", "box", _box(2, 1, 1)), ("tile", "box", _box(4, 2, 1))]
"""``(name, class, half extents)``: a ball and five boxes of different proportions."""


class Decoder(nn.Module):
    """DeepSDF's decoder in evaluation, as its repository writes it (dropout omitted: it acts only in training)."""

    def __init__(self, latent_size, dims, norm_layers=(), latent_in=(), weight_norm=False, xyz_in_all=False,
                 use_tanh=False, **_):
        super().__init__()
        dims = [latent_size + 3] + dims + [1]
        self.num_layers, self.norm_layers, self.latent_in = len(dims), norm_layers, latent_in
        self.xyz_in_all, self.weight_norm, self.use_tanh = xyz_in_all, weight_norm, use_tanh
        for layer in range(self.num_layers - 1):
            if layer + 1 in latent_in:
                out_dim = dims[layer + 1] - dims[0]
            else:
                out_dim = dims[layer + 1]
                if xyz_in_all and layer != self.num_layers - 2:
                    out_dim -= 3
            lin = nn.Linear(dims[layer], out_dim)
            if weight_norm and layer in norm_layers:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)  # deprecated, but what DeepSDF's files hold
                    lin = nn.utils.weight_norm(lin)
            setattr(self, f"lin{layer}", lin)
            if not weight_norm and layer in norm_layers:
                setattr(self, f"bn{layer}", nn.LayerNorm(out_dim))

    def forward(self, input):
        xyz, x = input[:, -3:], input
        for layer in range(self.num_layers - 1):
            lin = getattr(self, f"lin{layer}")
            if layer in self.latent_in:
                x = torch.cat([x, input], 1)
            elif layer != 0 and self.xyz_in_all:
                x = torch.cat([x, xyz], 1)
            x = lin(x)
            if layer == self.num_layers - 2 and self.use_tanh:
                x = torch.tanh(x)
            if layer < self.num_layers - 2:
                if layer in self.norm_layers and not self.weight_norm:
                    x = getattr(self, f"bn{layer}")(x)
                x = torch.relu(x)
        return torch.tanh(x)


def true_sdf(kind: str, half: tuple[float, float, float], xyz: torch.Tensor) -> torch.Tensor:
    if kind == "sphere":
        return xyz.norm(dim=-1) - half[0]
    q = xyz.abs() - torch.tensor(half)
    return q.clamp(min=0).norm(dim=-1) + q.max(dim=-1).values.clamp(max=0)


def train(steps: int = 300, seed: int = 0) -> tuple[nn.Module, nn.Embedding]:
    """The decoder in ``DataParallel`` and the codes, fitted by L1 to the SDF clamped at 0.1 (DeepSDF clamps
    its prediction too, which at this small size and step count leaves every output clamped, without gradient)."""
    torch.manual_seed(seed)
    decoder = nn.DataParallel(Decoder(CODE, **SPECS))
    codes = nn.Embedding(len(SHAPES), CODE)
    nn.init.normal_(codes.weight, 0.0, 0.01)
    opt = torch.optim.Adam([{"params": decoder.parameters(), "lr": 1e-3}, {"params": codes.parameters(), "lr": 1e-2}])
    for _ in range(steps):
        xyz = torch.cat([torch.rand(len(SHAPES), 256, 3) * 2 - 1, torch.randn(len(SHAPES), 256, 3) * 0.4], 1).clamp(-1, 1)
        target = torch.stack([true_sdf(k, h, xyz[i]) for i, (_, k, h) in enumerate(SHAPES)]).clamp(-0.1, 0.1)
        z = codes.weight[:, None, :].expand(-1, xyz.shape[1], -1)
        pred = decoder(torch.cat([z, xyz], -1).reshape(-1, CODE + 3)).reshape(len(SHAPES), -1)
        loss = (pred - target).abs().mean() + 1e-4 * codes.weight.pow(2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return decoder.eval(), codes


def write(root: Path, decoder: nn.Module, codes: nn.Embedding, epoch: int = 300, old_codes: bool = False) -> Path:
    """``root/examples/shapes`` (the experiment) and ``root/examples/splits/shapes_train.json``, named in
    specs.json relative to ``root`` as DeepSDF's examples name theirs."""
    exp = root / "examples" / "shapes"
    for sub in ("ModelParameters", "LatentCodes", "OptimizerParameters"):
        (exp / sub).mkdir(parents=True, exist_ok=True)
    (root / "examples" / "splits").mkdir(parents=True, exist_ok=True)
    split = {"Synthetic": {}}
    for name, kind, _ in SHAPES:
        split["Synthetic"].setdefault(kind, []).append(name)
    (root / "examples" / "splits" / "shapes_train.json").write_text(json.dumps(split))
    specs = {"Description": "six analytic shapes", "DataSource": "data", "TrainSplit": "examples/splits/shapes_train.json",
             "TestSplit": "examples/splits/shapes_test.json", "NetworkArch": "deep_sdf_decoder", "NetworkSpecs": SPECS,
             "CodeLength": CODE, "NumEpochs": epoch + 1, "SnapshotFrequency": epoch, "ClampingDistance": 0.1}
    (exp / "specs.json").write_text(json.dumps(specs, indent=2))
    latent = codes.weight.detach()[:, None, :] if old_codes else codes.state_dict()
    for name in (str(epoch), "latest"):
        torch.save({"epoch": epoch, "model_state_dict": decoder.state_dict()}, exp / "ModelParameters" / f"{name}.pth")
        torch.save({"epoch": epoch, "latent_codes": latent}, exp / "LatentCodes" / f"{name}.pth")
    return exp
