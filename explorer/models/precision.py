"""Which number format the fields compute in, and the mixed-precision context that applies it.

``fp32`` computes everything in float32. ``bf16`` is mixed precision done the usual way: the
weights, the optimiser state and the latents stay float32; ``torch.autocast`` runs the matrix
products in bfloat16 (float32 accumulation); every field returns float32, so losses and
reductions are float32. A field's first layer always runs in float32 (``full_precision``): its
output is multiplied by a large ω₀ (30 for images, 3000 for the waveform field) before the sine,
and a bfloat16 rounding of it (2⁻⁹ relative) would become a phase error of up to ω₀ · 2⁻⁹ radians.
``auto`` picks bf16 where the hardware has fast bfloat16 matrix units (a CPU with avx512_bf16 or
AMX, a CUDA GPU that supports bf16), fp32 elsewhere.
"""
from __future__ import annotations

import functools
from contextlib import nullcontext

import torch

from explorer.errors import ExplorerError

PRECISIONS = ("auto", "fp32", "bf16")


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True where the CPU multiplies bfloat16 matrices in hardware (avx512_bf16 or AMX)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    # not Linux: ask oneDNN through torch (True on CPUs with AVX512-BF16 or AMX)
    return bool(getattr(torch.backends.mkldnn, "is_available", lambda: False)()
                and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(name: str, device: torch.device | str = "cpu") -> str:
    """``auto|fp32|bf16`` -> ``fp32`` or ``bf16`` for ``device``."""
    if name not in PRECISIONS:
        raise ExplorerError(f"unknown precision {name!r}; use {', '.join(PRECISIONS)}")
    device = torch.device(device)
    if name == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if device.type == "cpu" and cpu_has_fast_bf16() else "fp32"
    return name


def autocast(precision: str, device: torch.device | str):
    """The context a field's forward pass runs in: bfloat16 autocast for ``bf16``, nothing for ``fp32``."""
    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return nullcontext()


def full_precision(fn, *tensors: torch.Tensor) -> torch.Tensor:
    """``fn(*tensors)`` in float32 whatever the surrounding autocast says (a field's first layer)."""
    with torch.autocast(tensors[0].device.type, enabled=False):
        return fn(*(t.float() for t in tensors))
