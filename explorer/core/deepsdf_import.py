"""A DeepSDF experiment folder (facebookresearch/DeepSDF) as a regular checkpoint.

An experiment holds ``specs.json`` (``NetworkArch``, ``NetworkSpecs``, ``CodeLength``, ``TrainSplit``),
``ModelParameters/<epoch>.pth`` (``{"epoch", "model_state_dict"}``, keys prefixed ``module.`` by
``DataParallel``) and ``LatentCodes/<epoch>.pth`` (``{"epoch", "latent_codes"}``: an ``nn.Embedding``'s
state dict, or in older experiments a raw ``[N, 1, D]`` tensor). The decoder is rebuilt as
``models.DeepSDFField`` with weight norm folded into plain weights; item names and class labels come
from the train split (``{dataset: {class: [instance, ...]}}``, in the order DeepSDF numbered the latents).

``.pth`` files are pickles: they are read with ``torch.load(weights_only=True)`` only, which refuses
anything but tensors and plain containers, and never with a fallback that could run code.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from explorer.errors import ExplorerError
from explorer.io.memory import check_fits, gb
from explorer.models import DeepSDFConfig
from explorer.models.checkpoint import Checkpoint

ARCH = "deep_sdf_decoder"
KNOWN_SPECS = {"dims", "dropout", "dropout_prob", "norm_layers", "latent_in", "weight_norm", "xyz_in_all",
               "use_tanh", "latent_dropout"}
"""DeepSDF's ``Decoder`` arguments; dropout acts only in training and is ignored."""
GRID = 64
"""The mesh grid side the imported checkpoint decodes at (DeepSDF's own reconstructions use 256)."""


@dataclass
class Imported:
    checkpoint: Checkpoint
    epoch: int | str
    notes: list[str] = field(default_factory=list)
    """What a person should know about the import (a split that could not be found, say)."""


def read_pth(path: Path, what: str):
    """The tensors and plain containers of a ``.pth`` file; a file that holds anything else (code, custom
    classes) is refused with one line, without running it."""
    import pickle

    if not path.is_file():
        raise ExplorerError(f"{path} does not exist ({what})")
    check_fits(3 * path.stat().st_size, f"reading {path} ({gb(path.stat().st_size)})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = next((line.strip() for line in str(e).splitlines() if "GLOBAL" in line or "Unsupported" in line), "")
        raise ExplorerError(f"{path} holds more than tensors and plain containers, so it is not opened (it could "
                            f"run code){': ' + reason if reason else ''}") from e
    except (RuntimeError, EOFError, ValueError, OSError) as e:
        first = (str(e).strip().splitlines() or [e.__class__.__name__])[0]
        raise ExplorerError(f"{path} is not a readable PyTorch file ({what}): {first}") from e


def read_specs(folder: Path) -> dict:
    path = folder / "specs.json"
    if not folder.is_dir():
        raise ExplorerError(f"{folder} is not a folder (a DeepSDF experiment folder holds specs.json)")
    if not path.is_file():
        raise ExplorerError(f"{folder} is not a DeepSDF experiment: it has no specs.json")
    try:
        specs = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExplorerError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(specs, dict):
        raise ExplorerError(f"{path} does not hold a JSON object")
    return specs


def decoder_config(specs: dict, where: Path) -> DeepSDFConfig:
    """The decoder's config (``norm_layers`` are LayerNorms only when it was trained without weight norm)."""
    arch = specs.get("NetworkArch")
    if arch != ARCH:
        raise ExplorerError(f"{where}: NetworkArch is {arch!r}; only DeepSDF's decoder ({ARCH!r}) can be imported")
    net = specs.get("NetworkSpecs")
    if not isinstance(net, dict) or "dims" not in net:
        raise ExplorerError(f"{where}: NetworkSpecs with the decoder's dims is missing")
    unknown = sorted(set(net) - KNOWN_SPECS)
    if unknown:
        raise ExplorerError(f"{where}: NetworkSpecs has settings DeepSDF's decoder does not know: {', '.join(unknown)}")
    weight_norm = bool(net.get("weight_norm", False))
    norm_layers = list(net.get("norm_layers") or [])
    try:
        config = DeepSDFConfig(latent_dim=specs.get("CodeLength"), dims=list(net["dims"]),
                               latent_in=list(net.get("latent_in") or []), xyz_in_all=bool(net.get("xyz_in_all")),
                               use_tanh=bool(net.get("use_tanh")),
                               layer_norm=[] if weight_norm else [i for i in norm_layers if i < len(net["dims"])])
    except (TypeError, ExplorerError) as e:
        raise ExplorerError(f"{where}: {e}") from e
    return config


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Plain ``lin<i>.weight`` from weight norm's ``weight_g``/``weight_v`` (``nn.utils.weight_norm``, or the
    parametrization's ``original0``/``original1``): ``w = g * v / ||v||``, the norm over each output row."""
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r"(.+)\.(?:weight_g|parametrizations\.weight\.original0)", key)
        if m:
            v = state.get(f"{m[1]}.weight_v", state.get(f"{m[1]}.parametrizations.weight.original1"))
            if v is None:
                raise ExplorerError(f"weight norm of {m[1]} has a magnitude but no direction")
            out[f"{m[1]}.weight"] = value * v / v.norm(dim=1, keepdim=True)
        elif not re.search(r"\.(?:weight_v|parametrizations\.weight\.original1)$", key):
            out[key] = value
    return out


def model_state(data, path: Path) -> tuple[dict[str, torch.Tensor], object]:
    if not isinstance(data, dict) or not isinstance(data.get("model_state_dict"), dict):
        raise ExplorerError(f"{path} has no model_state_dict: is it DeepSDF's ModelParameters file?")
    state = {}
    for key, value in data["model_state_dict"].items():
        if not isinstance(value, torch.Tensor):
            raise ExplorerError(f"{path}: model_state_dict entry {key!r} is not a tensor")
        state[key.removeprefix("module.")] = value.float()
    return fold_weight_norm(state), data.get("epoch")


def latent_codes(data, path: Path) -> torch.Tensor:
    codes = data.get("latent_codes") if isinstance(data, dict) else None
    if isinstance(codes, dict):
        codes = codes.get("weight")
    if not isinstance(codes, torch.Tensor):
        raise ExplorerError(f"{path} has no latent_codes: is it DeepSDF's LatentCodes file?")
    if codes.ndim == 3 and codes.shape[1] == 1:  # older experiments: a list of [1, D] codes saved as one tensor
        codes = codes[:, 0]
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise ExplorerError(f"{path}: latent_codes have shape {list(codes.shape)}; expected [N, CodeLength]")
    codes = codes.float()
    if not torch.isfinite(codes).all():
        raise ExplorerError(f"{path}: latent codes contain NaN or infinite values")
    return codes


def find_split(folder: Path, specs: dict, split: Path | None) -> Path | None:
    """The train split: as given, or ``TrainSplit`` relative to the experiment or to the folders above it
    (DeepSDF names it relative to its repository, e.g. ``examples/splits/sv2_chairs_train.json``)."""
    if split is not None:
        if not split.is_file():
            raise ExplorerError(f"{split} does not exist (the train split)")
        return split
    name = specs.get("TrainSplit")
    if not isinstance(name, str) or not name:
        return None
    for base in (Path.cwd(), folder, *folder.resolve().parents):
        if (base / name).is_file():
            return base / name
    return None


def split_items(path: Path) -> list[tuple[str, str, str]]:
    """``(dataset, class, instance)`` in the order DeepSDF numbers its latents."""
    try:
        split = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExplorerError(f"{path} is not a readable split file: {e}") from e
    items = []
    if isinstance(split, dict):
        for dataset, classes in split.items():
            for cls, instances in (classes.items() if isinstance(classes, dict) else []):
                items += [(str(dataset), str(cls), str(i)) for i in (instances if isinstance(instances, list) else [])]
    if not items:
        raise ExplorerError(f"{path} lists no shapes: a split is {{dataset: {{class: [instance, ...]}}}}")
    return items


def epoch_file(folder: Path, sub: str, checkpoint: str) -> Path:
    path = folder / sub / f"{checkpoint}.pth"
    if path.is_file():
        return path
    have = sorted((p.stem for p in (folder / sub).glob("*.pth")), key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0))
    raise ExplorerError(f"{path} does not exist; {sub} holds " + (", ".join(have[-6:]) if have else "nothing"))


def import_deepsdf(folder: str | Path, checkpoint: str = "latest", split: str | Path | None = None,
                   grid: int = GRID, command: str = "") -> Imported:
    """The experiment's decoder and latent codes at ``checkpoint`` (``latest`` or an epoch number) as a checkpoint."""
    folder = Path(folder)
    if not re.fullmatch(r"latest|\d+", str(checkpoint)):
        raise ExplorerError(f"--checkpoint {checkpoint!r}: give 'latest' or an epoch number")
    specs = read_specs(folder)
    config = decoder_config(specs, folder / "specs.json")
    params = epoch_file(folder, "ModelParameters", str(checkpoint))
    state, epoch = model_state(read_pth(params, "the decoder's weights"), params)
    codes_path = epoch_file(folder, "LatentCodes", str(checkpoint))
    latents = latent_codes(read_pth(codes_path, "the latent codes"), codes_path)
    if latents.shape[1] != config.latent_dim:
        raise ExplorerError(f"{codes_path}: latent codes have {latents.shape[1]} dimensions, but specs.json says "
                            f"CodeLength {config.latent_dim}")
    notes = []
    split_path = find_split(folder, specs, Path(split) if split else None)
    n = latents.shape[0]
    names, labels = [f"shape {i}" for i in range(n)], {}
    if split_path is None:
        notes.append(f"the train split {specs.get('TrainSplit')!r} was not found (give it with --split): "
                     "shapes are named by number")
    else:
        items = split_items(split_path)
        if len(items) != n:
            notes.append(f"{split_path} lists {len(items)} shapes but there are {n} latent codes: shapes are named by number")
        else:
            names = [f"{cls}/{inst}" for _, cls, inst in items]
            labels = {"class": [cls for _, cls, _ in items]}
            if len({d for d, _, _ in items}) > 1:
                labels["dataset"] = [d for d, _, _ in items]
    modality = {"name": "shape", "resolution": [int(grid)], "channels": 1, "options": {"mesh_fit": "sphere"}}
    train = {"imported": "DeepSDF", "experiment": str(folder.resolve()), "epoch": epoch if isinstance(epoch, int) else str(checkpoint),
             "command": command, "finished": True, "specs": {k: specs[k] for k in ("Description", "CodeLength", "NetworkSpecs") if k in specs}}
    ckpt = Checkpoint(config, modality, latents, state, names, labels, {}, train, {})
    try:
        ckpt.build_model()  # the weights fit DeepSDF's layout for these specs, or one line says which does not
    except ExplorerError as e:
        raise ExplorerError(f"{params}: {str(e).removeprefix('checkpoint: ')} in specs.json") from e
    return Imported(ckpt, train["epoch"], notes)


def is_experiment(path: str | Path) -> bool:
    """Whether ``path`` is a DeepSDF experiment folder (``specs.json`` and ``ModelParameters``)."""
    path = Path(path)
    return path.is_dir() and (path / "specs.json").is_file() and (path / "ModelParameters").is_dir()


def cached_import(folder: str | Path) -> Path:
    """The checkpoint of the experiment's latest snapshot, imported once into the user cache and again only
    when its specs, weights or codes change: opening the folder itself (``latent-explorer EXPERIMENT_DIR``)."""
    import hashlib

    from explorer.io.cache import user_cache
    from explorer.models.checkpoint import save_checkpoint

    folder = Path(folder).resolve()
    key = hashlib.sha256(str(folder).encode())
    for f in (folder / "specs.json", folder / "ModelParameters" / "latest.pth", folder / "LatentCodes" / "latest.pth"):
        st = f.stat() if f.exists() else None
        key.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode() if st else b"-")
    out = user_cache("imports", key.hexdigest()[:16], f"{folder.name}.safetensors")
    if not out.is_file():
        done = import_deepsdf(folder, command=f"latent-explorer {folder}")
        out.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(done.checkpoint, out)
    return out
