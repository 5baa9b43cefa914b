"""The 3-D panel needs OpenGL: these tests start their own Xvfb and run the window on it."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, open_in

needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None,
                                reason="Debian package xvfb is not installed (scripts/bootstrap.sh installs it)")


@pytest.fixture(scope="module")
def xvfb():
    """A private X server; yields its DISPLAY."""
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        display = f.readline().strip()
    yield f":{display}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def shape_checkpoint():
    """The shipped shape checkpoint (a real trained field: tiny test models do not yet cross zero)."""
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.shipped import shipped_checkpoints

    for path in shipped_checkpoints():
        if load_checkpoint(path).modality["name"] == "shape":
            return path
    pytest.fail("no shape checkpoint is shipped in checkpoints/")


SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from explorer.ui.main_window import MainWindow
    w = MainWindow(); w.pca_action.setChecked(True); w.resize(1000, 700); w.show()
    done = []
    w.preview_ready.connect(lambda: done.append(1))
    w.open_checkpoint(sys.argv[1])
    while not done:
        app.processEvents()
    p = w.preview
    out = {"panel": type(p).__name__, "faces": int(len(p.faces)), "error": w.panel.mesh_error}
    if len(p.vertices):
        out["extent"] = float(np.abs(p.vertices).max())
        cam = p.view.camera  # the first camera shows the whole shape: its bounding sphere fits the view
        out["fits"] = bool(cam.distance * np.sin(np.radians(cam.fov / 2)) >= np.linalg.norm(p.vertices, axis=1).max())
        first = (cam.distance, cam.azimuth, cam.elevation)
        cam.azimuth, cam.distance = 120.0, 0.5  # the user turns and zooms in
        p.reset_button.click()
        out["reset"] = (cam.distance, cam.azimuth, cam.elevation) == first
    p.iso.setValue(40)  # a larger level: a fatter surface, re-meshed without decoding
    out["faces_at_level"] = int(len(p.faces))
    out["level"] = p.level()
    for _ in range(20):
        app.processEvents()
    img = p.canvas.render()  # what the GL view shows, RGBA
    out["non_white"] = float((img[..., :3] < 240).any(-1).mean())
    w.grab().save(sys.argv[2])
    print("RESULT:" + json.dumps(out))
    w.shutdown()
""")


@needs_xvfb
def test_mesh_panel_renders_a_lit_mesh_and_remeshes_at_the_iso_level(tmp_path, xvfb, shape_checkpoint):
    script = tmp_path / "mesh.py"
    script.write_text(SCRIPT)
    env = os.environ | {"DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    proc = subprocess.run([sys.executable, str(script), str(shape_checkpoint), str(tmp_path / "shot.png")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.split("RESULT:")[-1])
    assert out["panel"] == "MeshPreview" and out["error"] == ""
    assert out["faces"] > 100 and out["extent"] <= 1.0  # a real mesh, inside the unit cube
    assert out["fits"] and out["reset"]  # the whole shape in the first view, and Reset view brings it back
    assert out["faces_at_level"] != out["faces"] and abs(out["level"] - 0.08) < 1e-9
    assert out["non_white"] > 0.02  # the GL view draws the shaded mesh
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_without_opengl_the_shape_panel_says_why(qtbot, shape_checkpoint):
    from explorer.ui.main_window import MainWindow

    w = MainWindow()  # the test session runs on Qt's offscreen platform: no OpenGL
    qtbot.addWidget(w)
    w.show()
    assert open_in(qtbot, w, shape_checkpoint)
    assert w.panel.mesh_preview is None and "needs OpenGL" in w.last_error and "\\n" not in w.last_error
    assert w.map.xy.shape[0] == w.ws.ckpt.n_items  # the map works all the same
    w.shutdown()
