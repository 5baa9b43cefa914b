"""The metadata schema of a checkpoint, checked against the tensors its header declares before any
tensor is read, any model built or any memory requested for a size the metadata claims.

Every check raises ``ExplorerError`` with one line naming the field (the caller adds the file's name).
"""
from __future__ import annotations

import math

from explorer.errors import ExplorerError
from explorer.io.typed import need_dict, need_float, need_int, need_key, need_list, need_str, nesting_depth, show
from explorer.models import MultiFieldConfig, ModelConfig, model_config_from_dict, parameter_shapes

MAX_DEPTH = 32
"""How deeply the metadata's JSON may nest (ours nests 5 levels)."""
MAX_ITEMS = 10_000_000
"""Latents a checkpoint may hold."""
MAX_SIDE = 1 << 22
"""Cells along one axis of a stored resolution (a waveform of 4.4 minutes at 16 kHz)."""
MAX_CELLS = 1 << 24
"""Cells of a whole stored resolution (a 4096 x 4096 picture, a 256³ grid)."""
MAX_PARTS = 8
FLOAT_DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


def check_metadata(meta, tensors: dict, newest_schema: int) -> tuple[ModelConfig, list[str]]:
    """The model config and item names of checkpoint metadata ``meta``, once every field has its type
    and range and every size agrees with ``tensors`` (the safetensors header's ``{name: {dtype, shape,
    data_offsets}}``)."""
    need_dict(meta, "metadata")
    if nesting_depth(meta, MAX_DEPTH) > MAX_DEPTH:
        raise ExplorerError(f"metadata nests deeper than {MAX_DEPTH} levels")
    schema = need_key(meta, "schema", "metadata")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > newest_schema:
        raise ExplorerError(f"uses checkpoint schema {schema}, newer than this latent-explorer understands "
                            f"({newest_schema}); update latent-explorer")
    need_int(schema, "schema", 1, newest_schema)
    config = model_config_from_dict(need_key(meta, "model", "metadata"))
    names = need_list(need_key(meta, "names", "metadata"), "names", MAX_ITEMS)
    if not all(isinstance(n, str) for n in names):
        raise ExplorerError("names must all be texts")
    _check_tensors(tensors, config, len(names))
    _check_labels(need_dict(meta.get("labels"), "labels", optional=True), len(names))
    _check_modality(need_dict(need_key(meta, "modality", "metadata"), "modality"), config)
    _check_data(need_dict(meta.get("data"), "data", optional=True))
    train = need_dict(meta.get("train"), "train", optional=True)
    if "step" in train:
        need_int(train["step"], "train: step", 0, 10**12)
    if "seconds" in train:
        need_float(train["seconds"], "train: seconds", 0, 1e12)
    need_dict(train.get("config"), "train: config", optional=True)
    need_dict(meta.get("metrics"), "metrics", optional=True)
    return config, names


def tensor_shape(info, name: str) -> tuple[int, ...]:
    """The shape the header declares for tensor ``name``, once its entry is well formed."""
    entry = need_dict(info, f"tensor {name!r}")
    dtype = entry.get("dtype")
    if dtype not in FLOAT_DTYPES:
        raise ExplorerError(f"tensor {name!r} has dtype {show(dtype)}; a checkpoint's tensors are floating point")
    shape = need_list(entry.get("shape"), f"tensor {name!r}: shape", 8)
    for s in shape:
        need_int(s, f"tensor {name!r}: shape", 0, 1 << 40)
    offsets = need_list(entry.get("data_offsets"), f"tensor {name!r}: data_offsets", 2, length=2)
    start, end = (need_int(o, f"tensor {name!r}: data_offsets", 0, 1 << 62) for o in offsets)
    if end - start != math.prod(shape) * FLOAT_DTYPES[dtype]:
        raise ExplorerError(f"tensor {name!r} holds {end - start} bytes, but its shape {shape} in {dtype} needs "
                            f"{math.prod(shape) * FLOAT_DTYPES[dtype]}")
    return tuple(shape)


def _check_tensors(tensors: dict, config: ModelConfig, n_items: int) -> None:
    """Every weight the config implies is in the file with the shape it implies, and nothing else: the
    model is then built only from sizes that the file's own bytes back."""
    if "latents" not in tensors:
        raise ExplorerError("has no latents tensor")
    shape = tensor_shape(tensors["latents"], "latents")
    if shape != (n_items, config.latent_dim):
        raise ExplorerError(f"latents have shape {list(shape)}, expected [{n_items}, {config.latent_dim}] "
                            "from the item names and the model config")
    stored = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    extra = sorted(set(tensors) - {"latents"} - {f"model.{k}" for k in stored})
    if extra:
        raise ExplorerError(f"holds tensors that are not a model's weights: {', '.join(extra[:3])}")
    expected = parameter_shapes(config)
    missing, unknown = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
    if missing or unknown:
        raise ExplorerError("model weights do not match the stored config ("
                            + (f"missing {', '.join(missing[:3])}" if missing else f"unexpected {', '.join(unknown[:3])}")
                            + ")")
    for k, want in expected.items():
        got = tensor_shape(stored[k], f"model.{k}")
        if got != want:
            raise ExplorerError(f"model weight {k!r} has shape {list(got)}, but the stored config implies {list(want)}")


def _check_labels(labels: dict, n_items: int) -> None:
    for key, values in labels.items():
        need_list(values, f"label {key!r}", MAX_ITEMS, length=n_items)
        bad = next((v for v in values if v is not None and not isinstance(v, (str, int, float))), None)
        if bad is not None:
            raise ExplorerError(f"label {key!r} has a value {show(bad)}; labels are texts or numbers")


def _check_modality(info: dict, config: ModelConfig) -> None:
    need_str(info.get("name"), "modality: name", max_len=64)
    if isinstance(config, MultiFieldConfig):
        parts = need_dict(info.get("parts"), "modality: parts")
        if set(parts) != set(config.parts):
            raise ExplorerError(f"modality parts {sorted(parts)} are not the model's parts {sorted(config.parts)}")
        for key, part in parts.items():
            part = need_dict(part, f"modality part {key!r}")
            need_str(part.get("name"), f"modality part {key!r}: name", max_len=64)
            _check_sampling(part, f"modality part {key!r}")
        need_dict(info.get("options"), "modality: options", optional=True)
    elif "parts" in info:
        raise ExplorerError("modality has parts, but the model is a single field")
    else:
        _check_sampling(info, "modality")


def _check_sampling(info: dict, where: str) -> None:
    res = need_list(need_key(info, "resolution", where), f"{where}: resolution", 3)
    if not res:
        raise ExplorerError(f"{where}: resolution is empty")
    for r in res:
        need_int(r, f"{where}: resolution", 1, MAX_SIDE)
    if math.prod(res) > MAX_CELLS:
        raise ExplorerError(f"{where}: resolution {res} has more than {MAX_CELLS} cells")
    need_int(need_key(info, "channels", where), f"{where}: channels", 1, 4)
    need_dict(info.get("options"), f"{where}: options", optional=True)


def _check_data(data: dict) -> None:
    if "spec" in data:
        need_str(data["spec"], "data: spec", max_len=4096)
    for key, lo, hi in (("max_items", 1, MAX_ITEMS), ("max_test", 0, MAX_ITEMS), ("resolution", 1, MAX_SIDE),
                        ("points", 1, 1 << 28), ("seed", 0, 2**63 - 1), ("n_train", 0, MAX_ITEMS), ("n_test", 0, MAX_ITEMS)):
        if data.get(key) is not None:
            need_int(data[key], f"data: {key}", lo, hi)
    build = need_dict(data.get("build"), "data: build", optional=True)
    if build:
        need_str(build.get("build"), "data: build: build", max_len=64)
        for key, lo, hi in (("count", 1, MAX_ITEMS), ("resolution", 1, MAX_SIDE), ("seed", 0, 2**63 - 1)):
            if build.get(key) is not None:
                need_int(build[key], f"data: build: {key}", lo, hi)
