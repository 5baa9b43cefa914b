"""The checkpoints shipped in the repository's ``checkpoints/`` folder."""
from __future__ import annotations

from pathlib import Path

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "fashion-mnist.safetensors"


def shipped_checkpoints() -> list[Path]:
    return sorted(CHECKPOINT_DIR.glob("*.safetensors"))
