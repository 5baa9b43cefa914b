"""What reaches users: the wheels and sdist that packaging/build.sh makes, installed away from the repository,
and the desktop entry, icons, MIME type and AppStream metadata that desktop-install puts in place."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, run_cli, run_packaging

APP_ID = "io.github.latentexplorer.LatentExplorer"


def test_version_names_the_torch_build_its_device_and_qt():
    lines = run_cli("--version").stdout.splitlines()
    assert lines[0].startswith("latent-explorer 0.")
    assert any(line.startswith("torch ") and "device " in line for line in lines)
    assert any(line.startswith("Qt 6.") and "PySide6" in line for line in lines)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None or shutil.which("appstreamcli") is None,
                    reason="Debian packages desktop-file-utils and appstream (scripts/bootstrap.sh installs them)")
def test_desktop_install_puts_valid_freedesktop_files_in_place_and_uninstall_takes_them_away(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    out = run_cli("desktop-install", "--user", env=env).stdout
    data = tmp_path / "data"
    entry = data / "applications" / f"{APP_ID}.desktop"
    assert f"wrote {entry}" in out
    for tool in (["desktop-file-validate", str(entry)],
                 ["appstreamcli", "validate", "--no-net", str(data / "metainfo" / f"{APP_ID}.metainfo.xml")]):
        check = subprocess.run(tool, capture_output=True, text=True)
        assert check.returncode == 0 and "error" not in check.stdout.lower(), check.stdout + check.stderr
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    launcher = exec_line[len("Exec="):].rsplit(" %f", 1)[0].split(" -m explorer")[0]
    assert Path(launcher).is_file() and os.access(launcher, os.X_OK)  # this installation's own launcher
    for size in ("16x16", "48x48", "256x256", "scalable"):
        assert list((data / "icons" / "hicolor" / size / "apps").glob(f"{APP_ID}.*"))
    # the MIME database knows checkpoints (by name and by their header) and the app opens them
    if shutil.which("update-mime-database"):
        assert "application/x-latent-explorer-checkpoint" in (data / "mime" / "globs2").read_text()
        assert b"latent_explorer" in (data / "mime" / "magic").read_bytes()
    if shutil.which("xdg-mime"):
        assert f"application/x-latent-explorer-checkpoint={APP_ID}.desktop" in \
            (tmp_path / "config" / "mimeapps.list").read_text()
    run_cli("desktop-uninstall", env=env)
    assert not entry.exists() and not list(data.rglob(f"{APP_ID}.*"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run_packaging("build.sh", out, timeout=600)
    return out


def _install(wheels: list[Path], target: Path) -> dict:
    """The wheels installed into a folder of their own; the environment that runs them from there."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), *map(str, wheels)], check=True, capture_output=True, timeout=300)
    return os.environ | {"PYTHONPATH": str(target), "QT_QPA_PLATFORM": "offscreen"}


def test_the_wheel_carries_its_resources_and_runs_installed_with_the_examples_wheel(built, tmp_path):
    app = next(built.glob("latent_explorer-*.whl"))
    examples = next(built.glob("latent_explorer_examples-*.whl"))
    assert next(built.glob("latent_explorer-*.tar.gz"))
    names = zipfile.ZipFile(app).namelist()
    assert f"explorer/resources/{APP_ID}.desktop" in names and "explorer/resources/icons/48x48/latent-explorer.png" in names
    assert not any(n.endswith(".safetensors") for n in names)  # the app's wheel stays small
    assert app.stat().st_size < 2_000_000
    shipped = sorted(p.name for p in (ROOT / "checkpoints").glob("*.safetensors"))
    assert sorted(Path(n).name for n in zipfile.ZipFile(examples).namelist() if n.endswith(".safetensors")) == shipped

    env = _install([app, examples], tmp_path / "site")
    where = subprocess.run([sys.executable, "-c", "import explorer, explorer.core.shipped as s; "
                            "print(explorer.__file__); print(s.DEFAULT_CHECKPOINT)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout.split()
    assert all(w.startswith(str(tmp_path / "site")) for w in where)  # nothing comes from the repository
    version = subprocess.run([str(tmp_path / "site" / "bin" / "latent-explorer"), "--version"], capture_output=True,
                             text=True, env=env, cwd=tmp_path, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("latent-explorer 0.")
    shot = tmp_path / "shot.png"
    proc = subprocess.run([str(tmp_path / "site" / "bin" / "latent-explorer"), "--screenshot", str(shot)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500 and pixels.std() > 20  # a drawn window, not a blank

    # without the examples: the window opens and says what to install
    env = _install([app], tmp_path / "bare")
    proc = subprocess.run([str(tmp_path / "bare" / "bin" / "latent-explorer"), "--screenshot", str(tmp_path / "b.png")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 1 and (tmp_path / "b.png").exists()
