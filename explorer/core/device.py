"""Choosing the torch device: CUDA when present (and asked for), CPU otherwise."""
from __future__ import annotations

import torch

from explorer.errors import ExplorerError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ExplorerError("--device cuda was asked for but this torch has no usable CUDA device; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise ExplorerError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)
