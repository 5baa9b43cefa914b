"""Large folders: every file decoded once, by worker processes, into one memory-mapped array in the cache.

A folder of 100 000 pictures at 64 x 64 is 4.9 GB of float32 field values: more than a laptop keeps
in memory beside the app, and an auto-decoder visits each item thousands of times, so decoding the
files again for every batch would cost more than the training. Instead the folder is indexed (paths,
sizes, modification times), its files are decoded in parallel straight into the rows of a ``.npy``
file, and training reads batches from that file through the page cache (``np.load(mmap_mode="c")``:
nothing is copied into the process until a row is read, and pages are let go under pressure).

The cache is keyed by the index and by what the files were decoded to, written under a temporary
name and renamed when complete, and built by one process at a time (a lock file): the ranks of a
``torchrun`` job wait for the first one's array instead of decoding the folder N times.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError

STREAM_FROM_BYTES = 1 << 30
"""A folder whose decoded values would exceed this many bytes is decoded into the cache and memory-mapped."""
CHUNK = 256
"""Files per worker task: large enough to amortise the hand-over, small enough for steady progress."""


def folder_key(paths: list[Path], what: str) -> str:
    """The cache's name for these files decoded as ``what``: any file added, removed or changed makes a new one."""
    h = hashlib.sha256(what.encode())
    for p in paths:
        st = p.stat()
        h.update(f"\0{p.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def decode_to_cache(paths: list[Path], decode: Callable[[Path], np.ndarray], item_shape: tuple[int, ...],
                    what: str, progress: Callable[[int, int], None] | None = None,
                    workers: int | None = None) -> np.ndarray:
    """``[N, *item_shape]`` float32, row i decoded from ``paths[i]`` by ``decode`` (a module-level function, or
    a ``functools.partial`` of one: it runs in worker processes). Read from the cache when these files were
    decoded as ``what`` before. ``progress(done, total)`` is called as files finish. A file that fails to
    decode stops the build with its ``ExplorerError``; the partial file is removed."""
    from explorer.io.cache import user_cache

    final = user_cache("decoded", folder_key(paths, what) + ".npy")
    out = cached_array(final, (len(paths), *item_shape), lambda tmp: _decode_into(tmp, paths, decode, progress, workers))
    if progress is not None:
        progress(len(paths), len(paths))
    return out


def derived_array(source: Path, what: str, shape: tuple[int, ...], fill: Callable[[np.ndarray], None]) -> np.ndarray:
    """``[*shape]`` float32 computed from a cached array (``source``) by ``fill(out)``, itself cached beside it
    under a key of the source's name and ``what`` (``cached_array``)."""
    def build(tmp: Path) -> None:
        out = np.load(tmp, mmap_mode="r+")
        fill(out)
        out.flush()

    key = hashlib.sha256(f"{source.name}\0{what}".encode()).hexdigest()[:32]
    return cached_array(source.with_name(f"{key}.npy"), shape, build)


def cached_array(final: Path, shape: tuple[int, ...], build: Callable[[Path], None]) -> np.ndarray:
    """The float32 ``.npy`` array ``final`` of ``shape``, memory-mapped copy-on-write; made first, where it is
    missing, by ``build(tmp)`` writing into a temporary ``.npy`` of that shape (already allocated on disk in
    full, so that a full disk is this one-line error, not a SIGBUS of whoever writes into the mapping later),
    which is renamed when complete. One process at a time builds it (a lock file); the others wait and read
    it; a partial file left by a build that was killed is removed."""
    import fcntl

    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for stale in final.parent.glob(f"{final.stem}.partial-*.npy"):  # a build that was killed: ours to redo
            stale.unlink(missing_ok=True)
        if _read(final, shape) is None:
            tmp = final.with_name(f"{final.stem}.partial-{os.getpid()}.npy")
            try:
                try:
                    np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape).flush()
                    with open(tmp, "r+b") as f:
                        os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
                except OSError as e:
                    raise ExplorerError(f"cannot write {np.prod(shape) * 4 / 1e9:.1f} GB to {final.parent}: "
                                        f"{e.strerror or e}") from e
                build(tmp)
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
    out = _read(final, shape)
    if out is None:
        raise ExplorerError(f"the array in {final} cannot be read back")
    return out


def _read(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        arr = np.load(path, mmap_mode="c")  # copy-on-write: writable for torch.from_numpy, the file never changes
    except (OSError, ValueError):
        return None
    return arr if arr.shape == shape and arr.dtype == np.float32 else None


def _decode_into(tmp: Path, paths: list[Path], decode, progress, workers: int | None) -> None:
    """Every file's row of the array ``tmp``: in this process for a few files, else by worker processes."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    chunks = [(start, paths[start:start + CHUNK]) for start in range(0, len(paths), CHUNK)]
    bar = None
    if progress is None:  # the command line's: a bar on a terminal, a line every 30 s in a log
        from explorer.io.progress import progress_bar

        bar = progress_bar(total=len(paths), desc="decoding files", unit="file")
        progress = lambda n, total: bar.update(n - bar.n)  # noqa: E731
    try:
        if len(chunks) == 1:  # a few files: no processes to start
            progress(_decode_rows(tmp, 0, paths, decode), len(paths))
            return
        done = 0
        workers = max(1, min(workers or os.cpu_count() or 1, len(chunks)))
        # spawn: workers start clean (no copy of a parent's torch threads), and import only what decoding needs
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending = {pool.submit(_decode_rows, tmp, start, chunk, decode) for start, chunk in chunks}
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        try:
                            done += f.result()  # a worker's ExplorerError is raised here
                        except BrokenProcessPool as e:
                            raise ExplorerError(f"a process decoding the files stopped unexpectedly ({e})") from e
                    progress(done, len(paths))
            except BaseException:  # a bad file, Ctrl-C: stop the other workers too
                for f in pending:
                    f.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()


def _decode_rows(tmp: Path, start: int, chunk: list[Path], decode) -> int:
    """In a worker: decode ``chunk`` into rows ``start...`` of the array being built."""
    out = np.load(tmp, mmap_mode="r+")
    for i, path in enumerate(chunk):
        out[start + i] = decode(path)
    out.flush()
    return len(chunk)
