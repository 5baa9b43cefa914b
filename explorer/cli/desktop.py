"""``latent-explorer desktop-install`` / ``desktop-uninstall``: the app in the desktop's menus.

The freedesktop files are written where the specifications say (``$XDG_DATA_HOME`` or ``~/.local/share``
for ``--user``, ``/usr/local/share`` for ``--system``): the desktop entry, whose ``Exec`` is this very
launcher (a venv, pipx or a bundle alike), the icon in every hicolor size and as SVG, the checkpoint MIME
type (a ``.safetensors`` file whose header carries this project's metadata) and the AppStream metainfo.
The caches are then refreshed with ``update-mime-database`` and ``update-desktop-database`` where they
are installed, and for ``--user`` ``xdg-mime`` makes the app the default for checkpoints, so a double-click
opens one. Each file is written to a temporary name and renamed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from explorer.errors import ExplorerError

MIME_FILE = "latent-explorer.xml"


def add_parser(sub) -> None:
    for name, helps in (("desktop-install", "put the app in the desktop's menus and make it open checkpoints"),
                        ("desktop-uninstall", "remove what desktop-install put in place")):
        d = sub.add_parser(name, help=helps, description=helps + ".")
        where = d.add_mutually_exclusive_group()
        where.add_argument("--user", dest="system", action="store_false", help="for this user (the default)")
        where.add_argument("--system", dest="system", action="store_true",
                           help="for every user, under /usr/local/share (needs root)")
        d.set_defaults(func=run, system=False)


def data_home(system: bool) -> Path:
    if system:
        return Path("/usr/local/share")
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher() -> list[str]:
    """The command that starts this installation of the app, for the desktop entry's ``Exec``."""
    me = Path(sys.argv[0])
    if me.name == "latent-explorer" and me.exists():
        return [str(me.resolve())]
    if getattr(sys, "frozen", False):  # a PyInstaller bundle
        return [str(Path(sys.executable).resolve())]
    found = shutil.which("latent-explorer")
    return [found] if found else [str(Path(sys.executable).resolve()), "-m", "explorer"]


def exec_line(command: list[str]) -> str:
    """``command`` and ``%f`` as the desktop entry specification quotes them: an argument with a space or a
    reserved character in double quotes, with double quotes, backquotes, dollars and backslashes escaped."""
    def quote(arg: str) -> str:
        if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
            return arg
        return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'

    return " ".join(quote(a) for a in command) + " %f"


def installed_files(base: Path) -> dict[Path, bytes]:
    """Every file desktop-install writes under ``base``, with its content."""
    from explorer.resources import APP_ID, ICON_SIZES, resource

    entry = resource(f"{APP_ID}.desktop").read_text().replace("Exec=latent-explorer %f", f"Exec={exec_line(launcher())}")
    out = {
        base / "applications" / f"{APP_ID}.desktop": entry.encode(),
        base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": resource("latent-explorer.svg").read_bytes(),
        base / "mime" / "packages" / MIME_FILE: resource("latent-explorer-mime.xml").read_bytes(),
        base / "metainfo" / f"{APP_ID}.metainfo.xml": resource(f"{APP_ID}.metainfo.xml").read_bytes(),
    }
    for size in ICON_SIZES:
        out[base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = \
            resource(f"icons/{size}x{size}/latent-explorer.png").read_bytes()
    return out


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.io.atomic import atomic_write_bytes
    from explorer.resources import APP_ID, MIME_TYPE

    base = data_home(args.system)
    files = installed_files(base)
    if args.command == "desktop-install":
        for path, content in files.items():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ExplorerError(f"cannot create {path.parent}: {e.strerror or e}"
                                    + (" (--system needs root)" if args.system else "")) from e
            atomic_write_bytes(path, content)
            print(f"wrote {path}")
    else:
        for path in files:
            if path.exists():
                path.unlink()
                print(f"removed {path}")
    _refresh(base)
    if args.command == "desktop-install" and not args.system:
        _tool(["xdg-mime", "default", f"{APP_ID}.desktop", MIME_TYPE], "made the default for checkpoints")
    verb = "installed" if args.command == "desktop-install" else "uninstalled"
    print(f"latent-explorer {verb} for {'every user' if args.system else 'this user'} under {base}")
    return 0


def _refresh(base: Path) -> None:
    _tool(["update-mime-database", str(base / "mime")], "MIME database updated")
    _tool(["update-desktop-database", str(base / "applications")], "desktop database updated")
    _tool(["gtk-update-icon-cache", "-f", "-t", str(base / "icons" / "hicolor")], "icon cache updated")


def _tool(command: list[str], done: str) -> None:
    """Run a freedesktop tool where it is installed; its absence or failure is a note, not an error."""
    if shutil.which(command[0]) is None:
        return
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"note: {command[0]} did not run ({e})", file=sys.stderr)
        return
    if proc.returncode == 0:
        print(done)
    else:
        last = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()[-1]
        print(f"note: {command[0]} failed: {last}", file=sys.stderr)
