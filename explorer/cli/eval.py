"""``latent-explorer eval``: reconstruction, completion, paths, hallucination, contact sheets."""
from __future__ import annotations

import argparse
import sys

from explorer.errors import ExplorerError
import io
import json
import shlex

from explorer.cli.common import (DEFAULT_STARTS, STARTS, STARTS_HELP, check_out_file, count, fmt_metrics, pipeline_for,
                                  show_build, speed_options)



def add_parser(sub) -> None:
    e = sub.add_parser("eval", help="reconstruction quality on training and held-out signals",
                       description="Train-set PSNR from the stored latents and held-out PSNR after test-time fitting.")
    e.add_argument("checkpoint", metavar="CKPT")
    e.add_argument("--data", metavar="SPEC", help="evaluate on data in another place: items the checkpoint was trained on are decoded, "
                   "the rest is held out (default: the checkpoint's own data, rebuilt into the cache if it was "
                   "made by 'data build')")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--max-items", type=count(1, 100_000), help="items per split (default 200; --sheet: 16)")
    e.add_argument("--fit-steps", type=count(1, 100_000), default=300, help="test-time fitting steps (default 300)")
    e.add_argument("--grid-items", type=count(0, 100_000), default=16,
                   help="shapes: items per split, spread over it, scored on a 64³ grid (IoU, Chamfer; default 16)")
    e.add_argument("--fit-loss", choices=["rec+lle", "rec"], default="rec+lle",
                   help="test-time fitting loss: GEM's L_rec + L_LLE (default; stays on the manifold) or L_rec alone")
    e.add_argument("--fit-init", choices=["best", "closest", "mean"], default="mean",
                   help="where each held-out fit starts: the training latent whose decode is closest to the item "
                        "(best), each of the --k closest, keeping the fit whose decode comes closest (closest; K "
                        "times the work), or the mean training latent (mean, the default)")
    speed_options(e)
    e.add_argument("--save", action="store_true", help="also record the result in the checkpoint's metrics (shown by info)")
    e.add_argument("--completion", metavar="MASK", choices=["left-half", "right-half", "top-half", "bottom-half", "centre"],
                   help="images: measure conditional completion on held-out images instead (hidden-part PSNR of GEM's "
                        "completions next to a nearest-neighbour baseline)")
    e.add_argument("--k", type=count(1, 64), default=4, help="--completion/--hallucination/--fit-init closest: fits per item (default 4)")
    e.add_argument("--starts", choices=list(STARTS), default=DEFAULT_STARTS,
                   help="--completion/--hallucination: " + STARTS_HELP)
    e.add_argument("--paths", type=count(1, 10_000), metavar="N",
                   help="compare straight and geodesic paths over N random pairs of training items: mean off-manifold "
                        "distance, interpolationMSE (to the nearest training signal), smoothness (RMS change between frames) "
                        "and, on sprites and superquadrics, the MSE to the true interpolation of the generating factors")
    e.add_argument("--sheet", metavar="PNG",
                   help="write a contact sheet instead: --max-items items spread over each split (16 by default) "
                        "above what the checkpoint makes of them (training items decoded, held-out items fitted; "
                        "sounds as spectrograms, shapes rendered)")
    e.add_argument("--hallucination", action="store_true",
                   help="audio-visual checkpoints on av-notes data: fit one part alone, decode the other, and count "
                        "how often the proposed partner matches (pitch of the sound, key in the picture)")
    e.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from explorer.models.checkpoint import load_checkpoint
    from explorer.core.device import resolve_device
    from explorer.data import load_dataset, reload_dataset
    from explorer.modalities import KNOWN, get_modality
    from explorer.train.evaluate import evaluate

    if args.sheet:
        if not args.sheet.lower().endswith(".png"):
            raise ExplorerError(f"--sheet {args.sheet}: a contact sheet is written as a .png file")
        check_out_file(args.sheet, "--sheet")
    ckpt = load_checkpoint(args.checkpoint)
    device = resolve_device(args.device)
    name = ckpt.modality["name"]
    plug = get_modality(name) if name in KNOWN else None  # an unknown one: load_dataset refuses it
    if args.data:
        res = plug.data_resolution(ckpt.modality) if plug else None  # pictures: read at their size
        # the checkpoint's own split by item name: its training items decoded, the rest fitted
        dataset = load_dataset(args.data, ckpt.modality["name"], resolution=res,
                               shell=ckpt.data.get("shell", 0.0)).split_like(ckpt.names)
    else:
        dataset = reload_dataset(ckpt.data, ckpt.modality["name"], consume=show_build)
    if args.sheet:
        from PIL import Image

        from explorer.io.atomic import atomic_write_bytes
        from explorer.core.contact_sheet import render_sheet, sheet_rows

        rows = sheet_rows(pipeline_for(ckpt, args), ckpt, dataset, args.max_items or 16, args.fit_steps)
        buf = io.BytesIO()
        Image.fromarray((render_sheet(rows) * 255).astype("uint8")).save(buf, format="PNG")
        atomic_write_bytes(args.sheet, buf.getvalue())
        print(f"wrote {args.sheet}: {len(rows)} rows", file=sys.stderr)
        return 0
    args.max_items = args.max_items or 200
    if (args.paths or args.completion) and dataset.is_test.all():
        raise ExplorerError(f"--{'paths' if args.paths else 'completion'} compares with the checkpoint's training "
                            "items, and none of them is in this data")
    if args.paths:
        from explorer.core.quality import compare_paths

        if "parts" in ckpt.modality:
            raise ExplorerError("--paths compares decoded frames of one field: not for audio-visual checkpoints")
        pipeline = pipeline_for(ckpt, args)
        signals, coords, truth = _path_references(ckpt, pipeline.plug.prepare(dataset))
        result = compare_paths(pipeline, signals, args.paths, coords=coords, truth=truth)
        key = "paths"
    elif args.hallucination:
        from explorer.core.hallucinate import match_rate

        if "parts" not in ckpt.modality or "key" not in ckpt.labels:
            raise ExplorerError("--hallucination is measured on audio-visual checkpoints of av-notes data")
        result = match_rate(pipeline_for(ckpt, args), dataset.test(), args.max_items, args.k, args.fit_steps,
                            args.starts)
        key = "hallucination"
    elif args.completion:
        from explorer.core.complete import completion_benchmark

        if plug is None or plug.mask_kind != "pixels":
            raise ExplorerError("--completion is measured on image checkpoints")
        result = completion_benchmark(pipeline_for(ckpt, args), dataset.train().values,
                                      dataset.test().values[: args.max_items], args.completion, args.k,
                                      args.fit_steps, args.starts)
        key = f"completion:{args.completion}"
    else:
        result = evaluate(ckpt, dataset, max_items=args.max_items, fit_steps=args.fit_steps, device=device,
                          fit_lle=args.fit_loss == "rec+lle", precision=args.precision, report=_EvalProgress(),
                          fit_init=args.fit_init, fit_k=args.k, grid_items=args.grid_items)
        key = "eval" if not args.data else f"eval:{args.data}"
    if args.save:
        from explorer.models.checkpoint import save_metrics

        save_metrics(ckpt, key, result | {"command": "latent-explorer " + shlex.join(argv)})
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{ckpt.path}")
        print("\n".join(fmt_metrics(result)))
    return 0


def _path_references(ckpt, dataset) -> tuple:
    """``(signals, coords, truth)`` for ``compare_paths``: the training signals where frames are compared
    (the grid; for shapes the sample points every item shares), and the ground truth where the
    data's factors are known (``explorer.data.factors``)."""
    import torch

    from explorer.data.factors import has_factors, truth_frames

    train = dataset.train()
    coords = None
    signals = train.values
    if train.coords is not None:  # point-sampled signals (shapes): compare at the shared points
        shared = train.comparable_points
        coords = torch.from_numpy(train.coords[0, :shared])
        signals = train.values[:, :shared]
    truth = None
    if has_factors(ckpt.data):
        res = tuple(ckpt.modality["resolution"])
        pts = None if coords is None else coords.numpy()
        truth = lambda a, b, frames: truth_frames(ckpt.data, ckpt.labels, a, b, frames, res, pts)  # noqa: E731
    return signals, coords, truth


class _EvalProgress:
    """``evaluate``'s progress on stderr: what it is doing, and a bar for the held-out fits."""

    WORDS = {"decoding": "decoding the training items", "fitting": "fitting the held-out items",
             "measuring": "measuring the held-out items"}

    def __init__(self) -> None:
        self.bar, self.stage = None, ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        from explorer.io.progress import progress_bar

        if self.bar is not None and (stage != self.stage or done >= total):
            self.bar.update(total - self.bar.n if stage == self.stage else 0)
            self.bar.close()
            self.bar = None
        if self.bar is None and done < total:
            unit = "step" if stage == "fitting" else "part"
            self.bar = progress_bar(total=total, desc=self.WORDS[stage], unit=unit)
            self.stage = stage
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
