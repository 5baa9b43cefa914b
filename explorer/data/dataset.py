"""A set of signals sampled on a grid, with names, labels and a deterministic train/test split."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class SignalSet:
    """Signals of one modality as field targets. ``values: [N, P, C]`` on the grid of ``resolution``."""

    modality: str
    values: np.ndarray
    resolution: tuple[int, ...]
    names: list[str]
    labels: dict[str, list] = field(default_factory=dict)
    is_test: np.ndarray | None = None
    """``[N]`` bool; True for held-out items. None means every item is for training."""
    source: dict = field(default_factory=dict)
    """How to build the set again: the spec and its options (stored in the checkpoint)."""

    def __post_init__(self) -> None:
        if self.is_test is None:
            self.is_test = np.zeros(len(self.names), dtype=bool)
        n = len(self.names)
        assert self.values.shape[0] == n and len(self.is_test) == n
        for key, vals in self.labels.items():
            assert len(vals) == n, f"label {key!r} has {len(vals)} values for {n} items"

    @property
    def channels(self) -> int:
        return int(self.values.shape[-1])

    def subset(self, mask: np.ndarray) -> "SignalSet":
        idx = np.flatnonzero(mask)
        return SignalSet(
            modality=self.modality,
            values=self.values[idx],
            resolution=self.resolution,
            names=[self.names[i] for i in idx],
            labels={k: [v[i] for i in idx] for k, v in self.labels.items()},
            is_test=self.is_test[idx],
            source=self.source,
        )

    def train(self) -> "SignalSet":
        return self.subset(~self.is_test)

    def test(self) -> "SignalSet":
        return self.subset(self.is_test)


def hash_split(names: list[str], test_fraction: float) -> np.ndarray:
    """Deterministic held-out flags from each name's hash: adding files never moves others between splits."""
    cut = int(round(test_fraction * 10_000))
    flags = np.array([int(hashlib.sha1(n.encode()).hexdigest()[:8], 16) % 10_000 < cut for n in names], dtype=bool)
    if flags.all() and len(flags) > 0:
        flags[0] = False  # never leave nothing to train on
    return flags
