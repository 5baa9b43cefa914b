"""Long work in this project is a generator that yields its progress and can be stopped between
yields (cancel = stop iterating). ``run_to_end`` runs one to the end for callers that only want the result."""

from __future__ import annotations

from collections import deque
from typing import Iterable, TypeVar

T = TypeVar("T")


def run_to_end(steps: Iterable[T], what: str = "this work") -> T:
    """The last thing ``steps`` yields, after running it to the end; a ValueError if it yields nothing."""
    last = deque(steps, maxlen=1)
    if not last:
        raise ValueError(f"{what} made no step")
    return last[0]


def duration(seconds: float) -> str:
    """``75`` -> ``1m15s``, ``4000`` -> ``1h06m``."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class LogBar:
    """A progress bar's job for a log nobody watches live (stderr is a file, a pipe, ``nohup``).

    A terminal bar redraws one line; in a file tqdm turns itself off, and a long build piped to a log
    says nothing until it ends. This writes one plain, complete line every ``interval`` seconds and one
    when it ends (not when it fails: the error is then the one line to read): what, how far, how
    fast, time left. Work shorter than ``interval`` gets only the last line. It has the part of
    tqdm's interface the commands use (``update``, ``n``, ``refresh``, ``write``, ``set_postfix``,
    ``close``, ``with``).
    """

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it", file=None,
                 interval: float = 30.0, clock=None, initial: int = 0) -> None:
        import sys
        import time

        self.total, self.desc, self.unit = total, desc or "working", unit
        self.file = file if file is not None else sys.stderr
        self.interval = interval
        self.clock = clock or time.monotonic
        self.n = self._start_n = initial
        self._start = self._last = self.clock()
        self.postfix = ""
        self.closed = False

    def _say(self, line: str) -> None:
        print(line, file=self.file, flush=True)

    def _line(self, ending: bool) -> str:
        elapsed = self.clock() - self._start
        done = self.n - self._start_n
        rate = done / elapsed if elapsed > 0 else 0.0
        of = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        pct = f" ({100 * self.n / self.total:.0f} %)" if self.total else ""
        line = f"{self.desc}: {of} {self.unit}s{pct} in {duration(elapsed)}, {rate:.3g} {self.unit}/s"
        if not ending and self.total and rate > 0:
            line += f", about {duration((self.total - self.n) / rate)} left"
        return line + (f"  {self.postfix}" if self.postfix else "")

    def update(self, n: int = 1) -> None:
        self.n += n
        self.refresh()

    def refresh(self) -> None:
        if self.closed or (self.total and self.n >= self.total):  # the end has its own line, from close
            return
        if self.clock() - self._last >= self.interval:
            self._last = self.clock()
            self._say(self._line(ending=False))

    def set_postfix(self, values: dict, refresh: bool = True) -> None:
        self.postfix = "  ".join(f"{k} {v}" for k, v in values.items())

    def write(self, line: str, file=None) -> None:
        print(line, file=file or self.file, flush=True)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._say(self._line(ending=True))

    def __enter__(self) -> "LogBar":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:  # failed or stopped: no line that reads like an ending
            self.closed = True


def progress_bar(total: int | None = None, desc: str = "", unit: str = "it", file=None, **tqdm_options):
    """A tqdm bar where ``file`` (stderr by default) is a terminal, else a ``LogBar`` writing a line every 30 s."""
    import sys

    file = file if file is not None else sys.stderr
    if getattr(file, "isatty", lambda: False)():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc or None, unit=unit, file=file, **tqdm_options)
    return LogBar(total=total, desc=desc, unit=unit, file=file, initial=tqdm_options.get("initial", 0))
