"""Typed reading of untrusted JSON values (checkpoint metadata, workspace files, settings).

Each reader returns the value when it has the expected type and range, and otherwise raises an
``ExplorerError`` whose one line names the field, what it must be and what it is. ``bool`` is not an
integer here, and floats must be finite.
"""
from __future__ import annotations

import math

from explorer.errors import ExplorerError


def show(value, limit: int = 40) -> str:
    """A short picture of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def need_int(value, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ExplorerError(f"{field} must be an integer from {lo} to {hi}, not {show(value)}")
    return value


def need_float(value, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
        raise ExplorerError(f"{field} must be a number from {lo:g} to {hi:g}, not {show(value)}")
    return float(value)


def need_str(value, field: str, choices: tuple[str, ...] | None = None, max_len: int = 10_000) -> str:
    if not isinstance(value, str) or len(value) > max_len:
        raise ExplorerError(f"{field} must be a text, not {show(value)}")
    if choices is not None and value not in choices:
        raise ExplorerError(f"{field} must be one of {', '.join(choices)}, not {show(value)}")
    return value


def need_dict(value, field: str, optional: bool = False) -> dict:
    """A JSON object; ``optional``: None (or a missing key) reads as ``{}``."""
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise ExplorerError(f"{field} must be a JSON object, not {show(value)}")
    return value


def need_list(value, field: str, max_len: int, length: int | None = None) -> list:
    if not isinstance(value, list) or len(value) > max_len:
        raise ExplorerError(f"{field} must be a list of at most {max_len} values, not {show(value)}")
    if length is not None and len(value) != length:
        raise ExplorerError(f"{field} has {len(value)} values, not {length}")
    return value


def need_key(data: dict, key: str, field: str):
    if key not in data:
        raise ExplorerError(f"{field} lacks {key!r}")
    return data[key]


def nesting_depth(value, limit: int) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar: 0), counting no further than ``limit + 1``."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            break
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest
