"""The self-contained bundle that ``packaging/bundle.sh`` builds with PyInstaller: built as a user would build it,
unpacked from its ``.tar.gz`` into a folder of its own, and opened there with an empty environment (no PATH, no
Python, no venv, no repository) on the example checkpoint it carries, under Xvfb where there is one."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, run_packaging


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    """The bundle, built, its build folder removed, and unpacked from its archive alone."""
    import PyInstaller  # noqa: F401  (the test extra installs it: CI builds the bundle)

    out = tmp_path_factory.mktemp("bundle")
    run_packaging("bundle.sh", out, timeout=1800)
    (tarball,) = out.glob("latent-explorer-*-linux-x86_64.tar.gz")
    assert not list(out.glob("*.part"))
    shutil.rmtree(out / "latent-explorer")  # what runs below comes from the archive alone
    where = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["tar", "-C", str(where), "-xzf", str(tarball)], check=True, timeout=600)
    tarball.unlink()
    return where / "latent-explorer"


def _bare(bundle: Path, home: Path, *args: str, display: bool = False) -> subprocess.CompletedProcess:
    """``latent-explorer ARGS`` from the bundle with nothing from this environment but a display."""
    home.mkdir(exist_ok=True)
    command = [str(bundle / "latent-explorer"), *args]
    if display and shutil.which("xvfb-run"):  # the X11 (xcb) platform, as on a desktop
        # xvfb-run needs PATH to start Xvfb; the app gets only the display it made
        command = ["xvfb-run", "-a", "sh", "-c", 'exec env -i HOME="$1" DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" '
                   '"$2" "$3" "$4"', "sh", str(home), *command]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        env = {"HOME": str(home)} | ({"QT_QPA_PLATFORM": "offscreen"} if display else {})
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=home, timeout=300)


def test_the_bundle_is_trimmed_and_carries_the_examples(unpacked):
    internal = unpacked / "_internal"
    assert (internal / "torch" / "lib" / "libtorch_cpu.so").is_file()
    assert not (internal / "torch" / "test").exists()
    assert [p.name for p in (internal / "torch" / "bin").iterdir()] == ["torch_shm_manager"]  # importing torch needs it
    assert not (internal / "IPython").exists() and not (internal / "pytest").exists()
    shipped = sorted(p.name for p in (ROOT / "checkpoints").glob("*.safetensors"))
    assert sorted(p.name for p in (internal / "checkpoints").glob("*.safetensors")) == shipped


def test_the_unpacked_bundle_answers_and_opens_its_example_with_an_empty_environment(unpacked, tmp_path):
    version = _bare(unpacked, tmp_path / "home", "--version")
    assert version.returncode == 0, version.stderr[-2000:]
    lines = version.stdout.splitlines()
    assert lines[0].startswith("latent-explorer 0.") and any(line.startswith("Qt 6.") for line in lines)
    assert any(line.startswith("torch ") and "device cpu" in line for line in lines)

    shot = tmp_path / "home" / "shot.png"
    proc = _bare(unpacked, tmp_path / "home", "--screenshot", str(shot), display=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500 and pixels.std() > 20  # a drawn window, not a blank
    # the map's points are drawn in their labels' colours: many distinct saturated hues, which no blank or
    # grey window has
    saturated = pixels[(pixels.max(-1) - pixels.min(-1)) > 60]
    hues = {tuple(c) for c in (saturated // 32).astype(int)}
    assert len(saturated) > 500 and len(hues) >= 6, (len(saturated), len(hues))
