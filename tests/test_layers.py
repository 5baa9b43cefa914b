"""The import contract of pyproject.toml: layers point one way and only the app imports Qt."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_point_one_way_and_only_the_app_imports_qt():
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


def test_a_script_opens_a_checkpoint_and_decodes_without_qt(tmp_path):
    """The engine is usable from a script or notebook with no Qt imported."""
    code = """
import sys
from explorer.core.session import Session
from explorer.core.shipped import DEFAULT_CHECKPOINT
s = Session.open(DEFAULT_CHECKPOINT)
s.drag(3, 42, method="geodesic")
frames = s.frames_signal()
qt = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "vispy", "sounddevice")]
print(tuple(frames.shape), qt)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shape, qt = proc.stdout.strip().rsplit(" [", 1)
    assert shape.startswith("(64, 28, 28") and qt == "]"  # 64 frames by default
