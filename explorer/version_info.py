"""What ``--version`` and Help ▸ About say: this version, the torch build and the device it would use, Qt.
Qt-free: the command line names the installed PySide6's Qt from the package's metadata; the app passes the
running Qt's own version."""
from __future__ import annotations

import platform


def version_lines(qt: str | None = None) -> list[str]:
    """``["latent-explorer 0.1.0", "torch 2.13.0+cpu (CPU build), device cpu, 2 threads", "Qt 6.9.3 (PySide6 6.9.3)",
    ...]``; ``qt`` is the running Qt's version where there is one. What cannot be found says so instead of failing."""
    from importlib.metadata import PackageNotFoundError, version

    from explorer import __version__

    lines = [f"latent-explorer {__version__}"]
    try:
        import torch

        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
        device = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
        lines.append(f"torch {torch.__version__} ({build}), device {device}, {torch.get_num_threads()} threads")
    except Exception as e:  # a broken torch install is exactly what this is asked to show
        lines.append(f"torch: not importable ({e.__class__.__name__}: {e})")
    pyside = None
    for dist in ("PySide6-Essentials", "PySide6"):
        try:
            pyside = version(dist)
            break
        except PackageNotFoundError:
            continue
    if pyside is not None:  # a PySide6 wheel carries the Qt of its own version
        lines.append(f"Qt {qt or pyside} (PySide6 {pyside})")
    elif qt is not None:
        lines.append(f"Qt {qt} (PySide6)")
    else:
        from importlib.util import find_spec

        lines.append("Qt: PySide6 is present, its version not recorded (no package metadata)" if find_spec("PySide6")
                     else "Qt: PySide6 is not installed")
    lines.append(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
    return lines
