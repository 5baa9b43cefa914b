"""``torch.compile`` for the fields: when it is used, where its artefacts are cached, what it cost.

Inductor turns a field's chain of small element-wise operations (sine, bias, modulation, the
hypernetwork's ``W_s ⊙ sigmoid(A·B)``) into a few fused loops, forward and backward. On a CPU it
needs a working C++ compiler; on CUDA it needs Triton. Its compiled artefacts go to one cache
folder per user (``$XDG_CACHE_HOME/latent-explorer/torch-compile``, or ``TORCHINDUCTOR_CACHE_DIR``
where that is set), so a second run of ``train`` or the app loads them instead of compiling again.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from explorer.io.cache import user_cache
from explorer.errors import ExplorerError

COMPILE_MODES = ("auto", "on", "off")


def cache_dir() -> Path:
    """Where compiled kernels are kept between runs."""
    if os.environ.get("TORCHINDUCTOR_CACHE_DIR"):
        return Path(os.environ["TORCHINDUCTOR_CACHE_DIR"])
    return user_cache("torch-compile")


def why_not_compiled(device: torch.device | str) -> str | None:
    """None where ``torch.compile`` can run on ``device``; otherwise what is missing, in a few words."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError:
            return "Triton is not installed"
        return None
    if device.type != "cpu":
        return f"no compiler back end for {device.type}"
    compiler = os.environ.get("CXX") or "g++"
    if not (shutil.which(compiler) or shutil.which("c++") or shutil.which("clang++")):
        return "no C++ compiler (install g++)"
    return None


def resolve_compile(mode: str, device: torch.device | str) -> tuple[bool, str | None]:
    """``auto|on|off`` -> (compile?, a one-line note when ``auto`` falls back to eager)."""
    if mode not in COMPILE_MODES:
        raise ExplorerError(f"unknown compile mode {mode!r}; use {', '.join(COMPILE_MODES)}")
    if mode == "off":
        return False, None
    missing = why_not_compiled(device)
    if missing is None:
        return True, None
    if mode == "on":
        raise ExplorerError(f"--compile on: torch.compile cannot run here: {missing}; use --compile off")
    return False, f"running uncompiled: {missing}"


GRAPHS_PER_COMPILE = 8
"""Graphs torch may keep for a compiled function, for each ``compile_fn`` call of this process (torch's own
limit is 8 in all). Every checkpoint opened in a session compiles the same ``forward`` again, two to four
graphs for each new set of shapes, and torch keeps them after the checkpoint is closed: at a fixed limit the
checkpoint that reached it decoded uncompiled while it said it was compiled (the fourth at 8)."""

_compiles = 0


def compile_fn(fn, dynamic: bool | None = None):
    """``torch.compile(fn)`` with the kernels cached in ``cache_dir()``, and room for its graphs: torch's
    limits on graphs per function grow by ``GRAPHS_PER_COMPILE`` with every call."""
    global _compiles
    if not os.environ.get("TORCHINDUCTOR_CACHE_DIR"):  # inductor reads (and sets) this variable itself
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_dir())
    import torch._dynamo  # after the variable: importing it fixes inductor's cache folder

    _compiles += 1
    config = torch._dynamo.config
    config.recompile_limit = max(config.recompile_limit, GRAPHS_PER_COMPILE * _compiles)
    config.accumulated_recompile_limit = max(config.accumulated_recompile_limit, 4 * config.recompile_limit)
    return torch.compile(fn, dynamic=dynamic)


def no_silent_fallback():
    """A context in which a compiled function that reaches torch's graph limit raises instead of running
    uncompiled without a word (``warm_up`` then says the decoder is uncompiled)."""
    import torch._dynamo

    return torch._dynamo.config.patch(fail_on_recompile_limit_hit=True)


def failure_reason(error: BaseException) -> str:
    """The first line of a compiler failure, short enough for one line of a message."""
    return (str(error).strip().splitlines() or [error.__class__.__name__])[0][:200]
