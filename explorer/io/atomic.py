"""Write files so that a crash, a full disk or a permission error never leaves a partial file."""
from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from explorer.errors import ExplorerError


def check_writable(folder: str | Path, what: str) -> None:
    """Before any work: the deepest existing folder on the way to ``folder`` (which may not exist yet) must be a
    folder, and a file must be creatable there (tried with an unnamed temporary file: permission bits say
    nothing when running as root, a read-only or special filesystem such as /sys refuses only when asked).
    ``what`` starts the error (``"--out x.gif"``)."""
    place = Path(os.path.abspath(folder))
    while True:
        try:
            st = place.stat()
        except (FileNotFoundError, NotADirectoryError):
            if place.parent == place:
                raise ExplorerError(f"{what}: no folder on its way exists") from None
            place = place.parent
            continue
        except OSError as e:
            raise ExplorerError(f"{what}: cannot reach {place} ({e.strerror or e})") from None
        break
    if not stat.S_ISDIR(st.st_mode):
        raise ExplorerError(f"{what}: {place} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=place):
            pass
    except OSError as e:
        raise ExplorerError(f"{what}: cannot write in {place} ({e.strerror or e})") from None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a finished file gets the usual mode
        os.replace(tmp, path)
        tmp = None
        fsync_folder(folder)
    except OSError as e:
        raise ExplorerError(f"could not write {path}: {e.strerror or e}") from e
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit_new(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if no file has it: a hard link fails when the name is taken,
    where a rename would replace it (filesystems without hard links: a check, then a rename)."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        taken = True
    except OSError:
        taken = path.exists()
    if taken:
        raise ExplorerError(f"{path} appeared while this was being written (another export?); "
                            "it was kept: add --force to overwrite it")
    os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path, overwrite: bool = True):
    """A temporary file name beside ``path`` for writers that need a file name (ffmpeg); renamed over
    ``path`` when the block ends normally, removed when it raises (cancel, full disk, a crash).
    ``overwrite=False``: if ``path`` appeared meanwhile (a second writer), it is kept and this fails."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=folder)
        os.close(fd)
    except OSError as e:
        raise ExplorerError(f"could not write {path}: {e.strerror or e}") from e
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            _commit_new(tmp, path)
        fsync_folder(folder)
    except OSError as e:
        raise ExplorerError(f"could not write {path}: {e.strerror or e}") from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
