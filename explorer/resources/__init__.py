"""The app's icon, desktop entry, MIME type and AppStream metadata: package data, found where the package is
installed (a wheel, a bundle or the repository alike). ``packaging/make_icons.py`` renders the PNG sizes."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

APP_ID = "io.github.latentexplorer.LatentExplorer"
"""The reverse-DNS name of the desktop entry, the AppStream component and the installed icon."""
MIME_TYPE = "application/x-latent-explorer-checkpoint"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def resource(name: str) -> Path:
    """The path of a file of this package (``"latent-explorer.svg"``, ``"icons/48x48/latent-explorer.png"``)."""
    return Path(str(files(__name__).joinpath(name)))
