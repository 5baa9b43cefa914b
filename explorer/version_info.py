"""What ``--version`` and Help ▸ About say: this version, the torch build and the device it would use, Qt."""
from __future__ import annotations

import platform


def version_lines() -> list[str]:
    """``["latent-explorer 0.1.0", "torch 2.13.0+cpu (CPU build), device cpu", "Qt 6.9.1 (PySide6 6.9.1)", ...]``;
    what cannot be imported says so instead of failing."""
    from explorer import __version__

    lines = [f"latent-explorer {__version__}"]
    try:
        import torch

        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
        device = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
        lines.append(f"torch {torch.__version__} ({build}), device {device}, {torch.get_num_threads()} threads")
    except Exception as e:  # a broken torch install is exactly what this is asked to show
        lines.append(f"torch: not importable ({e.__class__.__name__}: {e})")
    try:
        import PySide6
        from PySide6.QtCore import qVersion

        lines.append(f"Qt {qVersion()} (PySide6 {PySide6.__version__})")
    except Exception as e:
        lines.append(f"Qt: not importable ({e.__class__.__name__}: {e})")
    lines.append(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
    return lines
