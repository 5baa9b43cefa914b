"""The desktop app (PySide6, pyqtgraph, vispy, sounddevice). Nothing outside this package imports Qt."""
