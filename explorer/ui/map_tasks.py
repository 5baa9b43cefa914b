"""The map's slow work, each in a worker with its own entry in the task bar: the t-SNE layout (progress,
Pause, Cancel, a cache of finished maps) and the k-NN graph. The session holds the results."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.core.projection import load_cached, save_cached, tsne_steps_in_process
from explorer.errors import ExplorerError
from explorer.ui.workers import TaskRunner


def _tsne_job(latents, params, paused, init):
    """Yields partial maps; the last value is the finished ``Projection``. From the PCA layout ``init``, in
    its frame: the map holds still while the points move to their places."""
    yield from tsne_steps_in_process(latents, heartbeat=0.2, paused=paused, init=init, **params)  # None: still working


def _graph_job(latents, k):
    from explorer.core.graph import knn_graph_steps

    yield from knn_graph_steps(latents, k)  # None while a large graph is searched: a cancel is heard


class MapTasks(QObject):
    map_ready = Signal()
    """The map on screen is a finished one (PCA, a cached or a finished t-SNE map)."""
    partial = Signal(np.ndarray)
    """A t-SNE layout on its way, in the frame of the map on screen."""
    tsne_cancelled = Signal()
    graph_ready = Signal(object)
    """The session's k-NN graph (``LatentGraph``) is built."""
    failed = Signal(str)
    status = Signal(str)

    def __init__(self, session, tasks, parent=None) -> None:
        super().__init__(parent)
        self.ws, self.tasks = session, tasks
        self.tsne = TaskRunner(self)
        self.grapher = TaskRunner(self)
        self._paused = None
        self.tsne.progress.connect(self._on_tsne_progress)
        self.tsne.finished.connect(self._on_tsne_finished)
        self.tsne.failed.connect(lambda m: (self.tasks.finish("tsne"), self.failed.emit(f"t-SNE failed: {m}")))
        self.grapher.finished.connect(self._on_graph)
        self.grapher.failed.connect(lambda m: (self.tasks.finish("graph"), self.failed.emit(f"the k-NN graph failed: {m}")))

    @property
    def runners(self) -> tuple[TaskRunner, ...]:
        return self.tsne, self.grapher

    # --- the layout ---------------------------------------------------------------------------------------
    def use(self, method: str, opening: bool = False) -> None:
        """Show the PCA map, or the t-SNE map with the session's parameters (from the cache, else made in
        a worker). ``opening``: the checkpoint was just opened, so a cached map is fitted to the view (a map
        that changes under the user's eyes keeps their pan and zoom instead)."""
        ws = self.ws
        if ws.latents is None:
            return
        if method == "pca":
            self.stop_tsne()
            ws.set_projection(ws.pca_map, same_frame=True)  # t-SNE maps are drawn in its frame
            return
        cached = load_cached(ws.latents, "tsne", ws.tsne_params)
        if cached is not None:
            self.stop_tsne()
            ws.set_projection(cached, same_frame=not opening)
            self.map_ready.emit()
            return
        from explorer.core.projection import tsne_pause_event

        self._paused = tsne_pause_event()
        self.tasks.start("tsne", "t-SNE", self.cancel_tsne, self.pause_tsne,
                         "Hold t-SNE where it is (the map stays usable), and go on later")
        self.tsne.start(_tsne_job, ws.latents, dict(ws.tsne_params), self._paused, ws.pca_map.xy)

    def stop_tsne(self) -> None:
        self.tsne.cancel()
        self.tasks.finish("tsne")

    def cancel_tsne(self) -> None:
        """The task bar's Cancel: back to the last finished map."""
        self.stop_tsne()
        self.ws.set_projection(self.ws.projection, same_frame=True)
        self.tsne_cancelled.emit()
        self.status.emit("t-SNE cancelled; showing PCA")

    def pause_tsne(self) -> None:
        """Pause or resume the running t-SNE (its child process holds between steps)."""
        task = self.tasks.get("tsne")
        if self._paused is None or not self.tsne.busy or task is None:
            return
        if self._paused.is_set():
            self._paused.clear()
            task.pause_button.setText("Pause")
            self.status.emit("t-SNE goes on")
        else:
            self._paused.set()
            task.pause_button.setText("Resume")
            self.status.emit("t-SNE paused: the map holds still; Resume to go on")

    @property
    def paused(self):
        return self._paused

    def _on_tsne_progress(self, value) -> None:
        done, total, layout = value
        task = self.tasks.get("tsne")
        if task is not None:
            task.set_progress(done, total, f"t-SNE {done}/{total}")
        if isinstance(layout, np.ndarray) and done > 0:  # not yet the finished map
            self.partial.emit(layout)

    def _on_tsne_finished(self, value) -> None:
        projection = value[2]
        self.tasks.finish("tsne")
        self.ws.set_projection(projection, same_frame=True)
        try:
            save_cached(self.ws.latents, projection)
        except ExplorerError as e:
            self.status.emit(f"could not cache the map: {e}")
        self.map_ready.emit()

    # --- the k-NN graph -----------------------------------------------------------------------------------
    def build_graph(self, k: int | None = None) -> None:
        """The session's graph with ``k`` neighbours (its own k by default): at once if it has it, else
        built in a worker; ``graph_ready`` either way."""
        ws = self.ws
        if ws.latents is None:
            return
        k = ws.k if k is None else k
        if ws.graph is not None and ws.k == k:
            self.graph_ready.emit(ws.graph)
            return
        self.tasks.start("graph", f"{k}-NN graph", lambda: (self.grapher.cancel(), self.tasks.finish("graph")))
        self.grapher.start(_graph_job, ws.latents, k)

    def _on_graph(self, graph) -> None:
        self.tasks.finish("graph")
        self.ws.set_graph(graph)
        if self.ws.graph is graph:
            self.graph_ready.emit(graph)
