"""What several commands share: speed options, the decode pipeline, build progress, metric lines."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from explorer.errors import ExplorerError
from explorer.io.atomic import check_writable

STARTS, DEFAULT_STARTS = ("nearest", "random", "closest"), "closest"
"""``train.fitting.STARTS`` and ``DEFAULT_STARTS``, spelled out so that parsing a command line does not import torch."""
STARTS_HELP = ("starts of the K fits: the training latents whose decodes are closest to what is given, the closest "
               "first (closest, the default), the training latents nearest to a first fit (nearest), or random "
               "training latents (random)")
DEVICES = ["auto", "cpu", "cuda"]


def count(lo: int, hi: int):
    """An argparse type: a whole number from ``lo`` to ``hi``, so that 0 frames or a billion steps are
    refused at once, in one line, rather than failing (or running for ever) later."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range: give {lo} to {hi}")
        return value

    parse.__name__ = "count"
    return parse


def number(lo: float, hi: float, lo_open: bool = False):
    """An argparse type: a finite number from ``lo`` (excluded when ``lo_open``) to ``hi``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (lo < value if lo_open else lo <= value) or not value <= hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {'more than ' if lo_open else ''}{lo:g} to {hi:g}")
        return value

    parse.__name__ = "number"
    return parse


def seed_option(p: argparse.ArgumentParser, help: str | None = None, default: int | None = 0) -> None:
    """--seed: a whole number from 0 to 2³²-1 (numpy refuses negative seeds deep inside a build)."""
    p.add_argument("--seed", type=count(0, 2**32 - 1), default=default, help=help)


def check_out_file(path: str, flag: str = "--out") -> Path:
    """Before any work: ``path`` names a file (not a folder) in a folder that exists or can be made and
    can be written in, so that a run of minutes does not end in 'could not write'."""
    out = Path(path)
    if out.is_dir():
        raise ExplorerError(f"{flag} {path} is a folder; give a file name")
    check_writable(out.parent, f"{flag} {path}")
    return out


def check_out_folder(path: str, flag: str = "--out") -> Path:
    """Before any work: ``path`` is a folder that exists or can be made, in a place that can be written."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ExplorerError(f"{flag} {path} is a file, not a folder; choose a new folder")
    check_writable(out, f"{flag} {path}")
    return out


def speed_options(p: argparse.ArgumentParser, compile_default: str = "off") -> None:
    """--device, --precision, --compile and --threads: where and how fast the fields run (core.device,
    models.precision, models.compiled)."""
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="number format of the fields: bf16 (mixed precision: float32 weights, latents and losses) "
                        "where the CPU has avx512_bf16/AMX or the GPU supports it, else fp32 (default auto)")
    p.add_argument("--compile", choices=["auto", "on", "off"], default=compile_default,
                   help="torch.compile the fields where a C++ compiler (CPU) or Triton (CUDA) is present; the first "
                        "run compiles (seconds to a minute), later runs load the cached kernels; "
                        + ("auto compiles runs long enough to win that back" if compile_default == "auto"
                           else "worth it for long decodes") + f" (default {compile_default})")
    p.add_argument("--threads", type=count(1, 1024), metavar="N", help="CPU threads (default: OMP_NUM_THREADS, else every core)")


def pipeline_for(ckpt, args: argparse.Namespace):
    """The decode pipeline a command asked for (device, precision, compilation), its notes said once."""
    from explorer.core.pipeline import DecodePipeline

    pipeline = DecodePipeline(ckpt, device=args.device, precision=args.precision, compile=args.compile)
    if pipeline.compiled:
        print(f"compiled the decoder in {pipeline.warm_up():.1f} s", file=sys.stderr)
    for note in pipeline.notes:
        print(note, file=sys.stderr)
    return pipeline


def show_build(progress, unit: str, total: int | None) -> int:
    """Run a dataset build with a progress bar on stderr (``explorer.data.build``)."""
    from explorer.io.progress import progress_bar, run_to_end

    def counted(bar):
        with bar:
            for step in progress:
                bar.update(1)
                yield step

    return run_to_end(counted(progress_bar(total=total, desc="building", unit=unit)), "the build")


def fmt_metrics(m: dict, indent: str = "  ") -> list[str]:
    """Nested metric dicts as indented lines; a dict of plain values on one line."""
    lines = []
    for key, vals in m.items():
        if isinstance(vals, dict) and any(isinstance(v, dict) for v in vals.values()):
            lines.append(f"{indent}{key}:")
            lines += fmt_metrics(vals, indent + "  ")
        elif isinstance(vals, dict):
            parts = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in vals.items())
            lines.append(f"{indent}{key}: {parts}")
        else:
            lines.append(f"{indent}{key}: {vals}")
    return lines


def set_threads(n: int | None) -> None:
    """Every core by default (OMP_NUM_THREADS, where set, says otherwise); ``--threads N`` sets it."""
    import torch

    if n is None:
        if os.environ.get("OMP_NUM_THREADS"):
            return  # torch already follows it
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n < 1:
        raise ExplorerError(f"--threads must be at least 1, got {n}")
    torch.set_num_threads(n)


def k_fits_options(p: argparse.ArgumentParser, what: str) -> None:
    """What ``complete`` and ``hallucinate`` share: K fits from different starts, written into a folder."""
    p.add_argument("--k", type=count(1, 64), default=4, help=f"{what} (default 4)")
    p.add_argument("--starts", choices=list(STARTS), default=DEFAULT_STARTS, help=STARTS_HELP)
    p.add_argument("--steps", type=count(1, 100_000), default=300)
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    speed_options(p)
