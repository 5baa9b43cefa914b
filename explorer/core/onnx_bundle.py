"""An ONNX decoder bundle: a decoder from any framework, opened like a checkpoint and decoded by onnxruntime.

A bundle is a folder, or a ZIP of one, holding:

- ``decoder.onnx``: one self-contained ONNX file taking ``z [B, d]`` and coordinates (``[P, k]``, or
  ``[B, P, k]`` when ``meta.json`` says ``"coords": "per_latent"``) with a dynamic batch and point axis,
  returning ``[B, P, C]``. Weights kept in external data files and operators outside ONNX's own domains
  (custom operators) are refused: the first could be read from anywhere, the second need code.
- ``latents.safetensors`` (a tensor ``latents``) or ``latents.npy`` (read without pickle): ``[N, d]``.
- ``meta.json``: ``kind`` (image, audio, shape), ``domain`` (``core.own_model``), ``coords``, and
  optionally ``names`` and ``labels``.

onnxruntime is an optional extra: ``pip install 'latent-explorer[onnx]'`` (the tests install it).
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.io.memory import check_fits, gb
from explorer.models.checkpoint import Checkpoint

MEMBERS = ("decoder.onnx", "meta.json")
STANDARD_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "com.microsoft"}
"""ONNX's own operator sets, and onnxruntime's built-in contributed operators."""
MAX_BYTES = 4 << 30


def is_bundle(path: str | Path) -> bool:
    path = Path(path)
    if path.is_dir():
        return all((path / m).is_file() for m in MEMBERS)
    if path.suffix.lower() == ".zip" and path.is_file():
        try:
            with zipfile.ZipFile(path) as z:
                return all(any(n == m or n.endswith("/" + m) for n in z.namelist()) for m in MEMBERS)
        except (zipfile.BadZipFile, OSError):
            return False
    return False


def _read_members(path: Path) -> dict[str, bytes]:
    """``{name: bytes}`` of the bundle's files (a ZIP's, from its one folder or its top)."""
    if path.is_dir():
        out = {}
        for name in ("decoder.onnx", "meta.json", "latents.safetensors", "latents.npy"):
            f = path / name
            if f.is_file():
                check_fits(2 * f.stat().st_size, f"reading {f} ({gb(f.stat().st_size)})")
                out[name] = f.read_bytes()
        return out
    try:
        with zipfile.ZipFile(path) as z:
            out = {}
            for info in z.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                if name in ("decoder.onnx", "meta.json", "latents.safetensors", "latents.npy") and name not in out:
                    if info.file_size > MAX_BYTES:
                        raise ExplorerError(f"{path}: {name} unpacks to {gb(info.file_size)}; a bundle's files are at most {gb(MAX_BYTES)}")
                    check_fits(2 * info.file_size, f"reading {name} from {path} ({gb(info.file_size)})")
                    out[name] = z.read(info)
            return out
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ExplorerError(f"{path} is not a readable ZIP: {e}") from e


def _read_latents(members: dict[str, bytes], where: Path) -> torch.Tensor:
    if "latents.safetensors" in members:
        from safetensors import SafetensorError
        from safetensors.torch import load

        try:
            tensors = load(members["latents.safetensors"])
        except (SafetensorError, ValueError, RuntimeError) as e:
            raise ExplorerError(f"{where}: latents.safetensors is corrupt: {str(e).splitlines()[0]}") from e
        if "latents" not in tensors:
            raise ExplorerError(f"{where}: latents.safetensors has no tensor named 'latents' (it has {', '.join(tensors) or 'none'})")
        return tensors["latents"].float()
    if "latents.npy" in members:
        try:
            arr = np.load(io.BytesIO(members["latents.npy"]), allow_pickle=False)
        except ValueError as e:
            raise ExplorerError(f"{where}: latents.npy is not a plain array ({str(e).splitlines()[0]})") from e
        return torch.from_numpy(np.asarray(arr, np.float32))
    raise ExplorerError(f"{where} has no latents.safetensors or latents.npy")


def check_onnx(data: bytes, where: str):
    """The ONNX model in ``data``, once it is one self-contained file of standard operators."""
    try:
        import onnx
        from onnx import external_data_helper
    except ImportError as e:
        raise ExplorerError("opening an ONNX bundle needs the onnx extra: pip install 'latent-explorer[onnx]'") from e
    try:
        model = onnx.load_from_string(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise ExplorerError(f"{where}: decoder.onnx is not an ONNX model ({e.__class__.__name__})") from e
    local = {f.domain for f in model.functions}
    graphs = [model.graph]
    nodes = [n for f in model.functions for n in f.node]
    while graphs:
        g = graphs.pop()
        for t in g.initializer:
            if external_data_helper.uses_external_data(t):
                raise ExplorerError(f"{where}: decoder.onnx keeps weight {t.name!r} in an external data file; export "
                                    "it as one file (torch.onnx.export(..., external_data=False))")
        for n in g.node:
            nodes.append(n)
            graphs += [a.g for a in n.attribute if a.HasField("g")] + list(a for att in n.attribute for a in att.graphs)
    custom = sorted({f"{n.domain}::{n.op_type}" for n in nodes if n.domain not in STANDARD_DOMAINS | local})
    if custom:
        raise ExplorerError(f"{where}: decoder.onnx uses custom operators ({', '.join(custom[:3])}), which need code "
                            "this app will not load")
    return model


class OnnxDecoder:
    """``f(z, coords)`` by an onnxruntime session: numbers in, numbers out, no gradients."""

    cannot_fit = ("this model's decoder is an ONNX graph, which gives no gradients: a latent cannot be fitted to a "
                  "file through it (embedding, completion); paths, walks and exports work")

    def __init__(self, data: bytes, where: str) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ExplorerError("opening an ONNX bundle needs the onnx extra: pip install 'latent-explorer[onnx]'") from e
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ExplorerError(f"{where}: onnxruntime cannot run decoder.onnx: {str(e).strip().splitlines()[0]}") from e
        inputs = self.session.get_inputs()
        if len(inputs) != 2:
            raise ExplorerError(f"{where}: decoder.onnx takes {len(inputs)} inputs; it takes two, the latents and the coordinates")
        self.z_name, self.c_name = inputs[0].name, inputs[1].name
        for inp in inputs:
            if inp.shape and isinstance(inp.shape[0], int) and inp.shape[0] > 0:
                raise ExplorerError(f"{where}: decoder.onnx input {inp.name!r} has a fixed first axis of {inp.shape[0]}; "
                                    "export it with a dynamic batch (and point) axis")
        self.latent_dim = inputs[0].shape[1] if len(inputs[0].shape) == 2 and isinstance(inputs[0].shape[1], int) else None
        self.coords_rank = len(inputs[1].shape)
        self.coord_dim = inputs[1].shape[-1] if isinstance(inputs[1].shape[-1], int) else None

    def __call__(self, z: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        out = self.session.run(None, {self.z_name: z.detach().cpu().numpy().astype(np.float32),
                                      self.c_name: coords.detach().cpu().numpy().astype(np.float32)})[0]
        return torch.from_numpy(np.asarray(out, np.float32))


def read_bundle(path: str | Path) -> Checkpoint:
    """The bundle as a checkpoint decoded by onnxruntime."""
    from explorer.core.own_model import _latents as checked_latents, _names_labels, adapt, held_checkpoint

    path = Path(path)
    members = _read_members(path)
    for m in MEMBERS:
        if m not in members:
            raise ExplorerError(f"{path} is not an ONNX decoder bundle: it has no {m}")
    try:
        meta = json.loads(members["meta.json"])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExplorerError(f"{path}: meta.json is not valid JSON: {e}") from e
    if not isinstance(meta, dict):
        raise ExplorerError(f"{path}: meta.json does not hold a JSON object")
    unknown = sorted(set(meta) - {"kind", "domain", "coords", "names", "labels"})
    if unknown:
        raise ExplorerError(f"{path}: meta.json has unknown keys {', '.join(unknown)} (it takes kind, domain, coords, names, labels)")
    layout = meta.get("coords", "shared")
    if layout not in ("shared", "per_latent"):
        raise ExplorerError(f"{path}: meta.json coords is {layout!r}: 'shared' ([P, k]) or 'per_latent' ([B, P, k])")
    check_onnx(members["decoder.onnx"], str(path))
    decoder = OnnxDecoder(members["decoder.onnx"], str(path))
    z = checked_latents(_read_latents(members, path))
    if decoder.latent_dim is not None and decoder.latent_dim != z.shape[1]:
        raise ExplorerError(f"{path}: the latents have {z.shape[1]} dimensions, decoder.onnx takes {decoder.latent_dim}")
    names, labels = _names_labels(len(z), meta.get("names"), meta.get("labels"))
    kind = meta.get("kind")
    try:
        field, modality, _ = adapt(decoder, kind, meta.get("domain"), z.shape[1], per_latent=layout == "per_latent")
    except ExplorerError as e:
        raise ExplorerError(f"{path}: {e}") from e
    return held_checkpoint(z, field, modality, names, labels, "an ONNX decoder", {"source": "ONNX bundle"}, path)


class _Function(torch.nn.Module):
    def __init__(self, f) -> None:
        super().__init__()
        self.f = f

    def forward(self, z, coords):
        return self.f(z, coords)


def write_bundle(path: str | Path, latents, decoder, kind: str, names=None, labels=None, domain: dict | None = None) -> Path:
    """``explorer.save`` for a decoder that is not this project's: exported with ``torch.onnx.export`` (batch and
    point axes dynamic, one file), with its latents and ``meta.json``, as a folder, or a ZIP when ``path`` ends
    in ``.zip``; read back and compared with the decoder before it is kept. Nothing is left at ``path`` on failure."""
    import shutil
    import tempfile
    import warnings

    from safetensors.torch import save as save_tensors

    from explorer.core.own_model import checkpoint_from_python
    from explorer.io.atomic import atomic_write_bytes

    path = Path(path)
    if path.exists() and (path.is_file() or any(path.iterdir())):
        raise ExplorerError(f"{path} exists; choose a new folder or .zip for the bundle")
    ckpt = checkpoint_from_python(latents, decoder, kind, names, labels, domain)  # every argument checked first
    module = decoder if isinstance(decoder, torch.nn.Module) else _Function(decoder)
    in_dim = ckpt.model_config.in_dim
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (ckpt.latents[:2].clone(), torch.zeros(5, in_dim)), buf, dynamo=False,
                              input_names=["z", "coords"], output_names=["values"],
                              dynamic_axes={"z": {0: "batch"}, "coords": {0: "points"}, "values": {0: "batch", 1: "points"}})
    except Exception as e:  # the exporter fails in many ways on code it cannot trace
        first = (str(e).strip().splitlines() or [e.__class__.__name__])[0]
        raise ExplorerError(f"the decoder could not be exported to ONNX: {e.__class__.__name__}: {first}") from e
    meta = {"kind": kind, "domain": _plain(domain or {}), "coords": "shared", "names": ckpt.names, "labels": ckpt.labels}
    files = {"decoder.onnx": buf.getvalue(), "latents.safetensors": save_tensors({"latents": ckpt.latents.contiguous()}),
             "meta.json": json.dumps(meta, indent=1).encode()}
    with tempfile.TemporaryDirectory(dir=path.parent if path.parent.exists() else None) as tmp:
        staged = Path(tmp, "bundle")
        staged.mkdir()
        for name, data in files.items():
            (staged / name).write_bytes(data)
        try:
            back = read_bundle(staged)
        except ExplorerError as e:
            raise ExplorerError(f"the decoder exported to ONNX does not work as a bundle: {str(e).replace(f'{staged}: ', '')} "
                                "(numpy or Python numbers computed from z or the coordinates are frozen by the export)") from e
        probe = ckpt.latents[: min(4, len(ckpt.latents))]
        coords = torch.rand(64, in_dim) * 2 - 1
        with torch.no_grad():
            want, got = ckpt.module(probe, coords), back.module(probe, coords)
        if not torch.allclose(want, got, atol=1e-4, rtol=1e-3):
            raise ExplorerError(f"the exported decoder gives other values than the decoder (up to "
                                f"{float((want - got).abs().max()):.3g} off): it may branch on its input's size")
        if path.suffix.lower() == ".zip":
            zbuf = io.BytesIO()
            with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in files.items():
                    z.writestr(f"{path.stem}/{name}", data)
            atomic_write_bytes(path, zbuf.getvalue())
        else:
            if path.exists():
                path.rmdir()
            shutil.move(str(staged), str(path))
    return path


def _plain(value):
    """``domain`` as JSON: tuples and numpy numbers as lists and numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value
