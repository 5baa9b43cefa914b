"""Embedding a person's file in the open checkpoint (GEM 4.4): the file is read and a latent fitted to it in
a worker, with progress and Cancel in the task bar; ``embedded`` brings the result and two pictures."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal

from explorer.ui.workers import TaskBarJob

EMBED_STARTS = 4
"""Fits of a file embedded from its closest starts (File ▸ Embed from the 4 closest starts), as ``embed --fit-init
closest``'s default ``--k``."""


def _embed_job(pipeline, path, steps, starts):
    """The fit's progress, then ``(EmbedResult, original PNG, reconstruction PNG)``. Reading the file is
    part of the job: sampling a mesh's distance field takes a while. ``starts`` as ``embed_steps``'s."""
    from explorer.core.embed import EmbedResult, embed_steps, read_signal
    from explorer.ui.thumbnails import observed_png, thumbnail_png

    observed = read_signal(pipeline, path)
    for value in embed_steps(pipeline, observed, steps, starts=starts):
        if isinstance(value, EmbedResult):
            value = (value, observed_png(pipeline, observed), thumbnail_png(pipeline, value.latent, observed.part))
        yield value


class Embedding(TaskBarJob):
    embedded = Signal(str, object, bytes, bytes)
    """The file's name, its ``EmbedResult``, the file as a picture and its reconstruction (PNG)."""

    def __init__(self, tasks, parent=None) -> None:
        super().__init__(tasks, "embed", "embedding", parent)
        self.runner.progress.connect(self._on_progress)
        self.name = ""

    def start(self, pipeline, path, steps: int = 300, starts: int = 1) -> None:
        self.name = Path(path).name
        how = f" from its {starts} closest starts" if starts > 1 else ""
        self.tasks.start("embed", f"embedding {self.name}{how}", self.cancel).set_progress(0, steps)
        self.runner.start(_embed_job, pipeline, path, steps, starts)

    def _on_progress(self, value) -> None:
        if not isinstance(value, tuple):
            task = self.tasks.get("embed")
            if task is not None:
                task.set_progress(value.step, value.steps)
            return
        self.tasks.finish("embed")
        self.embedded.emit(self.name, *value)
