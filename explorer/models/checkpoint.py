"""Checkpoint files: safetensors tensors + JSON metadata in the header. No pickle, ever.

Layout: tensors ``latents`` ``[N, d]`` and ``model.<name>`` (the field's state dict); header
metadata key ``latent_explorer`` holds JSON with the schema version, model config, modality,
item names, labels, data source, training config and command, and metrics.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import torch

from explorer.io.atomic import atomic_write_bytes
from explorer.io.memory import check_fits, gb
from explorer.errors import ExplorerError
from explorer.models import ModelConfig, build_model
from explorer.models.schema import check_metadata

SCHEMA_VERSION = 1
META_KEY = "latent_explorer"
MAX_LATENT = 1e6
"""The largest latent value a checkpoint may hold: maps, graphs and decodes of values beyond it overflow."""


@dataclass
class Checkpoint:
    model_config: ModelConfig
    modality: dict
    """``{"name": "image", "resolution": [H, W], "channels": C}``"""
    latents: torch.Tensor
    """``[N, d]``: one latent per training item."""
    state_dict: dict[str, torch.Tensor]
    names: list[str]
    labels: dict[str, list] = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    """The dataset source, to rebuild train and held-out items (``explorer.data.reload_dataset``)."""
    train: dict = field(default_factory=dict)
    """Training config, command line, steps done, seconds spent."""
    metrics: dict = field(default_factory=dict)
    path: Path | None = None
    read_digest: str = ""
    """SHA-256 of the file's bytes as they were read (``save_metrics`` checks that nothing wrote it since)."""
    module: torch.nn.Module | None = None
    """A decoder given as an object (``explorer.show``: a person's own, in ``models.foreign.AdaptedField``)
    instead of weights rebuilt from ``model_config``; such a checkpoint lives in memory only."""

    @property
    def n_items(self) -> int:
        return int(self.latents.shape[0])

    def build_model(self, device: str | torch.device = "cpu") -> torch.nn.Module:
        if self.module is not None:
            return self.module.to(device).eval()
        model = build_model(self.model_config)
        try:
            model.load_state_dict(self.state_dict, strict=True)
        except RuntimeError as e:
            first = str(e).strip().splitlines()
            detail = "; ".join(line.strip() for line in first[1:3]) or first[0]
            raise ExplorerError(f"{self._where()}: model weights do not match the stored config ({detail})") from e
        return model.to(device).eval()

    def _where(self) -> str:
        return str(self.path) if self.path else "checkpoint"

    def metadata(self) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "model": self.model_config.to_dict(),
            "modality": self.modality,
            "names": self.names,
            "labels": self.labels,
            "data": self.data,
            "train": self.train,
            "metrics": self.metrics,
        }


def save_checkpoint(ckpt: Checkpoint, path: str | Path) -> None:
    """Write atomically: a crash or a full disk never leaves a half-written checkpoint."""
    from safetensors.torch import save

    if ckpt.module is not None:
        raise ExplorerError("this checkpoint's decoder is a Python object, not weights of a model this project "
                            "rebuilds; it cannot be written as a checkpoint file")
    tensors = {"latents": ckpt.latents.detach().float().cpu().contiguous()}
    for k, v in ckpt.state_dict.items():
        tensors[f"model.{k}"] = v.detach().cpu().contiguous()
    data = save(tensors, metadata={META_KEY: json.dumps(ckpt.metadata())})
    atomic_write_bytes(path, data)
    ckpt.path = Path(path)


def _looks_like_safetensors(raw: bytes) -> bool:
    """An 8-byte little-endian header size that fits the file, then a JSON object."""
    if len(raw) < 10:
        return False
    (n,) = struct.unpack("<Q", raw[:8])
    return 2 <= n <= len(raw) - 8 and raw[8:9] == b"{"


def _refuse_pickle(raw: bytes, path: Path) -> None:
    """A torch .pt file (a zip of pickles) or a bare pickle; only asked of files that are not safetensors,
    because a safetensors file starts with its header size, whose first byte can be anything."""
    if _looks_like_safetensors(raw):
        return
    if raw.startswith(b"PK\x03\x04") or (raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        raise ExplorerError(
            f"{path} is a PyTorch/pickle file; latent-explorer only opens safetensors checkpoints "
            "(pickle can run code when opened); a DeepSDF experiment is imported with 'latent-explorer import "
            "deepsdf', anything else retrained with 'latent-explorer train'"
        )


def _read_checkpoint_bytes(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped once its first bytes show a latent-explorer checkpoint: a pipe or
    a device is refused without being opened (it could block for ever), and a large file that is not a
    checkpoint is refused after its header, not after reading gigabytes. The latents' tensor is a view of
    the mapping (``_tensors``): a million latents are paged in from the file, not copied."""
    import os
    import stat

    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            if (path / "specs.json").is_file() and (path / "ModelParameters").is_dir():
                raise ExplorerError(f"{path} is a DeepSDF experiment: make a checkpoint of it with "
                                    f"'latent-explorer import deepsdf {path} --out MODEL.safetensors' (File ▸ Import)")
            raise ExplorerError(f"{path} is a folder, not a checkpoint file")
        if not stat.S_ISREG(st.st_mode):
            raise ExplorerError(f"{path} is not a regular file (a pipe, device or socket), not a checkpoint")
        with open(path, "rb") as f:
            head = f.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            if 0 < n <= 100_000_000 and n + 8 <= st.st_size:
                head += f.read(n)
            _refuse_pickle(head, path)
            header = _parse_header(head, path)[0]
            _our_metadata(header, path)  # not ours: refused before the rest is read
            latents = header.get("latents") if isinstance(header.get("latents"), dict) else {}
            offsets = latents.get("data_offsets") if isinstance(latents.get("data_offsets"), list) else [0, 0]
            weights = st.st_size - abs(int(offsets[-1]) - int(offsets[0]))  # the latents stay in the file
            check_fits(2 * weights, f"opening {path} ({gb(st.st_size)})")  # the weights' bytes, then the model's
            if st.st_size == 0:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # private: writable, never written back
    except FileNotFoundError as e:
        raise ExplorerError(f"{path} does not exist") from e
    except OSError as e:
        raise ExplorerError(f"could not read {path}: {e.strerror or e}") from e


def _parse_header(raw: bytes, path: Path) -> tuple[dict, int]:
    """The safetensors header of ``raw`` (the whole file, or only its first ``8 + n`` bytes) and its size ``n``."""
    if len(raw) < 8:
        raise ExplorerError(f"{path} is too short to be a checkpoint ({len(raw)} bytes); is it truncated?")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > 100_000_000:
        raise ExplorerError(f"{path} is not a latent-explorer checkpoint (it does not start as a safetensors file does), or it is truncated")
    try:
        header = json.loads(raw[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ExplorerError(f"{path} is not a latent-explorer checkpoint (unreadable header)") from e
    if not isinstance(header, dict):
        raise ExplorerError(f"{path} is not a latent-explorer checkpoint (unreadable header)")
    return header, n


def _our_metadata(header: dict, path: Path) -> dict:
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not isinstance(meta.get(META_KEY), str):
        raise ExplorerError(f"{path} is a safetensors file but not a latent-explorer checkpoint (no metadata)")
    try:
        return json.loads(meta[META_KEY])
    except json.JSONDecodeError as e:
        raise ExplorerError(f"{path}: checkpoint metadata is corrupt ({e.msg})") from e
    except RecursionError as e:
        raise ExplorerError(f"{path}: checkpoint metadata is corrupt (nested too deeply)") from e


def peek_metadata(path: str | Path) -> dict:
    """A checkpoint's metadata (modality, names, metrics, ...) from its header alone, without reading the
    tensors or checking them: for menus and lists; open it with ``load_checkpoint`` to use it."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > 100_000_000:
                raise ExplorerError(f"{path} is not a latent-explorer checkpoint (it does not start as a safetensors file does)")
            header = json.loads(f.read(n))
    except (OSError, struct.error, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ExplorerError(f"{path} is not a readable latent-explorer checkpoint ({e.__class__.__name__})") from e
    if not isinstance(header, dict):
        raise ExplorerError(f"{path} is not a latent-explorer checkpoint (unreadable header)")
    return _our_metadata(header, path)


def save_metrics(ckpt: Checkpoint, key: str, value: dict) -> None:
    """Store ``value`` as the checkpoint's metrics ``key`` in its file (``eval --save``), unless the file
    changed since it was read: a training run still writing it would otherwise lose its newer weights
    to the older ones evaluated here."""
    try:
        now = hashlib.sha256(Path(ckpt.path).read_bytes()).hexdigest()
    except OSError as e:
        raise ExplorerError(f"could not read {ckpt.path} again to save the metrics: {e.strerror or e}") from e
    if ckpt.read_digest and now != ckpt.read_digest:
        raise ExplorerError(f"{ckpt.path} changed while it was evaluated (is a training run still writing it?); "
                            "the metrics were not saved: evaluate it again when the run is done")
    ckpt.metrics[key] = value
    save_checkpoint(ckpt, ckpt.path)
    ckpt.read_digest = hashlib.sha256(Path(ckpt.path).read_bytes()).hexdigest()


_TORCH_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def _tensors(raw, declared: dict, base: int, path: Path) -> dict[str, torch.Tensor]:
    """The tensors ``declared`` in the header (their dtypes and sizes already checked), as views of ``raw``
    from byte ``base`` on: no copy of the file's data is made."""
    out, spans = {}, []
    for name, info in declared.items():
        start, end = info["data_offsets"]
        spans.append((start, end, name))
        shape = info["shape"]
        if end == start:
            out[name] = torch.empty(shape, dtype=_TORCH_DTYPES[info["dtype"]])
            continue
        dtype = _TORCH_DTYPES[info["dtype"]]
        if (base + start) % dtype.itemsize:  # a writer that did not pad its header: this one is copied
            out[name] = torch.frombuffer(bytearray(raw[base + start: base + end]), dtype=dtype).reshape(shape)
        else:
            out[name] = torch.frombuffer(raw, dtype=dtype, count=(end - start) // dtype.itemsize,
                                         offset=base + start).reshape(shape)
    spans.sort()
    for (a0, a1, a), (b0, b1, b) in zip(spans, spans[1:]):
        if b0 < a1:
            raise ExplorerError(f"{path} is corrupt: tensors {a!r} and {b!r} overlap in the file")
    return out


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Open a checkpoint; any problem is an ``ExplorerError`` whose message names what is wrong."""
    path = Path(path)
    raw = _read_checkpoint_bytes(path)
    header, n = _parse_header(raw, path)
    meta = _our_metadata(header, path)
    declared = {k: v for k, v in header.items() if k != "__metadata__"}
    try:  # every field and size, before anything is allocated for them
        config, names = check_metadata(meta, declared, SCHEMA_VERSION)
    except ExplorerError as e:
        raise ExplorerError(f"{path}: {e}") from e
    body = len(raw) - 8 - n
    for name, info in declared.items():
        if info["data_offsets"][1] > body:
            raise ExplorerError(f"{path} is truncated: tensor {name!r} runs past the end of the file")
    tensors = _tensors(raw, declared, 8 + n, path)
    latents = tensors.pop("latents").float()
    if not torch.isfinite(latents).all():
        bad = int((~torch.isfinite(latents)).any(dim=1).sum())
        raise ExplorerError(f"{path}: {bad} latents contain NaN or infinite values; the training run diverged")
    if latents.numel() and float(latents.abs().max()) > MAX_LATENT:
        raise ExplorerError(f"{path}: a latent has a value of {float(latents.abs().max()):.3g} (trained latents stay "
                            f"far below {MAX_LATENT:g}); the file is damaged or the training run diverged")
    state = {k[len("model."):]: v for k, v in tensors.items()}
    for k, v in state.items():
        if not torch.isfinite(v).all():
            raise ExplorerError(f"{path}: model weight {k!r} contains NaN or infinite values")
    ckpt = Checkpoint(config, dict(meta["modality"]), latents, state, names, meta.get("labels") or {},
                      meta.get("data") or {}, meta.get("train") or {}, meta.get("metrics") or {}, path,
                      hashlib.sha256(raw).hexdigest())
    ckpt.build_model()  # shapes must match the config: fail here, with the file's name, not later
    return ckpt
