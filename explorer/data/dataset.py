"""A set of signals sampled on a grid, with names, labels and a deterministic train/test split."""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
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
    coords: np.ndarray | None = None
    """``[N, P, k]`` per-item sample coordinates (point-sampled signals such as SDFs); None means
    every item is sampled on the modality's grid of ``resolution``."""
    shared_points: int | None = None
    """How many leading points lie at the same coordinates in every item (all of them on a grid):
    the part of two signals that can be compared directly (GEM's isometry loss)."""
    exact: Callable[[int, np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    """``exact(i, points [M, k]) -> values [M, C]``: item i's true signal anywhere, where known
    (synthetic sets, meshes), for ground-truth metrics."""
    signals: np.ndarray | None = field(default=None, repr=False)
    """``[N, ...]`` the signals themselves where ``values`` is a transform of them (audio as a
    spectrogram field keeps its waveforms here, to measure decodes as sound)."""
    parts: dict[str, "SignalSet"] | None = None
    """Signals of several modalities per item that share one latent (audio-visual pairs): each part
    has the same names, labels and split; ``values`` is then empty ``[N, 0, 1]``."""

    @classmethod
    def joint(cls, modality: str, parts: dict[str, "SignalSet"], source: dict) -> "SignalSet":
        """One set whose items are the aligned items of ``parts`` (same names in the same order)."""
        first = next(iter(parts.values()))
        for key, part in parts.items():
            if part.names != first.names:
                raise ValueError(f"part {key!r} does not hold the same items in the same order")
        return cls(modality=modality, values=np.zeros((len(first.names), 0, 1), np.float32), resolution=(),
                   names=first.names, labels=first.labels, is_test=first.is_test, source=source, parts=parts)

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

    @property
    def comparable_points(self) -> int:
        """Leading points at which every item can be compared with every other."""
        return int(self.values.shape[1] if self.shared_points is None else self.shared_points)

    def subset(self, mask: np.ndarray) -> "SignalSet":
        idx = np.flatnonzero(mask)
        return SignalSet(
            modality=self.modality,
            values=_rows(self.values, idx),
            resolution=self.resolution,
            names=[self.names[i] for i in idx],
            labels={k: [v[i] for i in idx] for k, v in self.labels.items()},
            is_test=self.is_test[idx],
            source=self.source,
            coords=None if self.coords is None else _rows(self.coords, idx),
            shared_points=self.shared_points,
            exact=None if self.exact is None else (lambda i, pts, _f=self.exact, _m=idx: _f(int(_m[i]), pts)),
            signals=None if self.signals is None else _rows(self.signals, idx),
            parts=None if self.parts is None else {k: p.subset(mask) for k, p in self.parts.items()},
        )

    def with_test_flags(self, is_test: np.ndarray) -> "SignalSet":
        """The same items with other held-out flags (every part too)."""
        flags = np.asarray(is_test, dtype=bool)
        parts = None if self.parts is None else {k: p.with_test_flags(flags) for k, p in self.parts.items()}
        return dataclasses.replace(self, is_test=flags, parts=parts)

    def split_like(self, trained: list[str]) -> "SignalSet":
        """This set under a checkpoint's train/held-out split, by item name: the items the checkpoint
        was trained on (``trained``) are training items; items this set holds out (its own name-hash
        split, the one training used) that the checkpoint never saw are held out; other items (say,
        beyond a ``--max-items`` cap of training) are left out. With no name in common every item is
        held out: the folder is new data."""
        known = set(trained)
        seen = np.array([n in known for n in self.names], dtype=bool)
        if not seen.any():
            return self.with_test_flags(np.ones(len(self.names), dtype=bool))
        keep = seen | self.is_test
        return self.subset(keep).with_test_flags(~seen[keep])

    def train(self) -> "SignalSet":
        return self.subset(~self.is_test)

    def test(self) -> "SignalSet":
        return self.subset(self.is_test)


def _rows(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[idx]``; of a memory-mapped array, a run of consecutive rows is taken as a view, not read in."""
    if isinstance(values, np.memmap) and len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        return values[idx[0]: idx[-1] + 1]
    return values[idx]


def hash_split(names: list[str], test_fraction: float) -> np.ndarray:
    """Deterministic held-out flags from each name's hash: adding files never moves others between splits."""
    cut = int(round(test_fraction * 10_000))
    flags = np.array([int(hashlib.sha1(n.encode()).hexdigest()[:8], 16) % 10_000 < cut for n in names], dtype=bool)
    if flags.all() and len(flags) > 0:
        flags[0] = False  # never leave nothing to train on
    return flags


def spread(count: int, n: int) -> list[int]:
    """``min(n, count)`` positions evenly spaced over ``range(count)``, first and last included: a few items
    drawn from the whole of a list sorted by name (a folder's every category), not from its beginning."""
    if n <= 0 or count <= 0:
        return []
    if n >= count:
        return list(range(count))
    return [int(round(i * (count - 1) / (n - 1))) if n > 1 else 0 for i in range(n)]
