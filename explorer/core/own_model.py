"""A person's own latents and decoder, from Python, as a checkpoint held in memory (``explorer.show``) or
written to a file (``explorer.save``).

The decoder is ``f(z [B, d], coords [P, k] or [B, P, k]) -> [B, P, C]``, a ``torch.nn.Module`` or any
function of tensors. ``domain`` says what its field means, with these defaults:

- ``kind="image"``: ``size`` (H, W) (required), ``channels`` (found by calling the decoder once),
  ``range`` of the values (0, 1), ``coords`` range of both axes (-1, 1), ``order`` of the two
  coordinates "yx" (row, column) or "xy".
- ``kind="audio"``: ``target`` "waveform" (the default) or "spectrogram"; ``sample_rate`` 16000,
  ``seconds`` 1.0. A waveform decoder: ``coords`` (-1, 1) over the clip, ``range`` (-1, 1) of the samples.
  A spectrogram decoder returns the log magnitude of a centred, Hann-windowed STFT of ``n_fft`` 512 and
  ``hop`` 128 samples at (frequency, time) coordinates — ``order`` "ft", or "tf" for (time, frequency) —
  each in ``coords`` (-1, 1) (the first and last bin and frame centres a half cell inside), as ``scale``
  "ln" (``log(|STFT| + 1e-5)``, the default) or "db" (``20 log10 |STFT|``); it is heard through
  Griffin-Lim.
- ``kind="shape"``: ``bounds`` the cube the shapes live in (-1, 1) (or ``[[x0, y0, z0], [x1, y1, z1]]``; meshes
  are written, and mesh files read, in these units),
  ``level`` the iso-level of the surface 0 (0.5 for occupancy), ``inside`` "negative" (an SDF) or
  "positive" (occupancy), ``grid`` the mesh grid side 64.

Coordinates are mapped from this project's space (pixel centres and sample times in [-1, 1], the cube
[-1, 1]^3) into the decoder's domain, and its values into this project's range, by ``AdaptedField``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.models.checkpoint import Checkpoint
from explorer.models.foreign import AdaptedField, ForeignConfig

KINDS = ("image", "audio", "shape")
DOMAIN_KEYS = {"image": {"size", "channels", "range", "coords", "order"},
               "audio": {"target", "sample_rate", "seconds", "coords", "range", "n_fft", "hop", "order", "scale"},
               "shape": {"bounds", "level", "inside", "grid"}}


def _pair(value, what: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ExplorerError(f"domain {what} must be two numbers (low, high), not {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ExplorerError(f"domain {what} ({lo:g}, {hi:g}) must be finite with low < high")
    return lo, hi


def _into(lo, hi):
    """Scale and shift taking [-1, 1] onto [lo, hi]."""
    lo, hi = np.asarray(lo, np.float32), np.asarray(hi, np.float32)
    return (hi - lo) / 2, (hi + lo) / 2


def _outof(lo: float, hi: float) -> tuple[float, float]:
    """Scale and shift taking [lo, hi] onto [-1, 1]."""
    return 2 / (hi - lo), -1 - 2 * lo / (hi - lo)


def _latents(latents) -> torch.Tensor:
    z = torch.as_tensor(np.asarray(latents.detach().cpu() if isinstance(latents, torch.Tensor) else latents,
                                   dtype=np.float32))
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
        raise ExplorerError(f"latents must be an [N, d] array, not of shape {list(z.shape)}")
    if not torch.isfinite(z).all():
        raise ExplorerError(f"{int((~torch.isfinite(z)).any(1).sum())} latents hold NaN or infinite values")
    return z


def _names_labels(n: int, names, labels) -> tuple[list[str], dict]:
    names = [str(x) for x in names] if names is not None else [f"item {i}" for i in range(n)]
    if len(names) != n:
        raise ExplorerError(f"{len(names)} names for {n} latents")
    if labels is None:
        labels = {}
    elif not isinstance(labels, dict):
        labels = {"label": labels}
    out = {}
    for key, values in labels.items():
        values = [v.item() if hasattr(v, "item") else v for v in values]
        if len(values) != n:
            raise ExplorerError(f"label {key!r} has {len(values)} values for {n} latents")
        out[str(key)] = [v if isinstance(v, (int, float, str)) or v is None else str(v) for v in values]
    return names, out


def adapt(decoder, kind: str, domain: dict | None, latent_dim: int, per_latent: bool = False) -> tuple[AdaptedField, dict, int]:
    """The decoder in this project's conventions, the ``modality`` entry that describes it, and its channels
    (one for a sound or a shape: ``ExplorerError`` otherwise). ``per_latent``: the decoder takes coordinates
    ``[B, P, k]`` only."""
    field, modality, channels = _adapt(decoder, kind, domain, latent_dim, per_latent)
    if kind != "image" and channels != 1:
        raise ExplorerError(f"the decoder returns {channels} values per coordinate; a{'n' if kind == 'audio' else ''} "
                            f"{kind} decoder returns one")
    if kind == "image" and not 1 <= channels <= 4:
        raise ExplorerError(f"the decoder returns {channels} values per pixel; an image has 1 to 4 channels")
    return field, modality, channels


def _adapt(decoder, kind: str, domain: dict | None, latent_dim: int, per_latent: bool) -> tuple[AdaptedField, dict, int]:
    if kind not in KINDS:
        raise ExplorerError(f"kind {kind!r}: choose one of {', '.join(KINDS)}")
    if not callable(decoder):
        raise ExplorerError("decoder must be a torch.nn.Module or a function f(z, coords) -> values")
    domain = dict(domain or {})
    unknown = sorted(set(domain) - DOMAIN_KEYS[kind])
    if unknown:
        raise ExplorerError(f"domain of a{'n' if kind == 'image' else ''} {kind} has no {', '.join(unknown)}; "
                            f"it takes {', '.join(sorted(DOMAIN_KEYS[kind]))}")
    if kind == "image":
        if "size" not in domain:
            raise ExplorerError("an image domain needs its size, e.g. domain={'size': (64, 64)}")
        size = domain["size"]
        h, w = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
        if not (1 <= h <= 4096 and 1 <= w <= 4096):
            raise ExplorerError(f"image size {h} x {w} must be 1 to 4096 pixels a side")
        order = domain.get("order", "yx")
        if order not in ("yx", "xy"):
            raise ExplorerError(f"domain order {order!r}: 'yx' (row, column) or 'xy'")
        scale, shift = _into(*_pair(domain.get("coords", (-1, 1)), "coords"))
        vs, vb = _outof(*_pair(domain.get("range", (0, 1)), "range"))
        field = AdaptedField(decoder, scale, shift, vs, vb, coord_order=[1, 0] if order == "xy" else None,
                             per_latent_coords=per_latent)
        channels = _probe_channels(field, latent_dim, 2)
        if domain.get("channels") is not None and int(domain["channels"]) != channels:
            raise ExplorerError(f"domain channels is {domain['channels']}, but the decoder returns {channels} values a pixel")
        return field, {"name": "image", "resolution": [h, w], "channels": channels}, channels
    if kind == "audio":
        rate = int(domain.get("sample_rate", 16000))
        n = int(round(float(domain.get("seconds", 1.0)) * rate))
        if not 1 <= n <= 1 << 22:
            raise ExplorerError(f"a clip of {n} samples: give seconds so that it has 1 to {1 << 22}")
        target = domain.get("target", "waveform")
        if target == "spectrogram":
            return _spectrogram(decoder, domain, rate, n, latent_dim, per_latent)
        if target != "waveform":
            raise ExplorerError(f"domain target {target!r}: 'waveform' or 'spectrogram'")
        extra = sorted({"n_fft", "hop", "order", "scale"} & set(domain))
        if extra:
            raise ExplorerError(f"{', '.join(extra)} describe a spectrogram decoder; add 'target': 'spectrogram'")
        scale, shift = _into(*_pair(domain.get("coords", (-1, 1)), "coords"))
        vs, vb = _outof(*_pair(domain.get("range", (-1, 1)), "range"))
        field = AdaptedField(decoder, scale, shift, vs, vb, per_latent_coords=per_latent)
        info = {"name": "audio", "resolution": [n], "channels": 1,
                "options": {"target": "waveform"} | ({"sample_rate": rate} if rate != 16000 else {})}
        return field, info, _probe_channels(field, latent_dim, 1)
    bounds = domain.get("bounds", (-1, 1))
    arr = np.asarray(bounds, dtype=np.float64)
    if arr.shape == (2,):
        lo, hi = _pair(arr, "bounds")
        lo, hi = [lo] * 3, [hi] * 3
    elif arr.shape == (2, 3) and np.isfinite(arr).all() and (arr[1] > arr[0]).all():
        lo, hi = list(arr[0]), list(arr[1])
    else:
        raise ExplorerError(f"domain bounds {bounds!r}: (low, high) or [[x0, y0, z0], [x1, y1, z1]]")
    inside = domain.get("inside", "negative")
    if inside not in ("negative", "positive"):
        raise ExplorerError(f"domain inside {inside!r}: 'negative' (a signed distance) or 'positive' (occupancy)")
    level = float(domain.get("level", 0.0))
    grid = int(domain.get("grid", 64))
    if not 8 <= grid <= 256:
        raise ExplorerError(f"domain grid {grid}: 8 to 256")
    sign = 1.0 if inside == "negative" else -1.0
    scale, shift = _into(lo, hi)
    field = AdaptedField(decoder, scale, shift, sign, -sign * level, per_latent_coords=per_latent)
    # an SDF in the cube's own units can be refined in a narrow band; occupancy or another scale is decoded whole
    metric = inside == "negative" and level == 0.0 and np.allclose(lo, -1) and np.allclose(hi, 1)
    cube = np.allclose(lo, -1) and np.allclose(hi, 1)
    options = ({} if metric else {"narrow_band": False}) | ({} if cube else {"bounds": [list(lo), list(hi)]})
    info = {"name": "shape", "resolution": [grid], "channels": 1} | ({"options": options} if options else {})
    return field, info, _probe_channels(field, latent_dim, 3)


def _spectrogram(decoder, domain: dict, rate: int, n: int, latent_dim: int, per_latent: bool) -> tuple[AdaptedField, dict, int]:
    """A decoder of log-magnitude spectrograms: heard through this project's spectrogram plug, with per-frequency
    statistics that leave its values as they are (mean 0, deviation 1)."""
    from explorer.modalities.audio import AudioModality

    n_fft, hop = int(domain.get("n_fft", 512)), int(domain.get("hop", 128))
    if "range" in domain:
        raise ExplorerError("a spectrogram decoder's values are log magnitudes: give scale 'ln' or 'db', not a range")
    order = domain.get("order", "ft")
    if order not in ("ft", "tf"):
        raise ExplorerError(f"domain order {order!r}: 'ft' (frequency, time) or 'tf'")
    scale_name = domain.get("scale", "ln")
    if scale_name not in ("ln", "db"):
        raise ExplorerError(f"domain scale {scale_name!r}: 'ln' (natural log of the magnitude) or 'db' (20 log10)")
    bins = n_fft // 2 + 1
    plug = AudioModality("spectrogram", n_fft, hop, n, {"mean": [0.0] * bins, "std": [1.0] * bins}, sample_rate=rate)
    scale, shift = _into(*_pair(domain.get("coords", (-1, 1)), "coords"))
    field = AdaptedField(decoder, scale, shift, math.log(10) / 20 if scale_name == "db" else 1.0, 0.0,
                         coord_order=[1, 0] if order == "tf" else None, per_latent_coords=per_latent)
    info = {"name": "audio", "resolution": [bins, n // hop + 1], "channels": 1, "options": plug.options()}
    return field, info, _probe_channels(field, latent_dim, 2)


def _probe_channels(field: AdaptedField, latent_dim: int, in_dim: int) -> int:
    """Call the decoder once on one latent and two points: its channels, or one line saying what is wrong."""
    try:
        with torch.no_grad():
            out = field(torch.zeros(1, latent_dim), torch.zeros(2, in_dim))
    except ExplorerError:
        raise
    except Exception as e:  # a person's code fails in any way: say how, in one line
        first = (str(e).strip().splitlines() or [""])[0]
        raise ExplorerError(f"calling the decoder on one latent of {latent_dim} and two {in_dim}-D coordinates failed: "
                            f"{e.__class__.__name__}: {first}") from e
    return int(out.shape[-1])


def checkpoint_from_python(latents, decoder, kind: str, names=None, labels=None, domain: dict | None = None) -> Checkpoint:
    """``explorer.show``'s arrays and decoder as a checkpoint held in memory."""
    z = _latents(latents)
    names, labels = _names_labels(len(z), names, labels)
    field, modality, _ = adapt(decoder, kind, domain, z.shape[1])
    source = type(decoder).__name__ if hasattr(decoder, "parameters") else getattr(decoder, "__name__", "a function")
    return held_checkpoint(z, field, modality, names, labels, source, {"source": "explorer.show"})


def held_checkpoint(z: torch.Tensor, field: torch.nn.Module, modality: dict, names: list[str], labels: dict,
                    source: str, train: dict, path=None) -> Checkpoint:
    """A checkpoint whose decoder is the object ``field`` (``Checkpoint.module``): ``explorer.show``, an ONNX
    bundle, plain embeddings. Its config's coordinate and value sizes are the modality's."""
    from explorer.modalities import checkpoint_modality

    config = ForeignConfig(latent_dim=z.shape[1], in_dim=checkpoint_modality(modality).in_dim,
                           out_dim=modality["channels"], source=source)
    return Checkpoint(config, modality, z, {}, names, labels, {}, train, {}, path, "", field)


def save_own(path, latents, decoder, kind: str | None = None, names=None, labels=None, domain: dict | None = None) -> None:
    """``explorer.save``: one of this project's fields and its latents as a checkpoint file; any other decoder
    as an ONNX decoder bundle (``core.onnx_bundle.write_bundle``)."""
    from explorer.modalities import checkpoint_plug
    from explorer.models.checkpoint import save_checkpoint
    from explorer.models.config import DeepSDFConfig, FieldConfig, MultiFieldConfig

    config = getattr(decoder, "config", None)
    if not isinstance(config, (FieldConfig, DeepSDFConfig, MultiFieldConfig)) or not hasattr(decoder, "state_dict"):
        from explorer.core.onnx_bundle import write_bundle

        if kind is None:
            raise ExplorerError("saving another decoder as an ONNX bundle needs its kind: image, audio or shape")
        write_bundle(path, latents, decoder, kind, names, labels, domain)
        return
    z = _latents(latents)
    if z.shape[1] != config.latent_dim:
        raise ExplorerError(f"latents have {z.shape[1]} dimensions; the decoder takes {config.latent_dim}")
    names, labels = _names_labels(len(z), names, labels)
    kind = kind or {1: "audio", 2: "image", 3: "shape"}.get(getattr(config, "in_dim", 0), "")
    _, modality, _ = adapt(decoder, kind, domain, config.latent_dim)  # the same domain, read as show reads it
    state = {k: v.detach().cpu() for k, v in decoder.state_dict().items()}
    ckpt = Checkpoint(config, modality, z, state, names, labels, {}, {"source": "explorer.save"}, {})
    checkpoint_plug(ckpt)  # the sampling fits the field: refused here, not when the file is opened
    ckpt.build_model()
    save_checkpoint(ckpt, path)
