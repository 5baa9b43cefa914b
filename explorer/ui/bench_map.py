"""Pan and zoom frame time of the latent map with many points (for ``latent-explorer bench``)."""
from __future__ import annotations

import os
import time

import numpy as np


def map_frame_ms(n: int = 100_000, frames: int = 30, classes: int = 10, edges: bool = True) -> tuple[float, str]:
    """Median milliseconds to pan or zoom and repaint a map of ``n`` points (k-NN edges shown when ``edges``)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    from PySide6.QtWidgets import QApplication

    from explorer.ui.map_view import MapView
    from explorer.ui.palette import label_colours

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(classes, 2)) * 6
    labels = rng.integers(classes, size=n)
    xy = centres[labels] + rng.normal(size=(n, 2))
    view = MapView()
    view.resize(900, 700)
    view.show()
    rgb, _ = label_colours([f"class {c}" for c in labels])
    view.set_points(xy, rgb)
    detail = f"{n} points"
    if edges:
        from explorer.core.graph import knn_graph

        graph = knn_graph(xy.astype(np.float32), 10)
        view.set_edges(*graph.edges())
        view.set_edges_visible(True)
        detail += f", {len(graph.edges()[0])} k-NN edges (up to 12 000 drawn)"
    app.processEvents()
    times = []
    for i in range(frames):
        t = time.perf_counter()
        if i % 2:
            view._box.translateBy(x=0.3, y=0.1)
        else:
            view._box.scaleBy((0.97, 0.97) if i % 4 == 0 else (1 / 0.97, 1 / 0.97))
        view.viewport().repaint()
        app.processEvents()
        times.append((time.perf_counter() - t) * 1000)
    view.close()
    platform = app.platformName()
    return float(np.median(times)), f"{detail}; {platform} platform"


STARTUP_SCRIPT = """
import time, sys
t0 = time.perf_counter()
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication
app = QApplication([])
from explorer.ui.main_window import MainWindow
from explorer.core.shipped import DEFAULT_CHECKPOINT
w = MainWindow(); w.show()
w.compile_in_background = False  # measured: the map, not the decoder's compilation after it
ready = []
loop = QEventLoop()  # idle in Qt's loop as the app does (a loop of processEvents would take the worker's GIL)
w.map_ready.connect(lambda: (ready.append(time.perf_counter()), loop.quit()))
w.open_checkpoint(DEFAULT_CHECKPOINT)
if not ready:
    loop.exec()
app.processEvents()
print(f"{(ready[0] - t0) * 1000:.1f}")
w.shutdown()
"""


LARGE_OPEN_SCRIPT = """
import resource, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication
app = QApplication([])
from explorer.ui.main_window import MainWindow
w = MainWindow(); w.show()
w.compile_in_background = False
w.pca_action.setChecked(True)  # the map usable at once; t-SNE of a million points is a background job
ready = []
loop = QEventLoop()
w.map_ready.connect(lambda: (ready.append(time.perf_counter()), loop.quit()))
w.open_checkpoint(sys.argv[1])
if not ready:
    loop.exec()
app.processEvents()
print(f"{(ready[0] - t0) * 1000:.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
w.shutdown()
"""


def large_open_ms(n: int) -> tuple[float, float]:
    """Milliseconds from a fresh interpreter's start to the map drawn of ``n`` clustered 64-D latents opened as
    plain embeddings (``.npy``), and the peak resident MiB by then; the k-NN graph is built after, in the
    background."""
    import subprocess
    import sys
    import tempfile

    from explorer.core.bench import clustered_latents

    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not env.get("DISPLAY") else "xcb")
    with tempfile.TemporaryDirectory(prefix="latent-explorer-bench-") as folder:
        path = f"{folder}/latents.npy"
        np.save(path, clustered_latents(n))
        out = subprocess.run([sys.executable, "-c", LARGE_OPEN_SCRIPT, path], capture_output=True, text=True,
                             env=env | {"XDG_CACHE_HOME": folder, "XDG_CONFIG_HOME": folder}, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "the app did not open it")
    ms, mib = out.stdout.strip().splitlines()[-1].split()
    return float(ms), float(mib)


def startup_ms(repeats: int = 3) -> float:
    """Median milliseconds from the start of a fresh interpreter's script to the default checkpoint's
    map drawn (imports, window, checkpoint, PCA map)."""
    import subprocess
    import sys

    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not env.get("DISPLAY") else "xcb")
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "the app did not start")
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return float(np.median(times))
