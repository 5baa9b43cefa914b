"""How much memory is free, and refusing up front a request that would need more than that."""
from __future__ import annotations

import os

from explorer.errors import ExplorerError


def available_bytes() -> int:
    """Memory the system can give this process now without swapping (Linux: MemAvailable)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def check_fits(n_bytes: float, what: str) -> None:
    """``ExplorerError`` when ``what`` would need more memory than is available, with both figures."""
    free = available_bytes()
    if n_bytes > free:
        raise ExplorerError(f"{what} would need about {gb(n_bytes)} of memory; {gb(free)} is available")
