"""The one state object of an open checkpoint: views read it and write to it, and hold no data of their own."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.models.checkpoint import Checkpoint, load_checkpoint
from explorer.core.graph import LatentGraph, knn_graph
from explorer.core.paths import LatentPath, make_path
from explorer.core.pipeline import DecodePipeline
from explorer.core.projection import Projection, pca, place


@dataclass
class PathEntry:
    path: LatentPath
    xy: np.ndarray
    """``[T, 2]`` frames placed on the current map."""
    a: int
    b: int


class Workspace(QObject):
    checkpoint_changed = Signal()
    projection_changed = Signal()
    graph_changed = Signal()
    selection_changed = Signal(int)
    paths_changed = Signal()
    extra_changed = Signal()
    playhead_changed = Signal(float)
    message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ckpt: Checkpoint | None = None
        self.pipeline: DecodePipeline | None = None
        self.latents: np.ndarray | None = None
        self.projection: Projection | None = None
        self.graph: LatentGraph | None = None
        self.k = 10
        self.selected = -1
        self.method = "lerp"
        self.paths: dict[str, PathEntry] = {}
        self.current = ""
        self.playhead = 0.0
        self.frames = 64
        self.extra: list[dict] = []
        """Points that are not training items (embedded files, kept completions): ``name``, ``latent``,
        ``kind`` and optional ``metrics``/``neighbours``; item ``n_items + j`` on the map and as a path end."""

    # --- opening ---------------------------------------------------------------------------------
    def open(self, path, precision: str = "auto", compile: str = "off") -> None:
        """Load a checkpoint; on any error the current one stays (the caller shows the message).
        ``precision`` and ``compile``: how its decoder runs (``DecodePipeline``)."""
        ckpt = load_checkpoint(path)
        pipeline = DecodePipeline(ckpt, precision=precision, compile=compile)
        self.ckpt, self.pipeline = ckpt, pipeline
        self.latents = ckpt.latents.numpy()
        self.projection = pca(self.latents)
        self.graph = None
        self.selected, self.paths, self.current, self.playhead = 0, {}, "", 0.0  # the preview shows item 0
        self.extra = []
        self.checkpoint_changed.emit()
        self.projection_changed.emit()
        self.paths_changed.emit()

    def set_decoder(self, precision: str, compile: str) -> DecodePipeline:
        """Decode the open checkpoint in another precision or compile mode from now on."""
        self.pipeline = DecodePipeline(self.ckpt, precision=precision, compile=compile)
        return self.pipeline

    @property
    def modality(self) -> str:
        return self.ckpt.modality["name"] if self.ckpt else ""

    # --- items: training latents, then the extra points ------------------------------------------
    @property
    def n_items(self) -> int:
        return 0 if self.latents is None else len(self.latents)

    def end(self, i: int):
        """Item ``i`` as a path end: its index if it is a training item, else its latent."""
        return i if i < self.n_items else self.extra[i - self.n_items]["latent"]

    def item_latent(self, i: int) -> np.ndarray:
        return self.latents[i] if i < self.n_items else self.extra[i - self.n_items]["latent"]

    def item_name(self, i: int) -> str:
        return self.ckpt.names[i] if i < self.n_items else self.extra[i - self.n_items]["name"]

    def add_extra(self, name: str, latent: np.ndarray, kind: str, **info) -> int:
        """A new point on the map (an embedded file, a kept completion); returns its item index."""
        self.extra.append({"name": name, "latent": np.asarray(latent, np.float32).reshape(-1), "kind": kind} | info)
        self.extra_changed.emit()
        return self.n_items + len(self.extra) - 1

    def remove_extra(self, j: int) -> None:
        i = self.n_items + j
        del self.extra[j]
        if any(i in (e.a, e.b) for e in self.paths.values()):
            self.clear_paths()
        for e in self.paths.values():  # ends after it move down by one
            e.a, e.b = (x - (x > i) for x in (e.a, e.b))
        if self.selected >= i:
            self.select(-1 if self.selected == i else self.selected - 1)
        self.extra_changed.emit()

    def extra_xy(self) -> np.ndarray:
        if not self.extra or self.projection is None:
            return np.zeros((0, 2))
        return place(self.projection, self.latents, np.stack([e["latent"] for e in self.extra]))

    def set_projection(self, projection: Projection) -> None:
        self.projection = projection
        for entry in self.paths.values():
            entry.xy = place(projection, self.latents, entry.path.latents)
        self.projection_changed.emit()
        self.paths_changed.emit()

    def ensure_graph(self, k: int | None = None) -> LatentGraph:
        if k is not None and k != self.k:
            self.k, self.graph = k, None
        if self.graph is None:
            self.graph = knn_graph(self.latents, self.k)
            self.graph_changed.emit()
        return self.graph

    # --- interaction ------------------------------------------------------------------------------
    def select(self, index: int) -> None:
        self.selected = index
        self.selection_changed.emit(index)

    def make_path(self, a: int, b: int, methods: tuple[str, ...] | None = None) -> None:
        """Paths from item a to item b (training items or extra points) with each method (the current
        method by default); the first is current."""
        methods = methods or (self.method,)
        self.paths = {}
        for m in methods:
            graph = self.ensure_graph() if m == "geodesic" else None
            path = make_path(m, self.latents, self.end(a), self.end(b), self.frames, graph)
            if path.note:
                self.message.emit(path.note)
            self.paths[m] = PathEntry(path, place(self.projection, self.latents, path.latents), a, b)
        self.current = methods[0]
        self.playhead = 0.0
        self.paths_changed.emit()
        self.playhead_changed.emit(0.0)

    def walk(self, start: int, steps: int = 32, seed: int = 0) -> None:
        """GEM's LLE-region walk from item ``start`` (from an extra point: its nearest training item):
        the walk becomes the current path, its samples ghost points."""
        from explorer.core.bundle import build_path
        from explorer.core.paths import nearest_item

        start = nearest_item(self.latents, self.end(start))
        path, _ = build_path(self.ckpt, "walk", start, steps=steps, k=min(10, len(self.latents) - 1), seed=seed)
        self.paths = {"walk": PathEntry(path, place(self.projection, self.latents, path.latents), start, start)}
        self.current = "walk"
        self.playhead = 0.0
        self.paths_changed.emit()
        self.playhead_changed.emit(0.0)

    def clear_paths(self) -> None:
        """No path any more: the preview follows the selection."""
        self.paths, self.current = {}, ""
        self.paths_changed.emit()

    def set_playhead(self, t: float) -> None:
        self.playhead = float(min(1.0, max(0.0, t)))
        self.playhead_changed.emit(self.playhead)

    def playhead_latent(self) -> np.ndarray | None:
        """The latent under the playhead of the current path (interpolated between frames), else the selection."""
        entry = self.paths.get(self.current)
        if entry is None:
            return None if self.selected < 0 else self.item_latent(self.selected)
        z = entry.path.latents
        s = self.playhead * (len(z) - 1)
        i = min(int(s), len(z) - 2)
        f = s - i
        return ((1 - f) * z[i] + f * z[i + 1]).astype(np.float32)

    def playhead_xy(self) -> np.ndarray | None:
        entry = self.paths.get(self.current)
        if entry is None:
            return None
        s = self.playhead * (len(entry.xy) - 1)
        i = min(int(s), len(entry.xy) - 2)
        f = s - i
        return (1 - f) * entry.xy[i] + f * entry.xy[i + 1]
