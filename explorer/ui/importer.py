"""File ▸ Import: another tool's trained model (a DeepSDF experiment folder) written as a checkpoint in a
worker, with Cancel in the task bar, then opened; ``imported`` brings the checkpoint's path and what to know."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog

from explorer.ui.workers import TaskBarJob


def _import_job(folder: str, out: str):
    from explorer.core.deepsdf_import import import_deepsdf
    from explorer.models.checkpoint import save_checkpoint

    done = import_deepsdf(folder, command=f"File ▸ Import ▸ DeepSDF experiment {folder}")
    save_checkpoint(done.checkpoint, out)
    return out, done.notes


class Importer(TaskBarJob):
    imported = Signal(str, list)
    """The checkpoint written, and notes (a split that was not found, say)."""

    def __init__(self, tasks, parent=None) -> None:
        super().__init__(tasks, "import", "import", parent)
        self.runner.finished.connect(self._done)

    def choose(self, parent, start: str) -> None:
        """Ask for the experiment folder, then where to write the checkpoint, and start."""
        folder = QFileDialog.getExistingDirectory(parent, "Import a DeepSDF experiment (the folder with specs.json)", start)
        if not folder:
            return
        suggested = str(Path(folder).with_suffix(".safetensors")) if Path(folder).name else "deepsdf.safetensors"
        out, _ = QFileDialog.getSaveFileName(parent, "Save the imported model as", suggested, "Checkpoints (*.safetensors)")
        if out:
            self.start(folder, out if out.endswith(".safetensors") else out + ".safetensors")

    def start(self, folder: str, out: str) -> None:
        self.tasks.start("import", f"importing {Path(folder).name}", self.cancel)
        self.runner.start(_import_job, folder, out)

    def _done(self, result) -> None:
        self.tasks.finish("import")
        self.imported.emit(*result)
