"""Writing a DeepSDF experiment folder in DeepSDF's own layout, for the tests and the bench of
``import deepsdf``: ``specs.json``, ``ModelParameters/<epoch>.pth`` with ``module.``-prefixed, weight-normed
weights (``weight_g``, ``weight_v``), ``LatentCodes/<epoch>.pth`` and the train split."""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from explorer.io.atomic import atomic_write_bytes
from explorer.models import DeepSDFConfig, DeepSDFField


def specs_for(config: DeepSDFConfig, train_split: str, weight_norm: bool = True) -> dict:
    """``specs.json`` as DeepSDF's examples write it (``examples/chairs/specs.json``), for ``config``."""
    n = len(config.dims)
    return {
        "Description": "written by latent-explorer in DeepSDF's layout",
        "DataSource": "data",
        "TrainSplit": train_split,
        "NetworkArch": "deep_sdf_decoder",
        "NetworkSpecs": {"dims": list(config.dims), "dropout": list(range(n)), "dropout_prob": 0.2,
                         "norm_layers": list(range(n)) if weight_norm else list(config.layer_norm),
                         "latent_in": list(config.latent_in), "xyz_in_all": config.xyz_in_all,
                         "use_tanh": config.use_tanh, "latent_dropout": False, "weight_norm": weight_norm},
        "CodeLength": config.latent_dim,
        "NumEpochs": 2001,
    }


def weight_normed(state: dict[str, torch.Tensor], layers: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``lin<i>.weight`` as weight norm stores it: a direction ``weight_v`` (scaled by a random factor per
    row, so that only folding recovers the weight) and a magnitude ``weight_g [out, 1]``."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, value in state.items():
        name = key.rsplit(".", 1)[0]
        if key.endswith(".weight") and name.startswith("lin") and int(name[3:]) < layers:
            out[f"{name}.weight_g"] = value.norm(dim=1, keepdim=True)
            out[f"{name}.weight_v"] = value * (0.5 + torch.rand(value.shape[0], 1, generator=gen))
        else:
            out[key] = value
    return out


def write_experiment(folder: str | Path, config: DeepSDFConfig, state: dict[str, torch.Tensor], latents: torch.Tensor,
                     items: list[tuple[str, str, str]], split_file: str | Path, train_split: str, epoch: int = 5,
                     weight_norm: bool = True, old_codes: bool = False) -> Path:
    """An experiment folder holding ``state`` (plain ``lin<i>``/``bn<i>`` weights) and ``latents [N, D]`` at
    ``epoch`` and as ``latest``; the split of ``items`` ``(dataset, class, instance)`` is written to
    ``split_file`` and named ``train_split`` in ``specs.json``. ``old_codes``: the codes as a raw ``[N, 1, D]``
    tensor, as older DeepSDF experiments saved them."""
    import io

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "specs.json", json.dumps(specs_for(config, train_split, weight_norm), indent=2).encode())
    split: dict = {}
    for dataset, cls, inst in items:
        split.setdefault(dataset, {}).setdefault(cls, []).append(inst)
    Path(split_file).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(split_file, json.dumps(split).encode())
    n_wn = len(config.dims) if weight_norm else 0
    model = {f"module.{k}": v.detach().clone() for k, v in (weight_normed(state, n_wn) if weight_norm else state).items()}
    codes = latents.detach().clone()
    codes = codes[:, None, :] if old_codes else {"weight": codes}
    for sub, data in (("ModelParameters", {"epoch": epoch, "model_state_dict": model}),
                      ("LatentCodes", {"epoch": epoch, "latent_codes": codes})):
        for name in (str(epoch), "latest"):
            buf = io.BytesIO()
            torch.save(data, buf)
            (folder / sub).mkdir(exist_ok=True)
            atomic_write_bytes(folder / sub / f"{name}.pth", buf.getvalue())
    return folder


def sphere_field(config: DeepSDFConfig, radius: float = 0.5, seed: int = 0) -> DeepSDFField:
    """A decoder whose every latent decodes to roughly a sphere of ``radius`` (the geometric initialisation
    of Atzmon & Lipman, SAL 2020, with the latent's weights small): a stand-in for a trained DeepSDF whose
    surfaces cost what real ones do to find and mesh."""
    torch.manual_seed(seed)
    field = DeepSDFField(config)
    n = field.n_linear
    with torch.no_grad():
        for layer in range(n):
            lin = getattr(field, f"lin{layer}")
            out_dim, in_dim = lin.weight.shape
            if layer == n - 1:
                lin.weight.normal_(math.sqrt(math.pi) / math.sqrt(in_dim), 1e-4)
                lin.bias.fill_(-radius)
            else:
                lin.weight.normal_(0.0, math.sqrt(2) / math.sqrt(out_dim))
                lin.bias.zero_()
                if layer == 0 or layer in config.latent_in:  # the input's latent columns: small
                    start = in_dim - config.latent_dim - 3
                    lin.weight[:, start : start + config.latent_dim].mul_(0.01)
    return field
