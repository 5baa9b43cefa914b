"""The state of an open checkpoint, Qt-free: the map, the selection, the paths and the playhead, the
bookmarks, saved paths and extra points. The app's views read it, write to it and listen to its
(psygnal) events, and hold no data of their own; a script or notebook drives it directly::

    s = Session.open("checkpoints/fashion-mnist.safetensors")
    s.drag(3, 42, method="geodesic")
    frames = s.frames_signal()          # [64, 28, 28, 1] pictures along the path

Events are emitted on the thread that changed the state; the app changes it on the GUI thread only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from psygnal import Signal

from explorer.models.checkpoint import Checkpoint
from explorer.core.graph import LatentGraph, knn_graph, nearest_neighbours
from explorer.core.paths import LatentPath, make_path
from explorer.core.pipeline import DecodePipeline
from explorer.core.projection import Projection, pca, place


TSNE_PARAMS = {"perplexity": 30.0, "iterations": 750, "seed": 0}


@dataclass
class Opened:
    """A checkpoint read and made ready to explore (``read_checkpoint``), not yet any session's."""
    path: Path | None
    """None for a checkpoint made in memory (``explorer.show``)."""
    ckpt: Checkpoint
    pipeline: DecodePipeline
    projection: Projection
    """Its PCA map."""
    graph: LatentGraph | None
    spacing: float


def read_checkpoint(path, precision: str = "auto", compile: str = "off", k: int = 10, files=None) -> Opened:
    """Everything slow about opening a checkpoint: reading and checking it, building its decoder, its PCA
    map, its k-NN graph and the neighbour spacing. Changes no session, so it may run in a worker. A DeepSDF
    experiment folder is imported first (once; ``core.deepsdf_import.cached_import``); an ONNX decoder
    bundle (``core.onnx_bundle``) is opened as it is."""
    from explorer.core.open_any import open_model

    ckpt = open_model(path, files)
    # the window's title and saved workspace follow the file read (a DeepSDF experiment's imported checkpoint)
    return make_ready(ckpt, Path(ckpt.path or path), precision, compile, k)


GRAPH_AT_OPEN_UP_TO = 2_000
"""Latents up to which opening builds the k-NN graph before the map is shown (tens of milliseconds); beyond, the
map comes first and the app builds the graph in the background (10 000 latents of 256 dimensions: about a
second on two cores). Geodesics asked for before it arrives build their own."""


def make_ready(ckpt: Checkpoint, path: Path | None, precision: str = "auto", compile: str = "off", k: int = 10) -> Opened:
    """A checkpoint, read from ``path`` or made in memory (``explorer.show``), with its decoder, PCA map,
    k-NN graph and spacing (beyond ``GRAPH_AT_OPEN_UP_TO`` latents without the graph, which is built apart,
    and with the spacing of a sample)."""
    from explorer.core.ann import sampled_spacing

    pipeline = DecodePipeline(ckpt, precision=precision, compile=compile)
    latents = ckpt.latents.numpy()
    graph, spacing = None, 1.0
    if len(latents) > GRAPH_AT_OPEN_UP_TO:  # the graph would keep the map waiting: the app builds it in the background
        spacing = sampled_spacing(latents)
    elif len(latents) > k:  # one neighbour search for both
        neighbours = nearest_neighbours(latents, k)
        graph, spacing = knn_graph(latents, k, neighbours), float(np.median(neighbours[0][:, 0])) or 1.0
    elif len(latents) > 1:
        spacing = _spacing(latents)
    return Opened(path, ckpt, pipeline, pca(latents), graph, spacing)


def _spacing(latents: np.ndarray) -> float:
    if len(latents) < 2:
        return 1.0
    return float(np.median(nearest_neighbours(latents, 1)[0])) or 1.0


def default_colour_label(labels: dict) -> str:
    """The label a map is first coloured by: the first with 2 to 20 values that says more than the
    folder an item came from (the notes: their instrument, not "folder"); else the first label."""
    def values(k) -> int:
        return len({str(v) for v in labels[k]})

    good = [k for k in labels if 2 <= values(k) <= 20]
    return next((k for k in good if k != "folder"), good[0] if good else next(iter(labels), ""))


@dataclass
class PathEntry:
    path: LatentPath
    xy: np.ndarray
    """``[T, 2]`` frames placed on the current map."""
    a: int
    b: int
    seed: int = 0
    """The walk's seed (walks only)."""
    off: np.ndarray | None = None
    """``[T]`` each frame's distance off the manifold (``quality.off_manifold``), measured once."""


class Session:
    projection_changed = Signal(bool)
    """A new map layout; True when it is in the frame of the last one (t-SNE aligned to the PCA map),
    so views keep their pan and zoom."""
    selection_changed = Signal(int)
    paths_changed = Signal()
    extra_changed = Signal()
    playhead_changed = Signal(float)
    marks_changed = Signal()
    """Bookmarks or saved paths were added, renamed or removed."""
    colour_by_changed = Signal(str)
    highlight_changed = Signal()
    """The highlighted items changed (a search, a label isolated or hidden): ``highlight``."""
    message = Signal(str)

    def __init__(self) -> None:
        self.path: Path | None = None
        self.ckpt: Checkpoint | None = None
        self._spacing: float | None = None
        self.pipeline: DecodePipeline | None = None
        self.latents: np.ndarray | None = None
        self.projection: Projection | None = None
        self.pca_map: Projection | None = None
        """The PCA map, made once when the checkpoint was read (a second's work on a large map)."""
        self.graph: LatentGraph | None = None
        self.k = 10
        self.selected = -1
        self.method = "lerp"
        self.compare = False
        """Draw both methods' paths on a drag (the current one is ``method``'s)."""
        self.tsne_params = dict(TSNE_PARAMS)
        """The t-SNE map's settings (``projection.tsne_steps``): perplexity, iterations, seed, ..."""
        self.paths: dict[str, PathEntry] = {}
        self.current = ""
        self.playhead = 0.0
        self.frames = 64
        self.extra: list[dict] = []
        """Points that are not training items (embedded files, kept completions): ``name``, ``latent``,
        ``kind`` and optional ``metrics``/``neighbours``; item ``n_items + j`` on the map and as a path end."""
        self.bookmarks: list[dict] = []
        """``name`` and either ``index`` (an item) or ``latent`` (a point on a path, a removed extra point)."""
        self.saved_paths: list[dict] = []
        """``name``, ``method``, ends ``a``/``b``, ``frames``, ``k`` (walks: ``seed``, ``steps``): enough to remake it."""
        self.colour_by = ""
        """The label the map is coloured by ("" for none)."""
        self.walk_seed = 0
        """The seed of the last walk; each new walk takes the next."""
        self.highlight: np.ndarray | None = None
        """``[n_items]`` bool: the items a search or the legend picked out (the rest are dimmed); None: all."""
        self.highlight_reason = ""
        """What picked them out, in words (for the status bar)."""

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path, precision: str = "auto", compile: str = "off") -> "Session":
        """A new session on the checkpoint at ``path`` (``ExplorerError`` if it cannot be read)."""
        session = cls()
        session.load(path, precision, compile)
        return session

    def load(self, path, precision: str = "auto", compile: str = "off") -> None:
        """Open a checkpoint in this session; on any error the current one stays (the caller shows the
        message). ``precision`` and ``compile``: how its decoder runs (``DecodePipeline``). What the user
        made (bookmarks, saved paths, extra points) starts empty: ``restore`` brings a saved state back."""
        self.adopt(read_checkpoint(path, precision, compile, self.k))

    def adopt(self, opened: "Opened") -> None:
        """Make a checkpoint read by ``read_checkpoint`` (in any thread: it changes nothing here) the
        open one. Quick: the app reads in a worker and adopts on its GUI thread."""
        self.path, self.ckpt, self.pipeline = opened.path, opened.ckpt, opened.pipeline
        self.latents = opened.ckpt.latents.numpy()
        self.projection = self.pca_map = opened.projection
        self.graph = opened.graph if opened.graph is not None and opened.graph.k == self.k else None
        self._spacing = opened.spacing
        self.selected, self.paths, self.current, self.playhead = 0, {}, "", 0.0  # the preview shows item 0
        self.extra, self.bookmarks, self.saved_paths = [], [], []
        self.highlight, self.highlight_reason = None, ""
        self.colour_by = default_colour_label(opened.ckpt.labels)
        self.projection_changed.emit(False)
        self.paths_changed.emit()
        self.extra_changed.emit()
        self.marks_changed.emit()
        self.colour_by_changed.emit(self.colour_by)

    def set_decoder(self, precision: str, compile: str) -> DecodePipeline:
        """Decode the open checkpoint in another precision or compile mode from now on."""
        return self.use_decoder(self.make_decoder(precision, compile))

    def use_decoder(self, pipeline: DecodePipeline) -> DecodePipeline:
        """Decode with ``pipeline`` (one of ``make_decoder``) from now on."""
        if pipeline.ckpt is not self.ckpt:
            raise ValueError("this decoder belongs to another checkpoint")
        self.pipeline = pipeline
        return pipeline

    def make_decoder(self, precision: str, compile: str) -> DecodePipeline:
        """A decoder of the open checkpoint, built without changing the session (tens of milliseconds:
        the app builds it in a worker, then sets ``pipeline``)."""
        return DecodePipeline(self.ckpt, precision=precision, compile=compile)

    @property
    def spacing(self) -> float:
        """The median distance from a training latent to its nearest other one: the unit in which the
        app states path lengths and distances off the manifold (below 1: among the data)."""
        if self._spacing is None:
            self._spacing = _spacing(self.latents)
        return self._spacing

    def _off(self, frames: np.ndarray) -> np.ndarray:
        from explorer.core.quality import off_manifold

        return off_manifold(frames, self.latents, min(10, len(self.latents)))

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
        """Remove extra point ``j``; saved paths that end at it go too, the others keep their ends."""
        i = self.n_items + j
        del self.extra[j]
        kept = []
        for p in self.saved_paths:
            if i not in (p.get("a"), p.get("b")):
                kept.append(p | {k: p[k] - 1 for k in ("a", "b") if isinstance(p.get(k), int) and p[k] > i})
        if kept != self.saved_paths:
            self.saved_paths = kept
            self.marks_changed.emit()
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

    def set_projection(self, projection: Projection, same_frame: bool = False) -> None:
        self.projection = projection
        for entry in self.paths.values():
            entry.xy = place(projection, self.latents, entry.path.latents)
        self.projection_changed.emit(same_frame)
        self.paths_changed.emit()

    def ensure_graph(self, k: int | None = None) -> LatentGraph:
        """The k-NN graph of the training latents (built here if it is not yet: ``set_graph`` takes one
        built elsewhere, e.g. in a worker)."""
        if k is not None and k != self.k:
            self.k, self.graph = k, None
        if self.graph is None:
            self.graph = knn_graph(self.latents, self.k)
        return self.graph

    def set_graph(self, graph: LatentGraph) -> None:
        """A k-NN graph of these latents built elsewhere (``knn_graph``): its k becomes the session's."""
        if self.latents is None or graph.matrix.shape[0] != len(self.latents):
            return  # built for a checkpoint that is no longer open
        self.k, self.graph = graph.k, graph

    def set_method(self, method: str, compare: bool = False, remake: bool = True) -> None:
        """How the next drag makes its path ("lerp" or "geodesic"); ``compare``: the other method's path
        is drawn too. With ``remake``, the path on the map, if any, is made again the new way."""
        if method not in ("lerp", "geodesic"):
            raise ValueError(f"unknown path method {method!r}")
        self.method, self.compare = method, bool(compare)
        entry = self.dragged()
        if remake and entry is not None:
            self.drag(entry.a, entry.b)

    def dragged(self) -> PathEntry | None:
        """The path a drag made that is on the map (not a walk), if any."""
        return next((e for m, e in self.paths.items() if m != "walk"), None)

    # --- interaction ------------------------------------------------------------------------------
    def select(self, index: int) -> None:
        self.selected = index
        self.selection_changed.emit(index)

    def nearest(self, index: int, k: int = 10) -> list[tuple[int, str, float]]:
        """The ``k`` training items nearest to item ``index`` in latent space (itself left out):
        ``[(item, name, distance in neighbour spacings)]``, nearest first."""
        if self.latents is None or not 0 <= index < self.n_items + len(self.extra):
            return []
        d = np.linalg.norm(self.latents - self.item_latent(index)[None], axis=1)
        if index < self.n_items:
            d[index] = np.inf
        order = np.argsort(d)[: min(k, len(d) - (index < self.n_items))]
        return [(int(j), self.ckpt.names[j], float(d[j] / self.spacing)) for j in order]

    def make_path(self, a: int, b: int, methods: tuple[str, ...] | None = None) -> None:
        """Paths from item a to item b (training items or extra points) with each method (the current
        method by default); the first is current."""
        if "geodesic" in (methods or (self.method,)):
            self.ensure_graph()
        self.show_paths(self.plan_paths(a, b, methods))

    def drag_methods(self) -> tuple[str, ...]:
        """The methods a drag makes paths with: the session's, then the other one when comparing."""
        return (self.method, *[m for m in ("lerp", "geodesic") if m != self.method and self.compare])

    def plan_paths(self, a: int, b: int, methods: tuple[str, ...] | None = None, frames: int | None = None,
                   graph: LatentGraph | None = None) -> dict[str, PathEntry]:
        """The paths of ``make_path``, made without changing the session (tens of milliseconds on a large
        map: the app makes them in a worker, then ``show_paths``). A geodesic without the session's graph
        builds one for itself."""
        entries = {}
        ends = (self.end(a), self.end(b))
        graph = graph if graph is not None else self.graph
        for m in methods or (self.method,):
            if m == "geodesic" and graph is None:
                graph = knn_graph(self.latents, self.k)
            path = make_path(m, self.latents, *ends, frames or self.frames, graph if m == "geodesic" else None)
            entries[m] = PathEntry(path, np.zeros((0, 2)), a, b, off=self._off(path.latents))
        return entries

    def show_paths(self, entries: dict[str, PathEntry]) -> None:
        """Make paths from ``plan_paths`` the ones on the map, placed on the map shown now; the first is current."""
        for entry in entries.values():
            entry.xy = place(self.projection, self.latents, entry.path.latents)
            if entry.path.note:
                self.message.emit(entry.path.note)
        self.paths = entries
        self.current = next(iter(entries))
        self.playhead = 0.0
        self.paths_changed.emit()
        self.playhead_changed.emit(0.0)

    def drag(self, a: int, b: int, method: str | None = None, compare: bool | None = None) -> PathEntry:
        """What a drag from item ``a`` to item ``b`` on the map does: the path with ``method`` (the
        session's by default) becomes current; with ``compare`` (the session's by default), the other
        method's path is drawn too."""
        self.method = method or self.method
        self.compare = self.compare if compare is None else compare
        self.make_path(a, b, self.drag_methods())
        return self.paths[self.method]

    def frames_signal(self, part: str | None = None):
        """The current path decoded: what a person sees or hears frame by frame (``DecodePipeline.signal``)."""
        entry = self.paths.get(self.current)
        if entry is None:
            raise ValueError("no path yet: drag from one item to another first")
        return self.pipeline.signal(entry.path.latents, part=part)

    def walk(self, start: int, steps: int = 32, seed: int | None = None) -> None:
        """GEM's LLE-region walk from item ``start`` (from an extra point: its nearest training item):
        the walk becomes the current path, its samples ghost points. Each walk without ``seed`` takes
        the next seed, so a session's walks differ and are reproducible."""
        self.show_walk(self.make_walk(start, steps, self.next_walk_seed() if seed is None else seed))

    def next_walk_seed(self) -> int:
        """The seed of the next new walk (each takes the next, so a session's walks differ and are reproducible)."""
        self.walk_seed += 1
        return self.walk_seed

    def make_walk(self, start: int, steps: int, seed: int) -> PathEntry:
        """The walk of ``walk``, made without changing the session (seconds on a large map: the app
        makes it in a worker, then ``show_walk``)."""
        from explorer.core.bundle import build_path
        from explorer.core.paths import nearest_item

        start = nearest_item(self.latents, self.end(start))
        path, _ = build_path(self.ckpt, "walk", start, steps=steps, k=min(10, len(self.latents) - 1), seed=seed)
        return PathEntry(path, np.zeros((0, 2)), start, start, seed, off=self._off(path.latents))

    def show_walk(self, entry: PathEntry) -> None:
        """Make a walk from ``make_walk`` the current path, placed on the map shown now."""
        self.show_paths({"walk": entry})

    def switch_path(self) -> str:
        """With several paths drawn (compare both), make the next one current: the playhead stays
        where it is and the preview shows that path's frame there. Returns the current method."""
        if len(self.paths) > 1:
            names = list(self.paths)
            self.current = names[(names.index(self.current) + 1) % len(names)]
            self.paths_changed.emit()
            self.playhead_changed.emit(self.playhead)
        return self.current

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


    # --- picking items out: search, the legend ----------------------------------------------------------
    def find(self, pattern: str) -> int:
        """Highlight the items whose name or any label value matches the regular expression ``pattern``
        (case-insensitive; a search anywhere in the text); an empty pattern shows all again. Returns the
        number of matches; a pattern that is not a regular expression raises ``ExplorerError``."""
        import re

        from explorer.errors import ExplorerError

        pattern = pattern.strip()
        if not pattern:
            self._set_highlight(None, "")
            return self.n_items
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as e:
            raise ExplorerError(f"not a regular expression: {pattern} ({e})") from None
        texts = [self.ckpt.names] + [[str(v) for v in values] for values in self.ckpt.labels.values()]
        mask = np.array([any(rx.search(t[i]) for t in texts) for i in range(self.n_items)], bool)
        self._set_highlight(mask, f"{int(mask.sum())} of {self.n_items} match {pattern!r}")
        return int(mask.sum())

    def isolate_label(self, key: str, value: str) -> None:
        """Highlight only the items whose label ``key`` is ``value``; again: all items."""
        mask = np.array([str(v) == value for v in self.ckpt.labels[key]], bool)
        same = self.highlight is not None and np.array_equal(self.highlight, mask)
        self._set_highlight(None if same else mask, "" if same else f"only {key} = {value} ({int(mask.sum())} items)")

    def hide_label(self, key: str, value: str) -> None:
        """Dim the items whose label ``key`` is ``value`` (on top of what is already dimmed)."""
        mask = np.array([str(v) != value for v in self.ckpt.labels[key]], bool)
        if self.highlight is not None:
            mask &= self.highlight
        self._set_highlight(mask, f"{int((~mask).sum())} items dimmed")

    def isolate_items(self, items) -> None:
        """Highlight exactly these training items (a box or lasso drawn on the map); none: show all again."""
        items = np.asarray(items, int)
        if not len(items):
            self._set_highlight(None, "")
            return
        mask = np.zeros(self.n_items, bool)
        mask[items] = True
        self._set_highlight(mask, f"{len(items)} items selected on the map (draw again to change; Esc: all)")

    def clear_highlight(self) -> None:
        self._set_highlight(None, "")

    def _set_highlight(self, mask: np.ndarray | None, reason: str) -> None:
        self.highlight, self.highlight_reason = mask, reason
        self.highlight_changed.emit()

    # --- what the user keeps: bookmarks, saved paths, colour ----------------------------------------
    def set_colour_by(self, label: str) -> None:
        self.colour_by = label if self.ckpt is not None and label in self.ckpt.labels else ""
        self.colour_by_changed.emit(self.colour_by)

    def bookmark_here(self) -> dict | None:
        """Bookmark the playhead of the current path, else the selected item (an extra point by its
        latent, so removing the point keeps the bookmark)."""
        if self.latents is None:
            return None
        n = len(self.bookmarks) + 1
        if self.paths:
            e = self.paths[self.current]
            how = f"walk from {self.item_name(e.a)}" if self.current == "walk" else \
                f"{self.current} {self.item_name(e.a)} → {self.item_name(e.b)}"
            entry = {"name": f"bookmark {n}: {how}, t={self.playhead:.2f}",  # which path, not only its kind
                     "latent": [float(v) for v in self.playhead_latent()]}
        else:
            i = max(self.selected, 0)
            entry = {"name": f"bookmark {n}: {self.item_name(i)}", "index": i}
            if i >= self.n_items:
                entry = {"name": entry["name"], "latent": [float(v) for v in self.item_latent(i)]}
        self.bookmarks.append(entry)
        self.marks_changed.emit()
        return entry

    def save_current_path(self) -> dict | None:
        """Keep the current path (None when there is none)."""
        entry = self.paths.get(self.current)
        if entry is None:
            return None
        name = self.item_name
        saved = {"name": f"{self.current}: {name(entry.a)} → {name(entry.b)}", "method": self.current,
                 "a": entry.a, "b": entry.b, "frames": len(entry.path.latents), "k": self.k}
        if self.current == "walk":
            saved |= {"name": f"walk from {name(entry.a)} (seed {entry.seed})", "seed": entry.seed,
                      "steps": len(entry.path.latents) - 1}
        self.saved_paths.append(saved)
        self.marks_changed.emit()
        return saved

    def restore_path(self, saved: dict) -> None:
        """Make a saved path current again, exactly as it was."""
        self.show_restored(*self.plan_restore(saved))

    def plan_restore(self, saved: dict) -> tuple[dict[str, PathEntry], LatentGraph | None]:
        """A saved path made again, without changing the session (the app does it in a worker), with the
        graph of its own k where that is not the session's; ``show_restored`` shows it."""
        if saved["method"] == "walk":
            return {"walk": self.make_walk(int(saved["a"]), int(saved["steps"]), int(saved["seed"]))}, None
        k = int(saved.get("k", self.k))
        graph = None
        if saved["method"] == "geodesic":
            graph = self.graph if k == self.k and self.graph is not None else knn_graph(self.latents, k)
        entries = self.plan_paths(int(saved["a"]), int(saved["b"]), (saved["method"],),
                                  frames=int(saved.get("frames", self.frames)), graph=graph)
        return entries, graph if k != self.k else None

    def show_restored(self, entries: dict[str, PathEntry], graph: LatentGraph | None = None) -> None:
        if "walk" in entries:
            self.show_walk(entries["walk"])
            return
        if graph is not None:
            self.set_graph(graph)
        self.frames = len(next(iter(entries.values())).path.latents)
        self.show_paths(entries)

    def _marks(self, kind: str) -> list[dict]:
        if kind not in ("bookmark", "path"):
            raise ValueError(f"unknown kind {kind!r}")
        return self.bookmarks if kind == "bookmark" else self.saved_paths

    def rename_mark(self, kind: str, row: int, name: str) -> None:
        marks = self._marks(kind)
        if 0 <= row < len(marks) and name and marks[row]["name"] != name:
            marks[row] = marks[row] | {"name": name}
            self.marks_changed.emit()

    def remove_marks(self, kind: str, rows) -> None:
        drop = set(rows)
        marks = self._marks(kind)
        marks[:] = [m for r, m in enumerate(marks) if r not in drop]
        self.marks_changed.emit()

    # --- saving and restoring --------------------------------------------------------------------
    def state(self) -> dict:
        """What the user made, as JSON-ready data (``restore`` takes it back)."""
        return {"bookmarks": [dict(b) for b in self.bookmarks], "paths": [dict(p) for p in self.saved_paths],
                "colour_by": self.colour_by,
                "embedded": [e | {"latent": [float(v) for v in e["latent"]]} for e in self.extra]}

    def restore(self, data: dict) -> int:
        """Bring back a ``state``; entries that do not fit the open checkpoint, or are damaged (a wrong
        type, a missing name, a NaN latent), are dropped. Returns how many were dropped."""
        d, n = self.latents.shape[1], self.n_items
        data = data if isinstance(data, dict) else {}
        lists = {key: data.get(key) if isinstance(data.get(key), list) else [] for key in ("embedded", "bookmarks", "paths")}
        dropped = sum(1 for key in lists if key in data and not isinstance(data[key], list))

        def named(e) -> bool:
            return isinstance(e, dict) and isinstance(e.get("name"), str) and bool(e["name"])

        def latent(e):
            try:
                v = np.asarray(e.get("latent"), np.float32)
            except (TypeError, ValueError):
                return None
            return v if v.shape == (d,) and np.isfinite(v).all() else None

        def extra(e) -> dict:  # an embedded point as the map lists it: a kind, numeric metrics
            metrics = e.get("metrics") if isinstance(e.get("metrics"), dict) else {}
            return e | {"latent": latent(e), "kind": e["kind"] if isinstance(e.get("kind"), str) else "embedded",
                        "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}}

        self.extra = [extra(e) for e in lists["embedded"] if named(e) and latent(e) is not None]
        points = n + len(self.extra)
        self.bookmarks = [m for m in lists["bookmarks"] if named(m) and (
            _count(m.get("index"), 0, n - 1) or ("index" not in m and latent(m) is not None))]
        self.saved_paths = [p for p in lists["paths"] if named(p) and _fits_path(p, points)]
        dropped += sum(len(v) for v in lists.values()) - len(self.extra) - len(self.bookmarks) - len(self.saved_paths)
        self.extra_changed.emit()
        self.marks_changed.emit()
        colour = data.get("colour_by")
        if isinstance(colour, str) and (colour in ("", "(none)") or colour in self.ckpt.labels):
            self.set_colour_by("" if colour == "(none)" else colour)
        return dropped


def _count(v, lo: int, hi: int) -> bool:
    """``v`` is an integer (not a bool) from ``lo`` to ``hi``."""
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _fits_path(p: dict, points: int) -> bool:
    """A saved path that ``restore_path`` can replay on a map of ``points`` points."""
    from explorer.core.paths import METHODS

    if not _count(p.get("a"), 0, points - 1) or not all(_count(p[k], 1, 100_000) for k in ("frames", "k") if k in p):
        return False
    if p.get("method") == "walk":
        return _count(p.get("steps"), 1, 100_000) and _count(p.get("seed"), 0, 2**63 - 1)
    return p.get("method") in METHODS and _count(p.get("b"), 0, points - 1)
