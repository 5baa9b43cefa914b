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
