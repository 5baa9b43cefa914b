"""The app's settings (QSettings), read defensively.

A settings file Qt cannot parse is set aside (renamed ``*.damaged.conf``) and defaults are used; a value
of the wrong type or out of range (a hand-edited file, another version) is removed and its default used.
Either way ``notes`` says what happened, once, and the app starts.
"""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings


class Settings:
    def __init__(self) -> None:
        self.qt = QSettings("latent-explorer", "latent-explorer")
        self.notes: list[str] = []
        """What was wrong with the settings, for the user (the window shows them once)."""
        if self.qt.status() != QSettings.Status.NoError:
            path = Path(self.qt.fileName())
            aside = path.with_suffix(".damaged.conf")
            try:
                path.replace(aside)
                self.notes.append(f"the settings file was damaged; it is kept as {aside} and defaults are used")
            except OSError as e:
                self.notes.append(f"the settings file {path} is damaged and could not be set aside ({e.strerror})")
            self.qt = QSettings("latent-explorer", "latent-explorer")

    # --- QSettings' own interface, for values written and read as they are -----------------------
    def value(self, key: str, default=None):
        return self.qt.value(key, default)

    def setValue(self, key: str, value) -> None:  # noqa: N802 (Qt's name)
        self.qt.setValue(key, value)

    # --- typed reads -----------------------------------------------------------------------------
    def _bad(self, key: str) -> None:
        self.qt.remove(key)
        self.notes.append(f"the setting {key!r} was unreadable and is back to its default")

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        raw = self.qt.value(key, default)
        try:
            v = float(raw)
        except (TypeError, ValueError):
            v = math.nan
        if not (math.isfinite(v) and lo <= v <= hi):
            self._bad(key)
            return default
        return v

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        v = self.number(key, default, lo, hi)
        return int(v) if v == int(v) else default

    def text(self, key: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        raw = self.qt.value(key, default)
        if not isinstance(raw, str) or (choices is not None and raw not in choices):
            self._bad(key)
            return default
        return raw

    def texts(self, key: str) -> list[str]:
        """A list of texts (Qt stores a one-entry list as a plain text)."""
        raw = self.qt.value(key, [])
        raw = [raw] if isinstance(raw, str) else (raw or [])
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            self._bad(key)
            return []
        return raw

    def blob(self, key: str) -> QByteArray | None:
        """Saved window geometry or state: bytes, or None when absent or of another type."""
        raw = self.qt.value(key)
        if raw is None:
            return None
        if isinstance(raw, (QByteArray, bytes, bytearray)):
            return QByteArray(raw)
        self._bad(key)
        return None
