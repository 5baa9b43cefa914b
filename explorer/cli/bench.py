"""``latent-explorer bench``: the performance budget measured on this machine."""
from __future__ import annotations

import argparse
import json
import sys




def add_parser(sub) -> None:
    bn = sub.add_parser("bench", help="time the interactions of the performance budget on this machine",
                        description="Decode, mesh, graph, geodesic and t-SNE timings (medians) next to their budgets "
                                    "from DESIGN.md, for the shipped checkpoints. Informational: never fails on speed.")
    bn.add_argument("--json", action="store_true", help="machine-readable output")
    bn.add_argument("--quick", action="store_true", help="few repeats and small sizes (seconds; for smoke tests)")
    bn.add_argument("--only", metavar="PARTS", type=_parts,
                    help="comma-separated parts to run (default all): " + ", ".join(_groups()))
    bn.set_defaults(func=run)


def _groups() -> tuple[str, ...]:
    from explorer.io.timing import GROUPS

    return GROUPS


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in parts if p not in _groups()]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"unknown part {', '.join(unknown) or repr(text)}; choose from {', '.join(_groups())}")
    return parts


def run(args: argparse.Namespace, argv: list[str]) -> int:
    import dataclasses
    import os

    import torch

    from explorer.core.bench import run_bench
    from explorer.core.device import resolve_device

    device = resolve_device("auto")
    header = (f"latent-explorer bench{' --quick' if args.quick else ''}: {device.type}, "
              f"{torch.get_num_threads()} torch threads, {os.cpu_count()} cores, torch {torch.__version__}")
    if not args.json:
        print(header, flush=True)
    report = (lambda r: None) if args.json else (lambda r: print(r.line(), flush=True))
    results = run_bench(args.quick, report=report, only=args.only)
    try:  # the map is the app's: measured only where its libraries are installed
        if args.only is not None and "app" not in args.only:
            raise _Skip
        from explorer.io.timing import BenchResult
        from explorer.ui.bench_map import large_open_ms, map_frame_ms, startup_ms

        ms = startup_ms(1 if args.quick else 3)
        results.append(BenchResult("app start to a usable map (default checkpoint)", ms, 1 if args.quick else 3,
                                   3000, "a fresh interpreter: imports, window, checkpoint, PCA map drawn"))
        report(results[-1])

        for n, fps in ((10_000, 30),) if args.quick else ((100_000, 60), (1_000_000, 30)):
            ms, detail = map_frame_ms(n, frames=6 if args.quick else 30)
            results.append(BenchResult(f"map pan/zoom frame, {n} points", ms, 6 if args.quick else 30, 1000 / fps,
                                       f"{1000 / ms:.0f} fps; {detail}"))
            report(results[-1])
        n = 60_000 if args.quick else 1_000_000
        ms, mib = large_open_ms(n)
        results.append(BenchResult(f"app open to a usable map, {n} latents", ms, 1, 10_000 if n == 1_000_000 else None,
                                   f"plain .npy of clustered 64-D latents, a fresh interpreter; peak {mib:.0f} MiB; "
                                   "the k-NN graph follows in the background"))
        report(results[-1])
    except _Skip:
        pass
    except ImportError as e:
        print(f"(map frame time not measured: {e})", file=sys.stderr)
    if args.json:
        print(json.dumps({"machine": header, "results": [dataclasses.asdict(r) for r in results]}, indent=2))
    return 0


class _Skip(Exception):
    """The app's part was left out with --only."""
