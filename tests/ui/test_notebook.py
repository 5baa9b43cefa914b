"""``explorer.show`` in a notebook: a real IPython kernel (ipykernel) with ``%gui qt``, driven as Jupyter drives
it. The call returns the window at once, and the kernel's Qt event loop, which runs while the kernel waits for
the next cell, opens the model and decodes the first item."""
from __future__ import annotations

import os

import pytest

from conftest import ROOT

CELL_SHOW = """
%gui qt
import numpy as np, torch, explorer

def blob(z, coords):  # (x, y) in [0, 1], the blob where z[:2] says
    c = coords if coords.ndim == 3 else coords[None]
    return (-((c - z[:, None, :2]) ** 2).sum(-1, keepdim=True) / 0.01).exp()

latents = np.random.default_rng(0).uniform(0.2, 0.8, (30, 2)).astype(np.float32)
w = explorer.show(latents, blob, "image", domain={"size": (24, 24), "coords": (0, 1), "order": "xy"})
w.sound.audio_out.unavailable = "no sound in tests"
print("returned", type(w).__name__)
"""

CELL_STATE = """print("state", w.ws.ckpt is not None and w.map.xy.shape == (30, 2) and w.preview.pixels is not None
      and float(w.preview.pixels.max()) > 0.8)"""


DEAFEN = """k = get_ipython().kernel
if hasattr(k, "_qt_notifier"):
    k._qt_notifier.activated.disconnect()
    print("deaf")"""


def run_cell(client, code: str) -> str:
    """Execute ``code`` in the kernel and return what it printed; a failing cell fails the test with its traceback."""
    out: list[str] = []

    def hook(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            out.append(content["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(content["traceback"]))

    reply = client.execute_interactive(code, timeout=120, output_hook=hook)
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


def ask_until(client, code: str, answer: str, tries: int, failure: str) -> None:
    """Run ``code`` cell after cell, the kernel's Qt loop running between them, until it prints ``answer``."""
    for _ in range(tries):
        if answer in run_cell(client, code):
            return
    pytest.fail(failure)


def test_show_from_a_notebook_kernel_returns_the_window_and_the_kernel_loop_drives_it():
    from jupyter_client.manager import start_new_kernel

    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6", "PYTHONPATH": str(ROOT)}
    manager, client = start_new_kernel(kernel_name="python3", env=env, startup_timeout=120)
    try:
        assert "returned MainWindow" in run_cell(client, CELL_SHOW)  # at once: the kernel is free for the next cell
        # ipykernel's own wake-up (a socket notifier) can miss a request that lands as it re-enters the Qt loop; the
        # window's watch must hand such a request to the kernel. Silence the notifier for good: every cell from here
        # on runs only because of that watch. (The notifier is made when the kernel first enters the Qt loop, which
        # it does between cells: ask until it has.)
        ask_until(client, DEAFEN, "deaf", 100, "the kernel never entered its Qt loop")
        # the kernel re-enters the Qt loop 1 ms after leaving it, even while a cell awaits on its asyncio loop (as
        # a request does whose handling took longer than that on a loaded machine): the watch must give it back
        assert "slept" in run_cell(client, "import asyncio\nawait asyncio.sleep(0.05)\nprint('slept')")
        # the model opens in a worker and the preview decodes on the kernel's Qt loop, between cells: ask until it has
        ask_until(client, CELL_STATE, "state True", 600, "the window never opened the model on the kernel's event loop")
        assert "closed" in run_cell(client, "w.shutdown(); w.close(); print('closed')")
        assert "alive 2" in run_cell(client, "print('alive', 1 + 1)")  # closing the window leaves the kernel running
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
