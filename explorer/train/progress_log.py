"""Training progress for a log nobody watches live (a file, ``nohup``, a cluster job).

A progress bar redraws one terminal line; written to a file it is either nothing (tqdm turns itself
off) or a heap of carriage returns. ``ProgressLog`` instead gives one plain, complete line every
``interval`` seconds: step, loss terms, speed, time left and the last save.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from explorer.io.progress import duration as _duration


def time_left(progress, rate: float | None) -> float | None:
    """Seconds left of a run going at ``rate`` steps per second now (None: not known yet): its
    ``work_left`` (steps of the kind run now: an L_LLE warm-up's cheaper steps are not taken for the
    rest) at that rate, or its time budget's ``seconds_left`` where that ends it sooner."""
    work = progress.work_left if progress.work_left is not None else progress.steps - progress.step
    left = work / rate if rate else None
    if progress.seconds_left is not None:  # a time budget ends the run first where it is shorter
        left = progress.seconds_left if left is None else min(left, progress.seconds_left)
    return left


class ProgressLog:
    """``line(progress)`` returns a line to print when ``interval`` seconds have passed since the last one."""

    def __init__(self, interval: float = 30.0, clock: Callable[[], float] = time.monotonic, start_step: int = 0) -> None:
        """Made as training starts, at ``start_step`` (a resumed run's step)."""
        self.interval = interval
        self.clock = clock
        self._last_time = clock()
        self._last_step = start_step
        self._saved: tuple[int, float] | None = None

    def line(self, progress) -> str | None:
        """``progress``: a ``TrainProgress`` (step, steps, losses, saved; seconds_left of a time budget; work_left,
        the steps left in steps of the kind run now, which the speed now divides)."""
        now = self.clock()
        if progress.saved:
            self._saved = (progress.step, now)
        if now - self._last_time < self.interval and progress.step < progress.steps:
            return None
        rate = (progress.step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_step, self._last_time = progress.step, now
        losses = "  ".join(f"{k} {v:.5f}" for k, v in progress.losses.items())
        left = time_left(progress, rate)
        eta = _duration(left) if left is not None else "?"
        saved = (f"last save step {self._saved[0]} ({_duration(now - self._saved[1])} ago)" if self._saved
                 else "not saved yet")
        return (f"step {progress.step}/{progress.steps}  {losses}  {rate:.2f} steps/s  ETA {eta}  {saved}")
