import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared helpers of tests/conftest.py

import importlib.util  # noqa: E402

import pytest  # noqa: E402

# the shared helpers of tests/conftest.py, for "from conftest import ..." in these tests
_spec = importlib.util.spec_from_file_location("_shared_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)
# every helper, so that "from conftest import X" means the same whichever conftest Python finds first
globals().update({k: v for k, v in vars(_shared).items() if not k.startswith("_") and k not in globals()
                  and not hasattr(v, "_pytestfixturefunction") and not getattr(v, "_fixture_function_marker", None)})


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Each test gets its own settings, recent files and projection cache."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):  # Qt caches XDG_CONFIG_HOME
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))
    # the decoder is compiled in the background by default; only the test of that pays for it
    QSettings("latent-explorer", "latent-explorer").setValue("decoder/compile", "off")


@pytest.fixture
def window(qtbot):
    """The main window on the shipped default checkpoint, its PCA map drawn, its preview decoded and its k-NN
    graph built (10 000 latents: after the map, in the background)."""
    from explorer.core.shipped import DEFAULT_CHECKPOINT
    from explorer.ui.main_window import MainWindow

    w = MainWindow()
    w.pca_action.setChecked(True)  # the t-SNE map has its own test
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignals([w.preview_ready, w.map_tasks.graph_ready], timeout=60_000):
        assert _shared.open_in(qtbot, w, DEFAULT_CHECKPOINT)
    yield w
    w.shutdown()


@pytest.fixture(autouse=True)
def _no_window_left_open(qapp):
    """A test that leaves a window or dialog open fails (as napari's leaked-widget check): a user would
    see it stay. Tooltips and popup menus, which Qt keeps for reuse, do not count."""
    from PySide6.QtCore import Qt

    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    qapp.processEvents()
    passing = (Qt.WindowType.ToolTip, Qt.WindowType.Popup)
    left = [w for w in qapp.topLevelWidgets()
            if id(w) not in before and w.isVisible() and w.windowType() not in passing]
    names = [f"{type(w).__name__} {w.windowTitle()!r}" for w in left]
    for w in left:
        w.close()
    assert not left, f"left open after the test: {', '.join(names)}"

