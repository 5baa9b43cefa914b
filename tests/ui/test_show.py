"""``explorer.show``: the app on a person's own latents and decoder, from Python."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from conftest import ROOT
from test_main_window import drag


def blob(z, coords):
    """A decoder in its own conventions: (x, y) in [0, 1], values in [0, 1], the blob where z[:2] says."""
    c = coords if coords.ndim == 3 else coords[None]
    return (-((c - z[:, None, :2]) ** 2).sum(-1, keepdim=True) / 0.01).exp()


def test_show_opens_the_window_on_the_arrays_and_a_drag_decodes_with_the_decoder(qtbot):
    import explorer

    rng = np.random.default_rng(0)
    latents = rng.uniform(0.2, 0.8, (40, 2)).astype(np.float32)
    labels = ["left" if x < 0.5 else "right" for x in latents[:, 0]]
    w = explorer.show(latents, blob, "image", labels={"side": labels}, names=[f"blob {i}" for i in range(40)],
                      domain={"size": (24, 40), "coords": (0, 1), "order": "xy"}, block=False)  # H x W
    w.pca_action.setChecked(True)  # before the worker has opened it; the t-SNE map has its own test
    qtbot.addWidget(w)
    w.resize(1100, 700)
    qtbot.waitExposed(w)
    w.sound.audio_out.unavailable = "no sound in tests"
    with qtbot.waitSignals([w.opened, w.preview_ready], timeout=60_000):
        pass  # opened in a worker, then the map drawn and the first item decoded
    assert w.ws.ckpt is not None and "from Python" in w.windowTitle() and "40 latents" in w.windowTitle()
    assert w.map.xy.shape == (40, 2) and "left" in w.legend.text()
    a, b = int(np.argmin(latents[:, 0])), int(np.argmax(latents[:, 0]))
    with qtbot.waitSignals([w.path_ready, w.preview_ready], order="strict", timeout=60_000):
        drag(w.map, a, b)
    def blob_at():
        picture = w.preview.pixels[..., 0]
        row, col = np.unravel_index(np.argmax(picture), picture.shape)
        return np.array([(col + 0.5) / picture.shape[1], (row + 0.5) / picture.shape[0]])

    assert np.abs(blob_at() - latents[a]).max() < 0.06  # the path's start: item a, decoded by the decoder given
    with qtbot.waitSignal(w.preview_ready, timeout=60_000):
        w.timeline.set_position(0.5)
    assert np.abs(blob_at() - (latents[a] + latents[b]) / 2).max() < 0.06  # half way: between them
    # a picture wider than tall is offered at its own aspect, width x height, and decoded so
    menu = w.preview.resolution
    assert [menu.itemText(i) for i in range(3)] == ["40 x 24 (trained)", "80 x 48", "160 x 96"]
    with qtbot.waitSignal(w.preview_ready, timeout=60_000):
        menu.setCurrentIndex(1)
    assert w.preview.pixels.shape[:2] == (48, 80)
    assert np.abs(blob_at() - (latents[a] + latents[b]) / 2).max() < 0.06
    w.shutdown()
    w.close()


SCRIPT = textwrap.dedent("""
    import numpy as np, torch
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import explorer
    from explorer.ui.main_window import MainWindow

    app = QApplication([])
    def close_when_open():  # a person looks, then closes the window
        for w in app.topLevelWidgets():
            if isinstance(w, MainWindow) and w.ws.ckpt is not None:
                w.close()
                return
        QTimer.singleShot(100, close_when_open)
    QTimer.singleShot(100, close_when_open)
    dec = torch.nn.Linear(2, 3)
    f = lambda z, c: torch.sigmoid(dec(c if c.ndim == 3 else c[None].expand(len(z), -1, -1)) + z[:, None, :3])
    result = explorer.show(np.random.default_rng(0).normal(size=(12, 3)), f, "image", domain={"size": 16})
    print("returned", result)
""")


def test_show_blocks_until_the_window_is_closed(tmp_path):
    script = tmp_path / "show.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
                               "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    assert "returned None" in proc.stdout
