"""``latent-explorer complete``: K completions of the hidden part of a file."""
from __future__ import annotations

import argparse
import sys


from explorer.cli.common import check_out_folder, k_fits_options, pipeline_for



def add_parser(sub) -> None:
    cp = sub.add_parser("complete", help="fill in the hidden part of a signal, K ways",
                        description="Hide part of FILE with MASK and fit K latents on the visible part from different "
                                    "starts (GEM 4.4); write the K completions into DIR.")
    cp.add_argument("checkpoint", metavar="CKPT")
    cp.add_argument("file", metavar="FILE")
    cp.add_argument("--mask", required=True, metavar="MASK",
                    help="images: an image, white where hidden, or left-half|right-half|top-half|bottom-half|centre; "
                         "sounds: START:END in seconds; shapes: a half-space such as x>0")
    k_fits_options(cp, "completions")
    cp.set_defaults(func=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from pathlib import Path

    from explorer.core.open_any import open_model
    from explorer.core.complete import complete
    from explorer.core.embed import read_signal
    from explorer.data.folders import require_empty_folder

    out = require_empty_folder(args.out)
    check_out_folder(args.out)
    ckpt = open_model(args.checkpoint)
    pipeline = pipeline_for(ckpt, args)
    observed = read_signal(pipeline, args.file)
    plug = pipeline.parts[observed.part]
    res = pipeline.resolution(observed.part)
    coords = observed.coords.numpy().reshape(-1, observed.coords.shape[-1])
    hidden = plug.hidden_mask(args.mask, res, coords)
    z = complete(pipeline, observed.values, observed.coords, hidden, args.k, args.steps, part=observed.part,
                 starts=args.starts)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(args.file).stem
    for j, zj in enumerate(z):
        signal = pipeline.signal(zj[None], part=observed.part)[0]
        plug.write(out / f"{stem}-completion-{j}{plug.file_suffix}", signal)
    seen = plug.visible_part(observed.values[0], hidden, res)  # what the manifold saw
    if seen is not None:
        plug.write(out / f"{stem}-visible{plug.file_suffix}", seen)
    print(f"wrote {args.k} completions of {args.file} to {out}", file=sys.stderr)
    return 0
