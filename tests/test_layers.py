"""The engine stays Qt-free (DESIGN.md, STYLE.md 1): importing it loads no GUI, 3-D or audio-device library."""
import subprocess
import sys

from conftest import ROOT

FORBIDDEN = ("PySide6", "pyqtgraph", "vispy", "sounddevice")


def test_core_packages_import_no_gui_modules():
    code = (
        "import sys, pkgutil, importlib, explorer\n"
        "for pkg in ('explorer.core', 'explorer.models', 'explorer.modalities', 'explorer.data', 'explorer.train'):\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "import explorer.cli\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    commands = [line.strip() for line in readme.split("```")[1].strip().splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["bash scripts/bootstrap.sh app", "bash scripts/bootstrap.sh test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def test_every_subcommand_has_help():
    for cmd in ([], ["train"], ["info"], ["eval"], ["bench"], ["data"]):
        proc = subprocess.run([sys.executable, "-m", "explorer", *cmd, "--help"], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0 and "usage: latent-explorer" in proc.stdout


def test_the_app_without_a_display_says_so_in_one_line():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "explorer"], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)
    assert proc.returncode == 1 and proc.stderr.strip().startswith("latent-explorer: error: no display")
    assert len(proc.stderr.strip().splitlines()) == 1
